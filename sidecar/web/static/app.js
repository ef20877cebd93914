/* Booknetic SMS Campaigns — page behaviour, shared part. Plain JS, no libraries, no inline
   code (CSP). Every URL goes through the relay: RELAY + encoded sidecar path (see README,
   relay contract). Every write sends JSON with the page's CSRF token and WordPress nonce.

   This file: the API call, toasts, the SMS counter, form errors, and keyboard focus (modal
   dialogs, re-rendering part of a page in place, focus after a navigation). The pages'
   own code is in campaigns.js and pages.js, which register in BkntcSms.pages; the page's
   <body data-page> picks one when the document is ready. */
(function () {
  "use strict";

  const meta = (name) => (document.querySelector('meta[name="' + name + '"]') || {}).content || "";
  const RELAY = meta("bkntc-relay");
  const CSRF = meta("bkntc-csrf");
  const WP_NONCE = meta("bkntc-wp-nonce");
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  function url(path) {
    return RELAY + encodeURIComponent(path).replace(/%2F/g, "/");
  }

  class ApiError extends Error {
    constructor(status, error) {
      super((error && error.message) || "Request failed (" + status + ")");
      this.status = status;
      this.fields = (error && error.fields) || {};
      this.code = error && error.code;
      this.invalid = (error && error.invalid) || [];
    }
  }

  // POSTs that only read (safe to send twice).
  const READ_ONLY_POSTS = new Set(["/api/v1/segments/preview"]);

  async function api(method, path, data) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") {
      headers["X-Bkntc-Csrf"] = CSRF;
      headers["X-WP-Nonce"] = WP_NONCE;
    }
    const init = { method: method, headers: headers, credentials: "same-origin" };
    if (data !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(data);
    }
    let response = null;
    try {
      response = await fetch(url(path), init);
    } catch (err) {
      // A request that changes nothing is tried once more when the connection failed before
      // any answer: a keep-alive connection the server closed while idle fails the next
      // request sent on it, and browsers retry only GETs on their own.
      if (method === "GET" || READ_ONLY_POSTS.has(path)) {
        try { response = await fetch(url(path), init); } catch (again) { response = null; }
      }
      if (response === null) {
        throw new ApiError(0, { message: "Cannot reach the server. Check your connection and try again." });
      }
    }
    if (response.status === 204) return null;
    let payload = null;
    try { payload = await response.json(); } catch (err) { payload = null; }
    if (!response.ok) {
      throw new ApiError(response.status, payload && payload.error ? payload.error
        : { message: "The server answered " + response.status + ". If this persists, check the SMS sidecar (bkntc-sms check)." });
    }
    return payload;
  }

  // The toast is a polite live region that stays in the page; the text is set a moment
  // after clearing it, so the same message twice is announced twice.
  let toastTimer = null;
  function toast(message, isError) {
    const el = $("#toast");
    if (!el) return;
    clearTimeout(toastTimer);
    el.textContent = "";
    el.classList.remove("shown");
    el.classList.toggle("error", !!isError);
    toastTimer = setTimeout(() => {
      el.textContent = message;
      el.classList.add("shown");
      toastTimer = setTimeout(() => el.classList.remove("shown"), isError ? 8000 : 4000);
    }, 50);
  }

  /* ---------------------------------------------------------------- focus */
  const FOCUS_HINT = "bkntcSmsFocus";
  const FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]";

  function shown(el) {
    return !!el && el.isConnected && el.getClientRects().length > 0;
  }

  // The controls Tab reaches inside `root`, in order.
  function tabbable(root) {
    return $$(FOCUSABLE, root).filter((el) => !el.disabled && el.tabIndex >= 0 && shown(el));
  }

  // Focus `el` (a heading or region gets tabindex=-1 for it); true when it took focus.
  function focusOn(el) {
    if (!shown(el)) return false;
    if (!el.matches(FOCUSABLE)) el.setAttribute("tabindex", "-1");
    el.focus();
    return document.activeElement === el;
  }

  function focusFirst(selectors) {
    return selectors.some((sel) => focusOn($(sel)));
  }

  // Where focus is, described so that the same control (or its neighbour) can be found
  // again after the markup around it is replaced.
  function focusKey(el) {
    if (!el || el === document.body || el === document.documentElement) return null;
    const row = el.closest("tr[data-id]");
    const sibling = (r) => (r && r.dataset.id) || null;
    return { id: el.id || null, action: el.dataset.action || null,
             row: row ? row.dataset.id : null,
             next: row ? sibling(row.nextElementSibling) : null,
             prev: row ? sibling(row.previousElementSibling) : null };
  }

  // What to focus instead of an action that is gone from its row (Pause after pausing).
  const COUNTERPART = { pause: ["resume", "progress"], resume: ["pause", "progress"],
                        send: ["progress", "pause"], copy: ["edit"] };

  // Put focus back on what `key` described; else the same action in the same row, its
  // counterpart, the row's first control, the next row's, the previous row's; else the
  // first of `fallbacks` (selectors), else the page's heading. Never on <body>.
  function restoreFocus(key, fallbacks) {
    const at = document.activeElement;
    if (at && at !== document.body && shown(at)) return;
    if (key && key.id && focusOn(document.getElementById(key.id))) return;
    if (key && key.row) {
      const rowEl = (id) => id && $('tr[data-id="' + id + '"]');
      const inRow = (r, actions) => actions.some((a) => focusOn($('[data-action="' + a + '"]', r)));
      const same = rowEl(key.row);
      const actions = key.action ? [key.action].concat(COUNTERPART[key.action] || []) : [];
      if (same && (inRow(same, actions) || focusOn(tabbable(same)[0]))) return;
      for (const other of [rowEl(key.next), rowEl(key.prev)]) {
        if (other && (inRow(other, key.action ? [key.action] : []) || focusOn(tabbable(other)[0]))) return;
      }
    }
    if (focusFirst(fallbacks || [])) return;
    focusOn($("main h1")) || focusOn($("main"));
  }

  // Re-render the `selectors` parts of the page in place from a fresh copy of the same
  // address (the server's templates stay the one source of markup), instead of reloading:
  // focus stays where it was, or goes to the nearest sensible control (restoreFocus).
  async function refreshRegions(selectors, key, fallbacks) {
    key = key === undefined ? focusKey(document.activeElement) : key;
    let response;
    try {
      response = await fetch(window.location.href,
                             { credentials: "same-origin", headers: { Accept: "text/html" } });
    } catch (err) {
      throw new ApiError(0, { message: "Cannot reach the server. Check your connection and try again." });
    }
    if (!response.ok) throw new ApiError(response.status, null);
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    selectors.forEach((sel) => {
      const now = $(sel), next = fresh.querySelector(sel);
      if (now && next) now.replaceWith(document.adoptNode(next));
    });
    document.dispatchEvent(new CustomEvent("bkntc:rendered"));
    restoreFocus(key, fallbacks);
  }

  // Go to another page; there, focus the first of `focusSelectors` that exists (kept in
  // sessionStorage for the next document of this frame only).
  function go(path, focusSelectors) {
    if (focusSelectors) {
      try { sessionStorage.setItem(FOCUS_HINT, JSON.stringify(focusSelectors)); } catch (err) { /* private mode */ }
    }
    window.location.href = url(path);
  }

  function applyFocusHint() {
    let hint = null;
    try {
      hint = JSON.parse(sessionStorage.getItem(FOCUS_HINT) || "null");
      sessionStorage.removeItem(FOCUS_HINT);
    } catch (err) { hint = null; }
    if (Array.isArray(hint)) focusFirst(hint);
  }

  // A native modal <dialog> that keeps focus. showModal() makes the rest of this document
  // inert, but from the first or last control Tab would leave the frame for the outer
  // (WordPress) page, so those hand focus round. Escape closes it (the browser's cancel).
  // On close, focus goes back to the control that opened it: `onClose(key)` gets the
  // opener's focusKey, may re-render the page first, and may answer a better key.
  // Inside Booknetic's page the iframe is as tall as our page, so a dialog centred in it can
  // sit below the fold of the window: scroll the embedding page (same origin) to show it.
  function revealInParent(dialog) {
    let frame = null;
    try { frame = window.frameElement; } catch (err) { return; }
    if (!frame || !dialog.open) return;
    const outer = frame.ownerDocument.defaultView;
    const box = dialog.getBoundingClientRect(), at = frame.getBoundingClientRect();
    const top = at.top + box.top, bottom = at.top + box.bottom;
    if (top >= 0 && bottom <= outer.innerHeight) return;
    outer.scrollBy(0, top - Math.max(16, (outer.innerHeight - box.height) / 2));
  }

  function modal(dialog, onClose) {
    let opener = null;
    dialog.addEventListener("keydown", (event) => {
      if (event.key !== "Tab") return;
      const items = tabbable(dialog);
      if (!items.length) { event.preventDefault(); return; }
      const at = items.indexOf(document.activeElement);
      if (event.shiftKey && at <= 0) { event.preventDefault(); items[items.length - 1].focus(); }
      else if (!event.shiftKey && (at === -1 || at === items.length - 1)) { event.preventDefault(); items[0].focus(); }
    });
    dialog.addEventListener("close", () => {
      const key = focusKey(opener);
      opener = null;
      Promise.resolve(onClose ? onClose(key) : null)
        .catch((err) => { toast(err.message, true); return null; })
        .then((better) => restoreFocus(better || key));
    });
    return {
      open(initial, from) {
        if (!dialog.open) {
          opener = from || document.activeElement;
          dialog.showModal();
        }
        focusOn(initial) || focusOn(tabbable(dialog)[0]);
        revealInParent(dialog);
      },
      close() { if (dialog.open) dialog.close(); },
      get isOpen() { return dialog.open; },
    };
  }

  // Run `work` for a form's submit once at a time. The button stays enabled (a disabled
  // button drops focus to <body>); it is marked busy and a second submit is ignored.
  async function submitOnce(form, button, work) {
    if (form.dataset.busy) return;
    form.dataset.busy = "1";
    if (button) button.setAttribute("aria-busy", "true");
    try {
      await work();
    } finally {
      delete form.dataset.busy;
      if (button) button.removeAttribute("aria-busy");
    }
  }

  // Tell an embedding Booknetic page how tall we are (the bridge resizes the iframe).
  // An open dialog counts too: the iframe is only as tall as the page, and a dialog taller
  // than a short page (one campaign in the list) would be cut off, its buttons out of reach.
  function reportHeight() {
    if (window.parent === window) return;
    const height = Math.max(document.documentElement.scrollHeight,
                            ...$$("dialog[open]").map((d) => d.scrollHeight + 64));
    window.parent.postMessage({ bkntcSmsHeight: height }, window.location.origin);
  }

  /* ---------------------------------------------------------------- SMS counter */
  // Mirrors sidecar/sms_text.py count_segments(); the character tables come from the server.
  function makeCounter(tables) {
    const basic = new Set(Array.from(tables.basic));
    const extension = new Set(Array.from(tables.extension));
    return function count(text) {
      const chars = Array.from(text);
      const ucs2 = [];
      for (const c of chars) {
        if (!basic.has(c) && !extension.has(c) && ucs2.indexOf(c) < 0) ucs2.push(c);
      }
      let encoding, costs, single, multi;
      if (ucs2.length) {
        encoding = "UCS-2"; single = 70; multi = 67;
        costs = chars.map((c) => (c.codePointAt(0) > 0xffff ? 2 : 1));
      } else {
        encoding = "GSM-7"; single = 160; multi = 153;
        costs = chars.map((c) => (extension.has(c) ? 2 : 1));
      }
      const units = costs.reduce((a, b) => a + b, 0);
      let segments = 0;
      if (units > 0 && units <= single) segments = 1;
      else if (units > single) {
        segments = 1; let used = 0;
        for (const cost of costs) {
          if (used + cost > multi) { segments += 1; used = 0; }
          used += cost;
        }
      }
      return { encoding: encoding, units: units, segments: segments, ucs2: ucs2,
               perSegment: units <= single ? single : multi };
    };
  }


  /* ---------------------------------------------------------------- times */
  // Mirrors sidecar/zones.py format_time(): "2 Dec 2026, 14:32 (America/Chicago)", in the
  // business's timezone (the page's meta: its name, and its UTC offset now for a browser
  // that does not know the name), or in `options.zone`; `options.date === false` leaves
  // out the date. A fixed offset is named like "UTC+05:30".
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const ZONE_META = document.querySelector('meta[name="bkntc-timezone"]');
  const ZONE = (ZONE_META && ZONE_META.content) || "UTC";
  const ZONE_OFFSET = ZONE_META ? Number(ZONE_META.dataset.offset || 0) : 0;
  const FIXED_OFFSET = /^UTC([+-])(\d\d):(\d\d)$/;

  function wallClock(epoch, zone, fallbackOffset) {
    const fixed = FIXED_OFFSET.exec(zone);
    let offset = zone === "UTC" ? 0 : null;
    if (fixed) offset = (fixed[1] === "-" ? -1 : 1) * (Number(fixed[2]) * 3600 + Number(fixed[3]) * 60);
    if (offset === null) {
      try {
        const parts = {};
        new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric",
          month: "numeric", day: "numeric", hour: "numeric", minute: "numeric" })
          .formatToParts(new Date(epoch * 1000)).forEach((p) => { parts[p.type] = Number(p.value); });
        return parts;
      } catch (err) {
        offset = fallbackOffset;  // a zone name this browser's Intl does not know
      }
    }
    const d = new Date((epoch + offset) * 1000);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(),
             hour: d.getUTCHours(), minute: d.getUTCMinutes() };
  }

  function formatTime(epoch, options) {
    if (!epoch || !isFinite(epoch)) return "";
    const zone = (options && options.zone) || ZONE;
    const t = wallClock(Math.trunc(epoch), zone, zone === ZONE ? ZONE_OFFSET : 0);
    const pad = (n) => String(n).padStart(2, "0");
    const clock = pad(t.hour) + ":" + pad(t.minute) + " (" + zone + ")";
    if (options && options.date === false) return clock;
    return t.day + " " + MONTHS[t.month - 1] + " " + t.year + ", " + clock;
  }


  /* ---------------------------------------------------------------- shared form helpers */
  const TABLES = (() => {
    const el = $("[data-sms]");
    return el ? JSON.parse(el.dataset.sms) : null;
  })();

  // Live character/segment counter for `textarea`, drawn into `root`'s counter elements.
  // Over the limit the text stays whole (no maxlength: a browser would cut a paste short
  // without a word): the counter says by how much, and the box is marked invalid.
  function attachCounter(textarea, root) {
    const count = makeCounter(TABLES);
    const part = (id) => root.querySelector("#" + id);
    const counter = part("counter-chars").parentElement;
    const over = document.createElement("div");
    over.className = "error small";
    over.id = (counter.id || "counter") + "-over";
    over.hidden = true;
    counter.append(over);
    function update() {
      const info = count(textarea.value);
      const chars = Array.from(textarea.value).length;
      part("counter-chars").textContent = chars + " character" + (chars === 1 ? "" : "s") +
        (chars > TABLES.max ? " of " + TABLES.max : "");
      over.hidden = chars <= TABLES.max;
      over.textContent = over.hidden ? "" : "The message is " + (chars - TABLES.max) +
        " character" + (chars - TABLES.max === 1 ? "" : "s") + " over the limit of " +
        TABLES.max + ". Shorten it to save or send it.";
      if (!over.hidden) textarea.setAttribute("aria-invalid", "true");
      else if (!textarea.closest(".field.invalid")) textarea.removeAttribute("aria-invalid");
      part("counter-encoding").textContent = info.encoding;
      part("counter-segments").textContent = info.segments + " SMS" +
        (info.segments > 1 ? " (" + info.perSegment + " per part)" : "") + " per recipient" +
        (/\{customer_/.test(textarea.value) ? ", before names are filled in" : "");
      const warn = part("counter-ucs2");
      if (info.ucs2.length) {
        warn.hidden = false;
        warn.textContent = "These characters switch the SMS to UCS-2 (70 per SMS instead of 160): " +
          info.ucs2.map((c) => (c === "\u00a0" ? "non-breaking space" : "“" + c + "”")).join(" ");
      } else {
        warn.hidden = true;
      }
    }
    textarea.addEventListener("input", update);
    update();
    return update;
  }

  function bindShortcodes(textarea, update) {
    $$(".insert-code").forEach((chip) => chip.addEventListener("click", () => {
      const code = chip.dataset.code;
      const start = textarea.selectionStart, end = textarea.selectionEnd;
      textarea.value = textarea.value.slice(0, start) + code + textarea.value.slice(end);
      textarea.focus();
      textarea.selectionStart = textarea.selectionEnd = start + code.length;
      update();
    }));
  }

  // Show each field's error next to it; the controls that name the error in their
  // aria-describedby are marked aria-invalid. Focus moves to the first one with an error
  // when `focus` is set. Returns how many fields have an error.
  function showErrors(fields, root, focus) {
    let first = null, count = 0;
    $$("[data-error-for]", root).forEach((el) => {
      const message = (fields || {})[el.dataset.errorFor] || "";
      el.textContent = message;
      const field = el.closest(".field");
      if (field) field.classList.toggle("invalid", !!message);
      const controls = el.id ? $$('[aria-describedby~="' + el.id + '"]', root) : [];
      controls.forEach((c) => {
        if (message) c.setAttribute("aria-invalid", "true"); else c.removeAttribute("aria-invalid");
      });
      if (message) {
        count += 1;
        const target = controls.find((c) => c.matches("input, select, textarea")) ||
          (controls[0] && tabbable(controls[0])[0]);
        if (!first && target && shown(target)) first = target;
      }
    });
    if (focus && first) first.focus();
    return count;
  }

  function result(el, text, isError) {
    el.hidden = false;
    el.textContent = text;
    el.classList.toggle("error", !!isError);
  }


  const pages = {};  // data-page -> init, filled by campaigns.js and pages.js
  document.addEventListener("DOMContentLoaded", () => {
    const init = pages[document.body.dataset.page];
    if (init) init();
    applyFocusHint();
    if (window.ResizeObserver) {
      const sizes = new ResizeObserver(() => {
        reportHeight();
        $$("dialog[open]").forEach(revealInParent);  // its content arrived, or it grew
      });
      [document.body, ...$$("dialog")].forEach((el) => sizes.observe(el));
    }
    reportHeight();
  });
  window.BkntcSms = {
    $: $, $$: $$, api: api, url: url, toast: toast, go: go, makeCounter: makeCounter,
    attachCounter: attachCounter, bindShortcodes: bindShortcodes, showErrors: showErrors,
    result: result, focusOn: focusOn, focusKey: focusKey, restoreFocus: restoreFocus,
    refreshRegions: refreshRegions, modal: modal, submitOnce: submitOnce, tabbable: tabbable,
    shown: shown, pages: pages, formatTime: formatTime, timezone: ZONE, smsTables: TABLES,
  };
})();
