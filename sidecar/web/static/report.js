/* Booknetic SMS Campaigns — what a campaign's messages will be and cost before they go out:
   the render report (DESIGN.md §11) in words, for the campaign form's report card and the
   confirmation before Send. Loaded before campaigns.js, which uses S.report. */
(function () {
  "use strict";

  const S = window.BkntcSms;
  const { $, api, url, toast } = S;

  const NUM = new Intl.NumberFormat("en");
  const MONEY = new Intl.NumberFormat("en", { minimumFractionDigits: 2, maximumFractionDigits: 4 });
  const num = (x) => NUM.format(x);
  const plural = (count, one, many) => num(count) + " " + (count === 1 ? one : many || one + "s");
  // Characters people paste from word processors that have a plain GSM-7 twin.
  const PLAIN = { "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "\u00b4": "'",
                  "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2013": "-", "\u2014": "-",
                  "\u2026": "...", "\u00a0": " " };
  const PLAIN_RE = new RegExp("[" + Object.keys(PLAIN).join("") + "]", "g");
  const FIRST = "{customer_first_name}", NAME = "{customer_name}";
  // Beyond this many characters the list says "and N more" (names from many countries).
  const SHOWN_CHARACTERS = 6;

  // "“’” (right single quotation mark)": the name tells look-alikes apart (’ and ', – and -)
  // and names a symbol the browser may not draw; an accented letter needs none.
  function charLabel(char, source) {
    if (char === "\u00a0") return "A non-breaking space";
    // Quotes around a quotation mark would only confuse: a named character stands bare.
    if (source.name && !/^\p{L}$/u.test(char)) return char + " (" + source.name + ")";
    return "“" + char + "”";
  }

  const words = {
    // "All in GSM-7: 160 characters per SMS." / "1,100 in GSM-7 (…), 134 in UCS-2 (…)."
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
      // What the message itself brings first: that one the writer can change.
      const inBody = (c) => ((r.ucs2_sources[c] || {}).in_body ? 0 : 1);
      const chars = Object.keys(r.ucs2_characters).sort((a, b) => inBody(a) - inBody(b));
      const lines = chars.slice(0, SHOWN_CHARACTERS).map((char) => {
        const s = r.ucs2_sources[char] || {};
        const where = [];
        if (s.in_body) where.push("your message");
        if (s.first_names) where.push(plural(s.first_names, "first name"));
        if (s.last_names) where.push(plural(s.last_names, "last name"));
        return charLabel(char, s) + " in " + where.join(" and ") + ".";
      });
      const more = chars.length - SHOWN_CHARACTERS;
      if (more > 0) lines.push("And " + plural(more, "more character") + ": " + chars.slice(SHOWN_CHARACTERS).join(" ") + ".");
      return lines;
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
        if (code === FIRST) {
          // The words around the first use, cut at whole words.
          const start = body.indexOf(code);
          let before = body.slice(Math.max(0, start - 16), start);
          if (start > 16) before = "…" + before.replace(/^\S*\s+/, "");
          let after = body.slice(start + code.length).split(code).join("");
          if (after.length > 24) after = after.slice(0, 24).replace(/\s+\S*$/, "") + "…";
          return who + " no first name: they would get “" + (before + after).trim() + "”.";
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

  const plainQuotes = (text) => text.replace(PLAIN_RE, (c) => PLAIN[c]);
  const fullName = (text) => text.split(FIRST).join(NAME);
  const FULL_NAME_SAID = FIRST + " is now " + NAME + ": the full name, or the phone number when there is no name.";

  /* ---------------------------------------------------------------- the form's report card */
  // Binds the report card of the campaign form to `body` (its SMS text box); `changed` is
  // called after a fix rewrites the text. Returns show(report or null, problem).
  function formReport(body, changed) {
    // Fixes the report offers: the text changes, the counter and the report follow, and
    // focus goes to the text (the button that was pressed goes away).
    function rewrite(change, message) {
      body.value = change(body.value);
      changed();
      body.focus();
      toast(message);
    }
    $("#report-fix-quotes").addEventListener("click", () => rewrite(
      plainQuotes, "Curly quotes, long dashes and the like are now plain characters."));
    $("#report-use-name").addEventListener("click", () => rewrite(fullName, FULL_NAME_SAID));

    return function show(r, problem) {
      $("#render-report").removeAttribute("aria-busy");
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
      const cost = words.cost(r);
      $("#report-cost").hidden = cost === null;
      $("#report-cost-value").textContent = cost || "";
      $("#report-no-price").hidden = cost !== null || !r.messages;
      fillList($("#report-lines"), r.messages ? [words.histogram(r), words.encoding(r)] : []);
      const ucs2 = words.ucs2(r);
      $("#report-ucs2").hidden = !ucs2.length;
      $("#report-ucs2").classList.toggle("report-warn", !!r.ucs2_extra_segments);
      fillList($("#report-ucs2-list"), ucs2);
      $("#report-ucs2-cost").textContent = ucs2.length ? words.ucs2Cost(r) : "";
      $("#report-fix-quotes").hidden = !words.fixableInBody(r);
      const empties = words.empties(r, body.value);
      $("#report-empty-codes").hidden = !empties.length;
      fillList($("#report-empty-list"), empties);
      $("#report-use-name").hidden = !r.empty_placeholders[FIRST];
    };
  }

  /* ---------------------------------------------------------------- send confirmation */
  // The dialog before Send: recipients, segments and cost of the campaign as it would go out
  // now. ask(id, name, opener) resolves true when the user confirms; with nobody to send to,
  // it offers no Send.
  function sendConfirmation() {
    const dialog = $("#send-dialog");
    if (!dialog) return null;
    let answer = null, current = null;
    const settle = (value) => { const done = answer; answer = null; if (done) done(value); };
    const m = S.modal(dialog, () => { settle(false); return null; });
    $("#send-cancel").addEventListener("click", () => m.close());
    $("#send-confirm").addEventListener("click", () => { settle(true); m.close(); });

    function show(part) {
      ["#send-checking", "#send-ready", "#send-nobody", "#send-error"].forEach((sel) => {
        $(sel).hidden = sel !== part;
      });
    }

    function nobody(id, a) {
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
    }

    function fill(id, a) {
      current = { id: id, audience: a };
      if (!a.count) { nobody(id, a); return; }
      const r = a.render;
      show("#send-ready");
      $("#send-recipients").textContent = num(a.count);
      $("#send-segments").textContent = num(r.segments_total);
      const cost = words.cost(r);
      $("#send-cost").textContent = cost === null ? "—" : cost;
      $("#send-no-price").hidden = cost !== null;
      $("#send-cost-note").hidden = cost === null;
      $("#send-detail").textContent = words.histogram(r) + " " + words.encoding(r);
      const ucs2 = words.ucs2(r);
      // A warning when the characters cost more; a note when this text fits anyway.
      $("#send-ucs2").hidden = !ucs2.length;
      $("#send-ucs2").classList.toggle("report-warn", !!r.ucs2_extra_segments);
      $("#send-ucs2-cost").textContent = ucs2.length ? words.ucs2Cost(r) : "";
      fillList($("#send-ucs2-list"), ucs2);
      const empties = words.empties(r, a.body || "");
      $("#send-empty").hidden = !empties.length;
      fillList($("#send-empty-list"), empties);
      $("#send-use-name").hidden = !(r.empty_placeholders[FIRST] && a.actions.includes("edit"));
      const confirm = $("#send-confirm");
      confirm.hidden = false;
      confirm.textContent = "Send to " + plural(a.count, "recipient");
      $("#send-cancel").textContent = "Cancel";
    }

    function check(id) {
      return api("GET", "/api/v1/campaigns/" + id + "/audience").then((a) => {
        if (m.isOpen) fill(id, a);
      }).catch((err) => {
        if (!m.isOpen) return;
        show("#send-error");
        $("#send-error").textContent = "Could not check who would get it: " + err.message;
      });
    }

    // The offer for recipients without a first name: the campaign's text is saved with
    // {customer_name}, and the dialog shows the audience again with the new text.
    $("#send-use-name").addEventListener("click", async () => {
      const { id } = current;
      try {
        const c = await api("GET", "/api/v1/campaigns/" + id);
        await api("PUT", "/api/v1/campaigns/" + id, {
          name: c.name, body: fullName(c.body), segment: c.segment, filters: c.filters,
          template_id: c.template_id });
        toast(FULL_NAME_SAID);
        await check(id);
        S.focusOn($("#send-confirm")) || S.focusOn($("#send-title"));
      } catch (err) { toast(err.message, true); }
    });

    return function ask(id, name, opener) {
      $("#send-name").textContent = "“" + name + "”";
      $("#send-cancel").textContent = "Cancel";
      $("#send-confirm").hidden = true;
      $("#send-edit").hidden = true;
      show("#send-checking");
      settle(false);
      const result = new Promise((resolve) => { answer = resolve; });
      m.open($("#send-title"), opener);
      check(id);
      return result;
    };
  }

  S.report = { formReport: formReport, sendConfirmation: sendConfirmation };
})();
