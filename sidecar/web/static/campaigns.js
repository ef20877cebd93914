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
    const state = { id: null, timer: null, status: null, after: null,
                    canLogs: !!($("#list-state") || {}).dataset?.canLogs,
                    canCreate: !!($("#list-state") || {}).dataset?.canCreate };
    const isActive = (status) => status === "queued" || status === "sending";

    const m = S.modal(dialog, (key) => {
      stop();
      const wasActive = isActive(state.status);
      if (wasActive) toast(hiddenMessage);
      const after = state.after;  // where focus goes instead (the draft Resend made)
      state.after = null;
      return afterClose ? afterClose(after || key, state.id) : null;
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
      return ["#wizard-logs", "#wizard-report", "#wizard-close"];
    }

    function render(p) {
      const focused = document.activeElement;
      const hadFocus = dialog.contains(focused);
      const done = p.sent + p.failed;
      // Held-back recipients (the control group) are never sent: the bar ends without them.
      const toSend = p.total - (p.holdout || 0) - (p.skipped || 0);  // never sent
      const pct = toSend ? Math.floor((100 * done) / toSend) : 0;
      $("#count-total").textContent = toSend;
      $("#count-sent").textContent = p.sent;
      $("#count-failed").textContent = p.failed;
      $("#count-pending").textContent = p.pending;
      $("#count-delivered").textContent = p.delivered || 0;
      $("#count-undelivered").textContent = p.undelivered || 0;
      $("#wizard-bar span").style.width = pct + "%";
      const bar = $("#wizard-bar");
      bar.setAttribute("aria-valuenow", String(pct));
      bar.setAttribute("aria-valuetext", done + " of " + toSend + " done (" + pct + "%)");
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
      const times = [];
      if (p.started_at) times.push("Started " + S.formatTime(p.started_at));
      if (p.finished_at) times.push((times.length ? "finished " : "Finished ") + S.formatTime(p.finished_at));
      $("#wizard-times").textContent = times.length ? times.join(", ") + "." : "";
      const retry = $("#wizard-retry");
      const waiting = active ? p.retry_waiting || 0 : 0;
      retry.hidden = !waiting;
      retry.textContent = waiting ? waiting + (waiting === 1 ? " message" : " messages") +
        " waiting to retry at " + p.next_retry_text + ". They are retried automatically." : "";
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
      $("#wizard-resend").hidden = !((finished || p.status === "paused") && p.failed > 0 && state.canCreate);
      logs.href = url("/ui/campaigns/" + state.id + "/logs");
      const report = $("#wizard-report");
      report.hidden = !finished;
      report.href = url("/ui/campaigns/" + state.id + "/report");
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
    $("#wizard-resend").addEventListener("click", async () => {
      try {
        const draft = await S.resendFailed(state.id);
        state.after = { row: String(draft.id), action: "send" };
        m.close();
      } catch (err) { toast(err.message, true); }
    });
    $("#wizard-close").addEventListener("click", () => m.close());
    return { open: open, poll: poll, close: () => m.close() };
  };

  // Resend to failed: a new draft for the failed recipients another try may reach; the
  // list shows it with its Send button focused.
  S.resendFailed = async function resendFailed(id) {
    const draft = await api("POST", "/api/v1/campaigns/" + id + "/resend-failed");
    toast("Draft “" + draft.name + "” made for " + draft.resend_recipients + " recipient" +
          (draft.resend_recipients === 1 ? "" : "s") + ". Check it, then send it.");
    return draft;
  };

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
    const confirmSend = S.report.sendConfirmation();
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
        } else if (action === "unschedule") {
          await api("POST", "/api/v1/campaigns/" + id + "/unschedule");
          toast("“" + name + "” is a draft again; it will not be sent at its time.");
          await refreshList();
        } else if (action === "duplicate") {
          const copy = await api("POST", "/api/v1/campaigns/" + id + "/duplicate");
          S.go("/ui/campaigns/" + copy.id + "/edit", ["#f-name"]);
        } else if (action === "resend-failed") {
          const draft = await S.resendFailed(id);
          await refreshList({ row: String(draft.id), action: "send" });
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
    const body = $("#f-body");
    const updateCounter = S.attachCounter(body, $("#sms-counter"));
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
      const holdout = $("#f-holdout").value.trim();
      return {
        name: $("#f-name").value,
        segment: segment.value,
        body: body.value,
        template_id: template ? +template : null,
        holdout_percent: holdout === "" ? null : (/^\d+$/.test(holdout) ? +holdout : holdout),
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

    const showReport = S.report.formReport(body, bodyChanged);

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
        // How old the phone numbers are, when older than a minute (the worker checks them).
        $("#preview-phones").textContent = p.phones_note;
        $("#preview-phones").hidden = !p.phones_note;
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

    // "Save and schedule": the same save, then the time from the date picker (read by the
    // server in the business timezone). A scheduled campaign saved is a draft again until
    // the schedule call, so an edit while scheduled keeps its (possibly new) time.
    const scheduleButton = $("#save-schedule");
    const sendAt = $("#f-send-at");
    if (scheduleButton && sendAt) {
      scheduleButton.addEventListener("click", () => save(scheduleButton, sendAt.value));
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const rescheduling = form.dataset.campaignStatus === "scheduled" && sendAt && sendAt.value;
      save($("#save"), rescheduling ? sendAt.value : null);
    });
    function save(button, when) {
      const id = form.dataset.campaignId;
      const status = form.dataset.campaignStatus;
      if (when !== null && !when) {
        S.showErrors({ send_at: "Choose the date and time to send at." }, form, true);
        return;
      }
      if (id && status !== "scheduled" && (status !== "draft" || +form.dataset.campaignTotal > 0) &&
          !window.confirm("Saving turns this " + status + " campaign back into a draft and clears its logs. Continue?")) return;
      S.submitOnce(form, button, async () => {
        try {
          const data = collect();
          delete data.send_at;
          let saved = id ? await api("PUT", "/api/v1/campaigns/" + id, data)
            : await api("POST", "/api/v1/campaigns", data);
          if (when) {
            form.dataset.campaignId = saved.id;  // a new campaign exists now: no second copy
            form.dataset.campaignStatus = saved.status;
            saved = await api("POST", "/api/v1/campaigns/" + saved.id + "/schedule", { send_at: when });
            toast("“" + saved.name + "” is scheduled.");
          }
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
    }
  }

  S.pages.campaigns = initCampaignList;
  S.pages["campaign-form"] = initCampaignForm;
})();
