/* Booknetic SMS Campaigns — the message templates, the suppression list and the Send SMS
   page. Shared helpers are in app.js; the sending wizard is in campaigns.js. Lists are
   re-rendered in place after a change (BkntcSms.refreshRegions), keeping focus. */
(function () {
  "use strict";

  const S = window.BkntcSms;
  const { $, $$, api, toast } = S;

  /* ---------------------------------------------------------------- templates */
  function initTemplates() {
    const dialog = $("#template-dialog");
    const form = $("#template-form");
    const name = $("#t-name"), body = $("#t-body");
    const update = S.attachCounter(body, form);
    S.bindShortcodes(body, update);
    const refreshList = (key) => S.refreshRegions(["#template-list"], key, ["#new-template"]);
    let editing = null, saved = false;
    const m = S.modal(dialog, (key) => (saved ? refreshList(key) : null));

    function open(title, values, id) {
      editing = id;
      saved = false;
      $("#template-title").textContent = title;
      name.value = values.name || "";
      body.value = values.body || "";
      S.showErrors({}, form);
      update();
      m.open(name);
    }
    $("#new-template").addEventListener("click", () => open("New template", {}, null));
    $("#template-cancel").addEventListener("click", () => m.close());
    $("main").addEventListener("click", async (event) => {
      const button = event.target.closest("#template-table button[data-action]");
      if (!button) return;
      const row = button.closest("tr");
      const action = button.dataset.action;
      if (action === "copy") open("New template", { name: row.dataset.name + " (copy)", body: row.dataset.body }, null);
      if (action === "edit") open("Edit template", { name: row.dataset.name, body: row.dataset.body }, +row.dataset.id);
      if (action === "delete") {
        if (!window.confirm("Delete the template “" + row.dataset.name + "”?")) return;
        try {
          await api("DELETE", "/api/v1/templates/" + row.dataset.id);
          toast("Template “" + row.dataset.name + "” deleted.");
          await refreshList();
        } catch (err) { toast(err.message, true); }
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      S.submitOnce(form, $("#template-save"), async () => {
        const data = { name: name.value, body: body.value };
        try {
          if (editing) await api("PUT", "/api/v1/templates/" + editing, data);
          else await api("POST", "/api/v1/templates", data);
          saved = true;
          toast("Template “" + data.name + "” saved.");
          m.close();
        } catch (err) {
          if (err.status === 422) S.showErrors(err.fields, form, true); else toast(err.message, true);
        }
      });
    });
  }

  /* ---------------------------------------------------------------- suppression list */
  function initSuppressions() {
    const one = $("#suppress-one"), many = $("#suppress-many");
    const refreshList = (key) => S.refreshRegions(["#suppress-list"], key, ["#s-q", "#s-phone"]);
    one.addEventListener("submit", (event) => {
      event.preventDefault();
      S.submitOnce(one, $("#s-add"), async () => {
        try {
          const row = await api("POST", "/api/v1/suppressions",
                                { phone: $("#s-phone").value, reason: $("#s-reason").value });
          S.showErrors({}, one);
          toast(row.added ? row.phone + " added to the suppression list." : row.message);
          $("#s-phone").value = "";
          $("#s-reason").value = "";
          $("#s-phone").focus();  // ready for the next number
          await refreshList();
        } catch (err) {
          if (err.status === 422) S.showErrors(err.fields, one, true); else toast(err.message, true);
        }
      });
    });
    many.addEventListener("submit", (event) => {
      event.preventDefault();
      const list = $("#s-invalid");
      list.hidden = true;
      list.replaceChildren();
      S.submitOnce(many, $("#s-add-many"), async () => {
        try {
          const res = await api("POST", "/api/v1/suppressions/bulk", {
            numbers: $("#s-numbers").value, reason: $("#s-bulk-reason").value,
            skip_invalid: $("#s-skip-invalid").checked });
          S.showErrors({}, many);
          let text = res.added + " added";
          if (res.already) text += ", " + res.already + " already on the list";
          if (res.invalid.length) text += ", " + res.invalid.length + " invalid skipped";
          toast(text + ".");
          $("#s-numbers").value = "";
          $("#s-numbers").focus();
          await refreshList();
        } catch (err) {
          (err.invalid || []).forEach((raw) => {
            const li = document.createElement("li");
            li.textContent = raw;
            list.append(li);
          });
          list.hidden = !(err.invalid || []).length;
          if (err.status === 422) S.showErrors(err.fields, many, true); else toast(err.message, true);
        }
      });
    });
    $("main").addEventListener("click", async (event) => {
      const button = event.target.closest("#suppress-table button[data-action=remove]");
      if (!button) return;
      const row = button.closest("tr");
      const phone = row.dataset.phone;
      if (!window.confirm("Remove " + phone + " from the suppression list? It can receive SMS again.")) return;
      try {
        await api("DELETE", "/api/v1/suppressions/" + row.dataset.id);
        toast(phone + " removed.");
        await refreshList();
      } catch (err) { toast(err.message, true); }
    });
  }

  /* ---------------------------------------------------------------- test and one-off SMS */
  // The "Send to" tab set: one tab stop; arrow keys, Home and End move and select.
  function bindModeTabs(onSelect) {
    const tabs = $$("[role=tablist] [role=tab]");
    function select(tab, focus) {
      tabs.forEach((t) => {
        const on = t === tab;
        t.setAttribute("aria-selected", on ? "true" : "false");
        t.tabIndex = on ? 0 : -1;
        t.classList.toggle("active", on);
        $("#" + t.getAttribute("aria-controls")).hidden = !on;
      });
      if (focus) tab.focus();
      onSelect(tab.dataset.mode);
    }
    tabs.forEach((tab) => tab.addEventListener("click", () => select(tab, false)));
    $("[role=tablist]").addEventListener("keydown", (event) => {
      const at = tabs.indexOf(document.activeElement);
      const to = { ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1,
                   Home: 0, End: tabs.length - 1 }[event.key];
      if (at < 0 || to === undefined) return;
      event.preventDefault();
      select(tabs[(to + tabs.length) % tabs.length], true);
    });
  }

  function initSms() {
    const testForm = $("#test-form");
    testForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const out = $("#test-result");
      S.showErrors({}, testForm);
      S.submitOnce(testForm, $("#test-send"), async () => {
        try {
          const res = await api("POST", "/api/v1/sms/test",
                                { phone: $("#test-phone").value, body: $("#test-body").value });
          S.result(out, "Sent to " + res.to + " (Twilio id " + res.message_id + "): “" + res.body + "”");
        } catch (err) {
          if (err.status === 422) S.showErrors(err.fields, testForm, true);
          S.result(out, err.message, true);
        }
      });
    });

    const form = $("#manual-form");
    const body = $("#manual-body");
    S.attachCounter(body, $("#manual-counter"));
    let mode = "customers";
    const picked = new Map();
    bindModeTabs((chosen) => { mode = chosen; });

    function drawPicked() {
      $("#picked-count").textContent = picked.size;
      $("#picked").textContent = picked.size ? "(" + Array.from(picked.values()).join(", ") + ")" : "";
    }

    let searchTimer = null, searchSeq = 0;
    async function search(page) {
      const seq = ++searchSeq;
      const q = $("#customer-q").value.trim();
      const list = $("#customer-results");
      const pager = $("#customer-pager");
      // A pager button is replaced below: focus goes to its new copy (or the other one).
      const pagerFocus = pager.contains(document.activeElement) ? document.activeElement.dataset.step : null;
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
          label.append(box, text);
          if (!c.phone) {
            // Said in words, not only in red.
            text.classList.add("bad");
            text.title = "No valid phone number";
            const why = document.createElement("span");
            why.className = "bad";
            why.textContent = " (no valid phone number)";
            label.append(why);
          }
          li.append(label);
          list.append(li);
        });
        pager.replaceChildren();
        const pages = Math.ceil(res.total / res.per_page);
        $("#customer-found").textContent = res.total + " customer" + (res.total === 1 ? "" : "s") + " found" +
          (pages > 1 ? ", page " + res.page + " of " + pages : "") + ".";
        if (pages > 1) {
          const info = document.createElement("span");
          info.textContent = "Page " + res.page + " of " + pages + " (" + res.total + " customers) ";
          pager.append(info);
          [["‹ Previous", res.page - 1, "prev"], ["Next ›", res.page + 1, "next"]].forEach(([label, target, step]) => {
            if (target < 1 || target > pages) return;
            const b = document.createElement("button");
            b.type = "button"; b.className = "chip"; b.textContent = label; b.dataset.step = step;
            b.addEventListener("click", () => search(target));
            pager.append(b);
          });
        }
        if (pagerFocus) {
          S.focusOn($('[data-step="' + pagerFocus + '"]', pager)) || S.focusOn($("button", pager)) ||
            S.focusOn($("input", list)) || S.focusOn($("#customer-q"));
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

    const w = S.wizard(() => S.refreshRegions(["#oneoff-list"]),
                       "Still sending in the background. It is listed under Recent one-off messages.");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const out = $("#manual-result");
      S.showErrors({}, form);
      const data = { body: body.value };
      if (mode === "customers") data.customer_ids = Array.from(picked.keys());
      else data.numbers = $("#manual-numbers").value;
      const who = mode === "customers" ? picked.size + " selected customer(s)" : "the pasted numbers";
      if (!window.confirm("Send this SMS now to " + who + "?")) return;
      S.submitOnce(form, $("#manual-send"), async () => {
        try {
          const res = await api("POST", "/api/v1/sms/send", data);
          const notes = [];
          if (res.skipped_suppressed.length) notes.push(res.skipped_suppressed.length + " skipped (suppressed)");
          if (res.invalid.length) notes.push(res.invalid.length + " invalid: " + res.invalid.join(", "));
          if (res.duplicates) notes.push(res.duplicates + " duplicate(s) merged");
          S.result(out, "Sending to " + res.total + " recipient" + (res.total === 1 ? "" : "s") +
                   (notes.length ? " — " + notes.join("; ") : "") + ".");
          w.open(res.campaign_id, "one-off SMS", false, $("#manual-send"));
        } catch (err) {
          if (err.status === 422) S.showErrors(err.fields, form, true);
          S.result(out, err.message + (err.invalid && err.invalid.length ? " Invalid: " + err.invalid.join(", ") : ""), true);
        }
      });
    });
  }

  S.pages.templates = initTemplates;
  S.pages.suppressions = initSuppressions;
  S.pages.sms = initSms;
})();
