/* Booknetic SMS Campaigns — page behaviour. Plain JS, no libraries, no inline code (CSP).
   Every URL goes through the relay: RELAY + encoded sidecar path (see README, relay
   contract). Every write sends JSON with the page's CSRF token and WordPress nonce. */
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
    let response;
    try {
      response = await fetch(url(path), init);
    } catch (err) {
      throw new ApiError(0, { message: "Cannot reach the server. Check your connection and try again." });
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

  let toastTimer = null;
  function toast(message, isError) {
    const el = $("#toast");
    if (!el) return;
    el.textContent = message;
    el.classList.toggle("error", !!isError);
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, isError ? 8000 : 4000);
  }

  function go(path) { window.location.href = url(path); }

  // Tell an embedding Booknetic page how tall we are (the bridge resizes the iframe).
  function reportHeight() {
    if (window.parent === window) return;
    const height = document.documentElement.scrollHeight;
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


  /* ---------------------------------------------------------------- shared form helpers */
  const TABLES = (() => {
    const el = $("[data-sms]");
    return el ? JSON.parse(el.dataset.sms) : null;
  })();

  // Live character/segment counter for `textarea`, drawn into `root`'s counter elements.
  function attachCounter(textarea, root) {
    const count = makeCounter(TABLES);
    const part = (id) => root.querySelector("#" + id);
    function update() {
      const info = count(textarea.value);
      const chars = Array.from(textarea.value).length;
      part("counter-chars").textContent = chars + " character" + (chars === 1 ? "" : "s");
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

  function showErrors(fields, root) {
    $$("[data-error-for]", root).forEach((el) => {
      const message = (fields || {})[el.dataset.errorFor] || "";
      el.textContent = message;
      const field = el.closest(".field");
      if (field) field.classList.toggle("invalid", !!message);
    });
  }

  function result(el, text, isError) {
    el.hidden = false;
    el.textContent = text;
    el.classList.toggle("error", !!isError);
  }

  /* ---------------------------------------------------------------- progress wizard */
  function wizard() {
    const dialog = $("#progress-dialog");
    if (!dialog) return null;
    const state = { id: null, timer: null, canLogs: !!($("#list-state") || {}).dataset?.canLogs };

    function setStage(stage) {
      const order = ["preparing", "sending", "finalizing", "done"];
      const at = order.indexOf(stage);
      $$("#wizard-stages li").forEach((li) => {
        const i = order.indexOf(li.dataset.stage);
        li.classList.toggle("done", i < at);
        li.classList.toggle("current", i === at);
      });
    }

    function render(p) {
      const done = p.sent + p.failed;
      const pct = p.total ? Math.floor((100 * done) / p.total) : 0;
      $("#count-total").textContent = p.total;
      $("#count-sent").textContent = p.sent;
      $("#count-failed").textContent = p.failed;
      $("#count-pending").textContent = p.pending;
      $("#wizard-bar span").style.width = pct + "%";
      $("#wizard-bar").setAttribute("aria-valuenow", String(pct));
      $("#wizard-percent").textContent = pct + "%";
      const active = p.status === "queued" || p.status === "sending";
      let stage = "sending", line = "";
      if (p.status === "queued" && done === 0) {
        stage = "preparing"; line = "Recipients are ready; the first messages are on their way…";
      } else if (active && p.pending === 0) {
        stage = "finalizing"; line = "Finishing up…";
      } else if (active) {
        line = "Sending… " + done + " of " + p.total + " done.";
        if (p.status_reason) line += " " + p.status_reason;
      } else if (p.status === "paused") {
        line = p.status_reason || "Paused. Nothing new is being sent.";
      } else if (p.status === "completed") {
        stage = "done"; line = "Done: " + p.sent + " sent" + (p.failed ? ", " + p.failed + " failed" : "") + ".";
      } else if (p.status === "failed") {
        stage = "done"; line = p.status_reason || "No message could be sent.";
      }
      setStage(stage);
      $("#wizard-status").textContent = line;
      $("#wizard-pause").hidden = !active;
      $("#wizard-resume").hidden = p.status !== "paused";
      $("#wizard-hide").hidden = !(active || p.status === "paused");
      const finished = p.status === "completed" || p.status === "failed";
      $("#wizard-close").hidden = active || p.status === "paused";
      const logs = $("#wizard-logs");
      logs.hidden = !(finished && state.canLogs);
      logs.href = url("/ui/campaigns/" + state.id + "/logs");
      if (finished) stop();
    }

    async function poll() {
      try {
        render(await api("GET", "/api/v1/campaigns/" + state.id + "/progress"));
      } catch (err) {
        $("#wizard-status").textContent = err.message;
      }
    }

    function stop() { clearInterval(state.timer); state.timer = null; }

    function open(id, name, preparing) {
      state.id = id;
      $("#wizard-name").textContent = "“" + name + "”";
      if (preparing) {
        render({ status: "queued", total: 0, sent: 0, failed: 0, pending: 0, status_reason: "" });
        $("#wizard-status").textContent = "Preparing recipients…";
      }
      if (!dialog.open) dialog.showModal();
      stop();
      if (!preparing) poll();
      state.timer = setInterval(poll, 1000);
    }

    async function act(action) {
      try {
        render(await api("POST", "/api/v1/campaigns/" + state.id + "/" + action));
        if (!state.timer) state.timer = setInterval(poll, 1000);
      } catch (err) { toast(err.message, true); }
    }

    $("#wizard-pause").addEventListener("click", () => act("pause"));
    $("#wizard-resume").addEventListener("click", () => act("resume"));
    // Back to a plain page (not one whose address would open this dialog again).
    function leave() {
      if (document.body.dataset.page === "campaigns") go("/ui/campaigns");
      else window.location.reload();
    }
    $("#wizard-hide").addEventListener("click", () => {
      stop(); dialog.close();
      toast(document.body.dataset.page === "campaigns"
        ? "Still sending in the background. Reopen it any time with Progress."
        : "Still sending in the background. It is listed under Recent one-off messages.");
      setTimeout(leave, 600);
    });
    $("#wizard-close").addEventListener("click", () => { dialog.close(); leave(); });
    dialog.addEventListener("cancel", (e) => { e.preventDefault(); $("#wizard-hide").click(); });
    return { open: open, poll: poll };
  }

  /* ---------------------------------------------------------------- campaign list */
  function initCampaignList() {
    $$(".mini-bar span").forEach((bar) => { bar.style.width = Math.min(+bar.dataset.fill || 0, 100) + "%"; });
    const w = wizard();
    const table = $("#campaign-table");
    if (table) {
      table.addEventListener("click", async (event) => {
        const button = event.target.closest("button[data-action]");
        if (!button || button.disabled) return;
        const row = button.closest("tr");
        const id = +row.dataset.id, name = row.dataset.name, action = button.dataset.action;
        try {
          if (action === "send") {
            if (!window.confirm("Send “" + name + "” now? Every recipient in its audience gets the SMS.")) return;
            w.open(id, name, true);
            await api("POST", "/api/v1/campaigns/" + id + "/send");
            await w.poll();
          } else if (action === "progress") {
            w.open(id, name, false);
          } else if (action === "pause" || action === "resume") {
            await api("POST", "/api/v1/campaigns/" + id + "/" + action);
            if (action === "resume") w.open(id, name, false); else window.location.reload();
          } else if (action === "duplicate") {
            const copy = await api("POST", "/api/v1/campaigns/" + id + "/duplicate");
            go("/ui/campaigns/" + copy.id + "/edit");
          } else if (action === "delete") {
            if (!window.confirm("Delete “" + name + "” and its logs? This cannot be undone.")) return;
            await api("DELETE", "/api/v1/campaigns/" + id);
            toast("Campaign deleted.");
            window.location.reload();
          }
        } catch (err) {
          const dialog = $("#progress-dialog");
          if (action === "send" && dialog && dialog.open) dialog.close();
          toast(err.message, true);
        }
      });
    }
    const stateEl = $("#list-state");
    const progressId = stateEl && +stateEl.dataset.progressId;
    if (progressId) {
      const row = $('tr[data-id="' + progressId + '"]');
      w.open(progressId, row ? row.dataset.name : "campaign", false);
    }
  }

  /* ---------------------------------------------------------------- campaign form */
  function initCampaignForm() {
    const form = $("#campaign-form");
    const body = $("#f-body");
    const updateCounter = attachCounter(body, $("#sms-counter"));
    bindShortcodes(body, updateCounter);

    $("#f-template").addEventListener("change", (event) => {
      const option = event.target.selectedOptions[0];
      if (!option || !option.dataset.body) return;
      if (body.value.trim() && body.value !== option.dataset.body &&
          !window.confirm("Replace the current text with this template?")) return;
      body.value = option.dataset.body;
      updateCounter();
    });

    const segment = $("#f-segment");
    function describe() {
      $("#segment-description").textContent = segment.selectedOptions[0].dataset.description || "";
    }
    segment.addEventListener("change", describe);
    describe();

    function collect() {
      const ids = (name) => $$('input[name="' + name + '"]:checked').map((i) => +i.value);
      const min = $("#f-min").value.trim();
      const template = $("#f-template").value;
      return {
        name: $("#f-name").value,
        segment: segment.value,
        body: body.value,
        template_id: template ? +template : null,
        filters: {
          service_ids: ids("service_ids"),
          location_ids: ids("location_ids"),
          statuses: $$('input[name="statuses"]:checked').map((i) => i.value),
          min_appointments: min === "" ? null : (/^\d+$/.test(min) ? +min : min),
          exclude_suppressed: $("#f-exclude").checked,
        },
      };
    }

    let previewSeq = 0, previewTimer = null;
    async function refreshPreview() {
      const seq = ++previewSeq;
      const data = collect();
      const box = $("#preview");
      box.classList.add("loading");
      try {
        const p = await api("POST", "/api/v1/segments/preview",
                            { segment: data.segment, filters: data.filters, limit: 10 });
        if (seq !== previewSeq) return; // a newer request is on its way
        $("#preview-count").textContent = p.count;
        $("#skip-invalid").textContent = p.skipped_invalid_phone;
        $("#skip-duplicate").textContent = p.skipped_duplicate_phone;
        $("#skip-suppressed").textContent = p.skipped_suppressed;
        const tbody = $("#preview-sample tbody");
        tbody.replaceChildren();
        p.sample.forEach((r) => {
          const tr = document.createElement("tr");
          const name = document.createElement("td");
          name.textContent = (r.first_name + " " + r.last_name).trim() || "(no name)";
          const phone = document.createElement("td");
          phone.textContent = r.phone;
          tr.append(name, phone);
          tbody.append(tr);
        });
        $("#preview-note").textContent = p.count > p.sample.length
          ? "Showing the first " + p.sample.length + " of " + p.count + "." : "Updates as you change the audience.";
        showErrors({}, form);
      } catch (err) {
        if (seq !== previewSeq) return;
        $("#preview-count").textContent = "–";
        $("#preview-note").textContent = err.message;
        if (err.status === 422) showErrors(err.fields, form);
      } finally {
        if (seq === previewSeq) box.classList.remove("loading");
      }
    }
    function schedulePreview() {
      clearTimeout(previewTimer);
      previewTimer = setTimeout(refreshPreview, 300);
    }
    form.addEventListener("change", (event) => {
      if (event.target.closest(".filters-box") || event.target === segment) schedulePreview();
    });
    $("#f-min").addEventListener("input", schedulePreview);
    refreshPreview();

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const id = form.dataset.campaignId;
      const status = form.dataset.campaignStatus;
      if (id && (status !== "draft" || +form.dataset.campaignTotal > 0) &&
          !window.confirm("Saving turns this " + status + " campaign back into a draft and clears its logs. Continue?")) return;
      const save = $("#save");
      save.disabled = true;
      try {
        const data = collect();
        if (id) await api("PUT", "/api/v1/campaigns/" + id, data);
        else await api("POST", "/api/v1/campaigns", data);
        window.location.href = form.dataset.listUrl;
      } catch (err) {
        if (err.status === 422) {
          showErrors(err.fields, form);
          toast("Please correct the marked fields.", true);
        } else {
          toast(err.message, true);
        }
      } finally {
        save.disabled = false;
      }
    });
  }


  /* ---------------------------------------------------------------- templates */
  function initTemplates() {
    const dialog = $("#template-dialog");
    const form = $("#template-form");
    const name = $("#t-name"), body = $("#t-body");
    const update = attachCounter(body, form);
    bindShortcodes(body, update);
    let editing = null;

    function open(title, values, id) {
      editing = id;
      $("#template-title").textContent = title;
      name.value = values.name || "";
      body.value = values.body || "";
      showErrors({}, form);
      update();
      dialog.showModal();
      name.focus();
    }
    $("#new-template").addEventListener("click", () => open("New template", {}, null));
    $("#template-cancel").addEventListener("click", () => dialog.close());
    $("#template-table").addEventListener("click", async (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      const row = button.closest("tr");
      const action = button.dataset.action;
      if (action === "copy") open("New template", { name: row.dataset.name + " (copy)", body: row.dataset.body }, null);
      if (action === "edit") open("Edit template", { name: row.dataset.name, body: row.dataset.body }, +row.dataset.id);
      if (action === "delete") {
        if (!window.confirm("Delete the template “" + row.dataset.name + "”?")) return;
        try {
          await api("DELETE", "/api/v1/templates/" + row.dataset.id);
          window.location.reload();
        } catch (err) { toast(err.message, true); }
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = { name: name.value, body: body.value };
      try {
        if (editing) await api("PUT", "/api/v1/templates/" + editing, data);
        else await api("POST", "/api/v1/templates", data);
        dialog.close();
        window.location.reload();
      } catch (err) {
        if (err.status === 422) showErrors(err.fields, form); else toast(err.message, true);
      }
    });
  }

  /* ---------------------------------------------------------------- suppression list */
  function initSuppressions() {
    const one = $("#suppress-one"), many = $("#suppress-many");
    one.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const row = await api("POST", "/api/v1/suppressions",
                              { phone: $("#s-phone").value, reason: $("#s-reason").value });
        toast(row.added ? row.phone + " added to the suppression list." : row.message);
        setTimeout(() => window.location.reload(), 700);
      } catch (err) {
        if (err.status === 422) showErrors(err.fields, one); else toast(err.message, true);
      }
    });
    many.addEventListener("submit", async (event) => {
      event.preventDefault();
      const list = $("#s-invalid");
      list.hidden = true;
      list.replaceChildren();
      try {
        const res = await api("POST", "/api/v1/suppressions/bulk", {
          numbers: $("#s-numbers").value, reason: $("#s-bulk-reason").value,
          skip_invalid: $("#s-skip-invalid").checked });
        let text = res.added + " added";
        if (res.already) text += ", " + res.already + " already on the list";
        if (res.invalid.length) text += ", " + res.invalid.length + " invalid skipped";
        toast(text + ".");
        setTimeout(() => window.location.reload(), 900);
      } catch (err) {
        if (err.status === 422) showErrors(err.fields, many); else toast(err.message, true);
        (err.invalid || []).forEach((raw) => {
          const li = document.createElement("li");
          li.textContent = raw;
          list.append(li);
        });
        list.hidden = !(err.invalid || []).length;
      }
    });
    const table = $("#suppress-table");
    if (table) table.addEventListener("click", async (event) => {
      const button = event.target.closest("button[data-action=remove]");
      if (!button) return;
      const row = button.closest("tr");
      if (!window.confirm("Remove " + row.dataset.phone + " from the suppression list? It can receive SMS again.")) return;
      try {
        await api("DELETE", "/api/v1/suppressions/" + row.dataset.id);
        row.remove();
        toast(row.dataset.phone + " removed.");
      } catch (err) { toast(err.message, true); }
    });
  }

  /* ---------------------------------------------------------------- test and one-off SMS */
  function initSms() {
    const testForm = $("#test-form");
    testForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const out = $("#test-result");
      showErrors({}, testForm);
      $("#test-send").disabled = true;
      try {
        const res = await api("POST", "/api/v1/sms/test",
                              { phone: $("#test-phone").value, body: $("#test-body").value });
        result(out, "Sent to " + res.to + " (Twilio id " + res.message_id + "): “" + res.body + "”");
      } catch (err) {
        if (err.status === 422) showErrors(err.fields, testForm);
        result(out, err.message, true);
      } finally {
        $("#test-send").disabled = false;
      }
    });

    const form = $("#manual-form");
    const body = $("#manual-body");
    attachCounter(body, $("#manual-counter"));
    let mode = "customers";
    const picked = new Map();
    $$(".segmented .chip").forEach((chip) => chip.addEventListener("click", () => {
      mode = chip.dataset.mode;
      $$(".segmented .chip").forEach((c) => c.classList.toggle("active", c === chip));
      $("#pane-customers").hidden = mode !== "customers";
      $("#pane-numbers").hidden = mode !== "numbers";
    }));

    function drawPicked() {
      $("#picked-count").textContent = picked.size;
      $("#picked").textContent = picked.size ? "(" + Array.from(picked.values()).join(", ") + ")" : "";
    }

    let searchTimer = null, searchSeq = 0;
    async function search(page) {
      const seq = ++searchSeq;
      const q = $("#customer-q").value.trim();
      const list = $("#customer-results");
      try {
        const res = await api("GET", "/api/v1/customers?q=" + encodeURIComponent(q) + "&page=" + page);
        if (seq !== searchSeq) return;
        list.replaceChildren();
        res.customers.forEach((c) => {
          const li = document.createElement("li");
          const label = document.createElement("label");
          const box = document.createElement("input");
          box.type = "checkbox";
          box.value = c.id;
          box.checked = picked.has(c.id);
          const name = (c.first_name + " " + c.last_name).trim() || "(no name)";
          box.addEventListener("change", () => {
            if (box.checked) picked.set(c.id, name); else picked.delete(c.id);
            drawPicked();
          });
          const text = document.createElement("span");
          text.textContent = name + " · " + (c.phone || c.phone_number || "no phone");
          if (!c.phone) { text.classList.add("bad"); text.title = "No valid phone number"; }
          label.append(box, text);
          li.append(label);
          list.append(li);
        });
        const pager = $("#customer-pager");
        pager.replaceChildren();
        const pages = Math.ceil(res.total / res.per_page);
        if (pages > 1) {
          const info = document.createElement("span");
          info.textContent = "Page " + res.page + " of " + pages + " (" + res.total + " customers) ";
          pager.append(info);
          [["‹ Previous", res.page - 1], ["Next ›", res.page + 1]].forEach(([label, target]) => {
            if (target < 1 || target > pages) return;
            const b = document.createElement("button");
            b.type = "button"; b.className = "chip"; b.textContent = label;
            b.addEventListener("click", () => search(target));
            pager.append(b);
          });
        }
      } catch (err) { toast(err.message, true); }
    }
    $("#customer-q").addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); search(1); }  // search, never send
    });
    $("#customer-q").addEventListener("input", () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => search(1), 250);
    });
    search(1);

    const w = wizard();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const out = $("#manual-result");
      showErrors({}, form);
      const data = { body: body.value };
      if (mode === "customers") data.customer_ids = Array.from(picked.keys());
      else data.numbers = $("#manual-numbers").value;
      const who = mode === "customers" ? picked.size + " selected customer(s)" : "the pasted numbers";
      if (!window.confirm("Send this SMS now to " + who + "?")) return;
      try {
        const res = await api("POST", "/api/v1/sms/send", data);
        const notes = [];
        if (res.skipped_suppressed.length) notes.push(res.skipped_suppressed.length + " skipped (suppressed)");
        if (res.invalid.length) notes.push(res.invalid.length + " invalid: " + res.invalid.join(", "));
        if (res.duplicates) notes.push(res.duplicates + " duplicate(s) merged");
        result(out, "Sending to " + res.total + " recipient" + (res.total === 1 ? "" : "s") +
               (notes.length ? " — " + notes.join("; ") : "") + ".");
        w.open(res.campaign_id, "one-off SMS", false);
      } catch (err) {
        if (err.status === 422) showErrors(err.fields, form);
        result(out, err.message + (err.invalid && err.invalid.length ? " Invalid: " + err.invalid.join(", ") : ""), true);
      }
    });
  }

  const inits = { campaigns: initCampaignList, "campaign-form": initCampaignForm,
                  templates: initTemplates, suppressions: initSuppressions, sms: initSms };
  document.addEventListener("DOMContentLoaded", () => {
    const init = inits[document.body.dataset.page];
    if (init) init();
    if (window.ResizeObserver) new ResizeObserver(reportHeight).observe(document.body);
    reportHeight();
  });
  window.BkntcSms = { api: api, url: url, toast: toast, makeCounter: makeCounter };
})();
