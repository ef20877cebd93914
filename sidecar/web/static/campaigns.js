/* Booknetic SMS Campaigns — the campaign pages: the sending wizard (also used by the Send
   SMS page), the campaign list and the campaign form. Shared helpers are in app.js. */
(function () {
  "use strict";

  const S = window.BkntcSms;
  const { $, $$, api, url, toast } = S;

  /* ---------------------------------------------------------------- progress wizard */
  // `afterClose(key, wasActive)` re-renders what the page lists about the campaign and may
  // answer where focus goes (a focusKey); `hiddenMessage` is the toast when the dialog is
  // closed while the campaign is still on its way.
  S.wizard = function wizard(afterClose, hiddenMessage) {
    const dialog = $("#progress-dialog");
    if (!dialog) return null;
    const state = { id: null, timer: null, status: null,
                    canLogs: !!($("#list-state") || {}).dataset?.canLogs };
    const isActive = (status) => status === "queued" || status === "sending";

    const m = S.modal(dialog, (key) => {
      stop();
      const wasActive = isActive(state.status);
      if (wasActive) toast(hiddenMessage);
      return afterClose ? afterClose(key, state.id) : null;
    });

    function setStage(stage) {
      const order = ["preparing", "sending", "finalizing", "done"];
      const at = order.indexOf(stage);
      $$("#wizard-stages li").forEach((li) => {
        const i = order.indexOf(li.dataset.stage);
        li.classList.toggle("done", i < at);
        li.classList.toggle("current", i === at);
        if (i === at) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
        $(".stage-state", li).textContent = i < at ? " (done)" : "";
      });
    }

    // The control to focus when the focused one has just been hidden (Pause once the send
    // finished): the next step for that state.
    function nextControl(status) {
      if (isActive(status)) return ["#wizard-pause", "#wizard-hide"];
      if (status === "paused") return ["#wizard-resume", "#wizard-close"];
      return ["#wizard-logs", "#wizard-close"];
    }

    function render(p) {
      const focused = document.activeElement;
      const hadFocus = dialog.contains(focused);
      const done = p.sent + p.failed;
      const pct = p.total ? Math.floor((100 * done) / p.total) : 0;
      $("#count-total").textContent = p.total;
      $("#count-sent").textContent = p.sent;
      $("#count-failed").textContent = p.failed;
      $("#count-pending").textContent = p.pending;
      $("#wizard-bar span").style.width = pct + "%";
      const bar = $("#wizard-bar");
      bar.setAttribute("aria-valuenow", String(pct));
      bar.setAttribute("aria-valuetext", done + " of " + p.total + " done (" + pct + "%)");
      $("#wizard-percent").textContent = pct + "%";
      const active = isActive(p.status);
      // The status line is a live region: it changes with the state, not with each count.
      let stage = "sending", line = "";
      if (p.status === "queued" && done === 0) {
        stage = "preparing"; line = "Recipients are ready; the first messages are on their way…";
      } else if (active && p.pending === 0) {
        stage = "finalizing"; line = "Finishing up…";
      } else if (active) {
        line = "Sending…" + (p.status_reason ? " " + p.status_reason : "");
      } else if (p.status === "paused") {
        line = p.status_reason || "Paused. Nothing new is being sent.";
      } else if (p.status === "completed") {
        stage = "done"; line = "Done: " + p.sent + " sent" + (p.failed ? ", " + p.failed + " failed" : "") + ".";
      } else if (p.status === "failed") {
        stage = "done"; line = p.status_reason || "No message could be sent.";
      }
      setStage(stage);
      // The title says what is happening, not "Sending" for a paused or finished campaign.
      $("#wizard-verb").textContent = { paused: "Paused:", completed: "Sent:", failed: "Not sent:" }[p.status] || "Sending";
      const status = $("#wizard-status");
      if (status.textContent !== line) status.textContent = line;
      const retry = $("#wizard-retry");
      const waiting = active ? p.retry_waiting || 0 : 0;
      retry.hidden = !waiting;
      retry.textContent = waiting ? plural(waiting, "message") + " waiting to retry at " +
        p.next_retry_text + "." : "";
      state.status = p.status;
      const finished = p.status === "completed" || p.status === "failed";
      $("#wizard-pause").hidden = !active;
      $("#wizard-resume").hidden = p.status !== "paused";
      $("#wizard-hide").hidden = !active;
      const close = $("#wizard-close");
      close.hidden = active;
      close.textContent = p.status === "paused" ? "Close (it stays paused)" : "Close";
      const logs = $("#wizard-logs");
      logs.hidden = !(finished && state.canLogs);
      logs.href = url("/ui/campaigns/" + state.id + "/logs");
      if (dialog.open && ((hadFocus && !S.shown(focused)) || document.activeElement === document.body)) {
        nextControl(p.status).some((sel) => S.focusOn($(sel)));
      }
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

    function open(id, name, preparing, opener) {
      state.id = id;
      $("#wizard-name").textContent = "“" + name + "”";
      if (preparing) {
        render({ status: "queued", total: 0, sent: 0, failed: 0, pending: 0, status_reason: "" });
        $("#wizard-status").textContent = "Preparing recipients…";
      }
      m.open($("#wizard-title"), opener);
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
    $("#wizard-hide").addEventListener("click", () => m.close());
    $("#wizard-close").addEventListener("click", () => m.close());
    return { open: open, poll: poll, close: () => m.close() };
  };

  /* ---------------------------------------------------------------- render report */
  // The words for the render report (POST /api/v1/segments/preview with a body, and the
  // campaign's audience in the Send confirmation): what a salon owner needs to decide.
  const NUM = new Intl.NumberFormat("en");
  const MONEY = new Intl.NumberFormat("en", { minimumFractionDigits: 2, maximumFractionDigits: 4 });
  const num = (x) => NUM.format(x);
  const plural = (count, one, many) => num(count) + " " + (count === 1 ? one : many || one + "s");
  // Characters people paste from word processors that have a plain GSM-7 twin.
  const PLAIN = { "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "\u00b4": "'",
                  "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2013": "-", "\u2014": "-",
                  "\u2026": "...", "\u00a0": " " };
  const PLAIN_RE = new RegExp("[" + Object.keys(PLAIN).join("") + "]", "g");

  function charLabel(char, source) {
    const shown = char === "\u00a0" ? "A non-breaking space" : "“" + char + "”";
    return shown + (source.name && char !== "\u00a0" ? " (" + source.name + ")" : "");
  }

  const report = {
    // "1,100 in GSM-7 and 134 in UCS-2" / "All in GSM-7 (160 characters per SMS)".
    encoding(r) {
      if (!r.encoding.ucs2) return "All in GSM-7: 160 characters per SMS.";
      if (!r.encoding.gsm7) return "All in UCS-2: 70 characters per SMS.";
      return num(r.encoding.gsm7) + " in GSM-7 (160 characters per SMS), " + num(r.encoding.ucs2) +
        " in UCS-2 (70 per SMS).";
    },
    // "1,000 messages fit in 1 SMS, 234 take 2."
    histogram(r) {
      const parts = Object.entries(r.segments_histogram).map(([size, count], i) =>
        (i === 0 ? plural(count, "message") : num(count)) +
        (size === "1" ? (count === 1 && i === 0 ? " fits" : " fit") + " in 1 SMS" : " take " + size));
      return parts.length ? parts.join(", ") + "." : "";
    },
    // One line per character that forces UCS-2, and where it comes from.
    ucs2(r) {
      return Object.keys(r.ucs2_characters).map((char) => {
        const s = r.ucs2_sources[char] || {};
        const where = [];
        if (s.in_body) where.push("your message");
        if (s.first_names) where.push(plural(s.first_names, "first name"));
        if (s.last_names) where.push(plural(s.last_names, "last name"));
        return charLabel(char, s) + " in " + where.join(" and ") + ".";
      });
    },
    ucs2Cost(r) {
      const switched = "These switch " + plural(r.encoding.ucs2, "message") +
        " to UCS-2, 70 characters per SMS instead of 160";
      return switched + (r.ucs2_extra_segments
        ? ": " + plural(r.ucs2_extra_segments, "more SMS segment") + " to pay for."
        : ", at no extra cost for this text.");
    },
    // Recipients for whom a shortcode comes out empty; `body` shows what they would get.
    empties(r, body) {
      return Object.entries(r.empty_placeholders).filter(([, n]) => n).map(([code, n]) => {
        const who = n === 1 ? "1 recipient has" : num(n) + " recipients have";
        if (code === "{customer_first_name}") {
          const start = body.indexOf(code);
          let example = body.slice(Math.max(0, start - 12), start + code.length + 24)
            .split(code).join("");
          if (start + code.length + 24 < body.length) example += "…";
          return who + " no first name: they would get “" + example.trim() + "”.";
        }
        return who + " nothing in " + code + ".";
      });
    },
    cost(r) {
      return r.estimated_cost === undefined || r.estimated_cost === null ? null : MONEY.format(r.estimated_cost);
    },
    fixableInBody(r) {
      return Object.keys(r.ucs2_characters).some((c) => PLAIN[c] && (r.ucs2_sources[c] || {}).in_body);
    },
  };

  function fillList(list, lines) {
    list.replaceChildren(...lines.map((line) => {
      const li = document.createElement("li");
      li.textContent = line;
      return li;
    }));
  }

  /* ---------------------------------------------------------------- send confirmation */
  // The dialog before Send: recipients, segments and cost of the campaign as it would go out
  // now. Resolves true when the user confirms; with nobody to send to, it offers no Send.
  function sendConfirmation() {
    const dialog = $("#send-dialog");
    if (!dialog) return null;
    let answer = null;
    const settle = (value) => { const done = answer; answer = null; if (done) done(value); };
    const m = S.modal(dialog, () => { settle(false); return null; });
    $("#send-cancel").addEventListener("click", () => m.close());
    $("#send-confirm").addEventListener("click", () => { settle(true); m.close(); });

    function show(part) {
      ["#send-checking", "#send-ready", "#send-nobody", "#send-error"].forEach((sel) => {
        $(sel).hidden = sel !== part;
      });
    }

    function fill(id, a) {
      const r = a.render;
      if (!a.count) {
        show("#send-nobody");
        const why = [];
        if (a.skipped_invalid_phone) why.push(plural(a.skipped_invalid_phone, "customer") + " without a valid phone");
        if (a.skipped_duplicate_phone) why.push(num(a.skipped_duplicate_phone) + " sharing a phone");
        if (a.skipped_suppressed) why.push(num(a.skipped_suppressed) + " on the suppression list");
        if (a.skipped_upcoming) why.push(num(a.skipped_upcoming) + " with an appointment coming up");
        $("#send-nobody-why").textContent = why.length
          ? "Everyone in its audience is left out: " + why.join(", ") + "."
          : "No customer is in its audience right now.";
        const edit = $("#send-edit");
        edit.hidden = !a.actions.includes("edit");
        edit.href = url("/ui/campaigns/" + id + "/edit");
        $("#send-cancel").textContent = "Close";
        $("#send-confirm").hidden = true;
        S.focusOn($("#send-title"));
        return;
      }
      show("#send-ready");
      $("#send-recipients").textContent = num(a.count);
      $("#send-segments").textContent = num(r.segments_total);
      const cost = report.cost(r);
      $("#send-cost").textContent = cost === null ? "—" : cost;
      $("#send-no-price").hidden = cost !== null;
      $("#send-detail").textContent = report.histogram(r) + " " + report.encoding(r);
      const warnings = report.ucs2(r).concat(r.encoding.ucs2 ? [report.ucs2Cost(r)] : [],
                                               report.empties(r, a.body || ""));
      fillList($("#send-warnings"), warnings);
      const confirm = $("#send-confirm");
      confirm.hidden = false;
      confirm.textContent = "Send to " + plural(a.count, "recipient");
      $("#send-cancel").textContent = "Cancel";
    }

    return function ask(id, name, opener) {
      $("#send-name").textContent = "“" + name + "”";
      $("#send-cancel").textContent = "Cancel";
      $("#send-confirm").hidden = true;
      $("#send-edit").hidden = true;
      show("#send-checking");
      settle(false);
      const result = new Promise((resolve) => { answer = resolve; });
      m.open($("#send-title"), opener);
      api("GET", "/api/v1/campaigns/" + id + "/audience").then((a) => {
        if (m.isOpen) fill(id, a);
      }).catch((err) => {
        if (!m.isOpen) return;
        show("#send-error");
        $("#send-error").textContent = "Could not check who would get it: " + err.message;
      });
      return result;
    };
  }

  /* ---------------------------------------------------------------- campaign list */
  function fillBars() {
    $$(".mini-bar span").forEach((bar) => { bar.style.width = Math.min(+bar.dataset.fill || 0, 100) + "%"; });
  }

  // This page's address without ?progress=ID, so a later reload does not reopen the wizard.
  function forgetProgressParam() {
    const here = new URL(window.location.href);
    const path = here.searchParams.get("p") || "";
    const inner = new URL(path, "http://sidecar.invalid");
    if (!inner.searchParams.has("progress") && !here.searchParams.has("progress")) return;
    inner.searchParams.delete("progress");
    here.searchParams.delete("progress");
    here.searchParams.set("p", inner.pathname + inner.search);
    window.history.replaceState(null, "", here.toString());
  }

  function initCampaignList() {
    fillBars();
    document.addEventListener("bkntc:rendered", fillBars);
    const listFallbacks = ["#new-campaign", "#campaign-list .empty .button", "main h1"];
    const refreshList = (key) => S.refreshRegions(["#campaign-list"], key, listFallbacks);
    const w = S.wizard(async (key, id) => {
      forgetProgressParam();
      // Opened by the page's address (no opener): back to that campaign's Progress button.
      const better = key || { row: String(id), action: "progress" };
      await refreshList(better);
      return better;
    }, "Still sending in the background. Reopen it any time with Progress.");
    const confirmSend = sendConfirmation();
    // Delegated from <main>: the list is re-rendered in place after each action.
    $("main").addEventListener("click", async (event) => {
      const button = event.target.closest("#campaign-table button[data-action]");
      if (!button || button.disabled) return;
      const row = button.closest("tr");
      const id = +row.dataset.id, name = row.dataset.name, action = button.dataset.action;
      try {
        if (action === "send") {
          if (!(await confirmSend(id, name, button))) return;
          w.open(id, name, true, button);
          await api("POST", "/api/v1/campaigns/" + id + "/send");
          await w.poll();
        } else if (action === "progress") {
          w.open(id, name, false, button);
        } else if (action === "pause") {
          await api("POST", "/api/v1/campaigns/" + id + "/pause");
          toast("“" + name + "” is paused.");
          await refreshList();
        } else if (action === "resume") {
          await api("POST", "/api/v1/campaigns/" + id + "/resume");
          w.open(id, name, false, button);
        } else if (action === "duplicate") {
          const copy = await api("POST", "/api/v1/campaigns/" + id + "/duplicate");
          S.go("/ui/campaigns/" + copy.id + "/edit", ["#f-name"]);
        } else if (action === "delete") {
          if (!window.confirm("Delete “" + name + "” and its logs? This cannot be undone.")) return;
          await api("DELETE", "/api/v1/campaigns/" + id);
          toast("Campaign “" + name + "” deleted.");
          await refreshList();
        }
      } catch (err) {
        if (action === "send") w.close();
        toast(err.message, true);
      }
    });
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
    if (form.dataset.readonly) {
      // A campaign that was sent is shown, not edited: the one action is a fresh copy.
      $("#duplicate-readonly").addEventListener("click", async (event) => {
        try {
          const copy = await api("POST", "/api/v1/campaigns/" + event.currentTarget.dataset.id + "/duplicate");
          S.go("/ui/campaigns/" + copy.id + "/edit", ["#f-name"]);
        } catch (err) { toast(err.message, true); }
      });
      return;
    }
    const body = $("#f-body");
    const updateCounter = S.attachCounter(body, $("#sms-counter"));
    const bodyChanged = () => { updateCounter(); schedulePreview(500); };
    S.bindShortcodes(body, bodyChanged);

    $("#f-template").addEventListener("change", (event) => {
      const option = event.target.selectedOptions[0];
      if (!option || !option.dataset.body) return;
      if (body.value.trim() && body.value !== option.dataset.body &&
          !window.confirm("Replace the current text with this template?")) return;
      body.value = option.dataset.body;
      bodyChanged();
    });

    const segment = $("#f-segment");
    function describe() {
      $("#segment-description").textContent = segment.selectedOptions[0].dataset.description || "";
    }
    segment.addEventListener("change", describe);
    describe();

    const whole = (value) => (value === "" ? null : (/^\d+$/.test(value) ? +value : value));
    function collect() {
      const ids = (name) => $$('input[name="' + name + '"]:checked').map((i) => +i.value);
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
          min_appointments: whole($("#f-min").value.trim()),
          exclude_suppressed: $("#f-exclude").checked,
          exclude_upcoming_days: whole($("#f-upcoming").value.trim()),
        },
      };
    }

    // The message as the report can render it: null when it is empty or over the limit
    // (the counter already says so; the server would only refuse it).
    function reportableBody(text) {
      return text.trim() && Array.from(text).length <= S.smsTables.max ? text : null;
    }

    function showReport(r, problem) {
      const box = $("#render-report");
      box.removeAttribute("aria-busy");
      const none = $("#report-empty"), shown = $("#report-body");
      if (!r) {
        shown.hidden = true;
        none.hidden = false;
        none.textContent = problem ? "Fix the message to see how many SMS it takes."
          : "Write the message to see how many SMS it takes.";
        return;
      }
      none.hidden = true;
      shown.hidden = false;
      $("#report-segments").textContent = num(r.segments_total);
      $("#report-segments-word").textContent = r.segments_total === 1 ? "segment" : "segments";
      $("#report-messages").textContent = num(r.messages);
      $("#report-messages-word").textContent = r.messages === 1 ? "message" : "messages";
      const cost = report.cost(r);
      $("#report-cost").hidden = cost === null;
      $("#report-cost-value").textContent = cost || "";
      $("#report-no-price").hidden = cost !== null || !r.messages;
      fillList($("#report-lines"), r.messages ? [report.histogram(r), report.encoding(r)] : []);
      const ucs2 = report.ucs2(r);
      $("#report-ucs2").hidden = !ucs2.length;
      fillList($("#report-ucs2-list"), ucs2);
      $("#report-ucs2-cost").textContent = ucs2.length ? report.ucs2Cost(r) : "";
      $("#report-fix-quotes").hidden = !report.fixableInBody(r);
      const empties = report.empties(r, body.value);
      $("#report-empty-codes").hidden = !empties.length;
      fillList($("#report-empty-list"), empties);
      $("#report-use-name").hidden = !r.empty_placeholders["{customer_first_name}"];
    }

    // Fixes the report offers: the text changes, the counter and the report follow, and
    // focus goes to the text (the button that was pressed goes away).
    function rewrite(change, message) {
      body.value = change(body.value);
      bodyChanged();
      body.focus();
      toast(message);
    }
    $("#report-fix-quotes").addEventListener("click", () => rewrite(
      (text) => text.replace(PLAIN_RE, (c) => PLAIN[c]),
      "Curly quotes, long dashes and the like are now plain characters."));
    $("#report-use-name").addEventListener("click", () => rewrite(
      (text) => text.split("{customer_first_name}").join("{customer_name}"),
      "{customer_first_name} is now {customer_name}: the full name, or the phone number when there is no name."));

    let previewSeq = 0, previewTimer = null;
    async function refreshPreview() {
      const seq = ++previewSeq;
      const data = collect();
      const box = $("#preview");
      box.classList.add("loading");
      box.setAttribute("aria-busy", "true");
      $("#render-report").setAttribute("aria-busy", "true");
      const payload = { segment: data.segment, filters: data.filters, limit: 10 };
      const text = reportableBody(data.body);
      if (text !== null) payload.body = text;
      const over = !!data.body.trim() && text === null;  // the counter says by how much
      let problem = "";
      try {
        let p;
        try {
          p = await api("POST", "/api/v1/segments/preview", payload);
        } catch (err) {
          // Only the message is wrong (an unknown shortcode): say so, and still show who
          // would get it.
          const fields = Object.keys(err.fields || {});
          if (err.status !== 422 || !payload.body || fields.join() !== "body") throw err;
          problem = err.fields.body;
          delete payload.body;
          p = await api("POST", "/api/v1/segments/preview", payload);
        }
        if (seq !== previewSeq) return; // a newer request is on its way
        $("#preview-count").textContent = p.count;
        $("#skip-invalid").textContent = p.skipped_invalid_phone;
        $("#skip-duplicate").textContent = p.skipped_duplicate_phone;
        $("#skip-suppressed").textContent = p.skipped_suppressed;
        $("#skip-upcoming").textContent = p.skipped_upcoming;
        $("#skip-upcoming-item").hidden = data.filters.exclude_upcoming_days === null;
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
        S.showErrors(problem ? { body: problem } : {}, form);
        showReport(p.render || null, problem || over);
      } catch (err) {
        if (seq !== previewSeq) return;
        $("#preview-count").textContent = "–";
        $("#preview-note").textContent = err.message;
        showReport(null, err.message);
        if (err.status === 422) S.showErrors(err.fields, form);
      } finally {
        if (seq === previewSeq) {
          box.classList.remove("loading");
          box.removeAttribute("aria-busy");
        }
      }
    }
    function schedulePreview(delay) {
      clearTimeout(previewTimer);
      previewTimer = setTimeout(refreshPreview, delay || 300);
    }
    form.addEventListener("change", (event) => {
      if (event.target.closest(".filters-box") || event.target === segment) schedulePreview();
    });
    $("#f-min").addEventListener("input", () => schedulePreview());
    $("#f-upcoming").addEventListener("input", () => schedulePreview());
    body.addEventListener("input", () => schedulePreview(500));
    refreshPreview();

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const id = form.dataset.campaignId;
      const status = form.dataset.campaignStatus;
      if (id && (status !== "draft" || +form.dataset.campaignTotal > 0) &&
          !window.confirm("Saving turns this " + status + " campaign back into a draft and clears its logs. Continue?")) return;
      S.submitOnce(form, $("#save"), async () => {
        try {
          const data = collect();
          const saved = id ? await api("PUT", "/api/v1/campaigns/" + id, data)
            : await api("POST", "/api/v1/campaigns", data);
          // On the list, focus the saved campaign's next step.
          const row = 'tr[data-id="' + saved.id + '"] ';
          S.go("/ui/campaigns", [row + "[data-action=send]", row + ".button", "#new-campaign"]);
        } catch (err) {
          if (err.status === 422) {
            S.showErrors(err.fields, form, true);
            toast("Please correct the marked fields.", true);
          } else {
            toast(err.message, true);
          }
        }
      });
    });
  }

  S.pages.campaigns = initCampaignList;
  S.pages["campaign-form"] = initCampaignForm;
})();
