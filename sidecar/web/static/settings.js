/* Booknetic SMS Campaigns — the Settings page (loaded only for users who may change them).
   Saving sends only the settings that differ from what the page last showed: a setting
   nobody touched keeps following its default (sidecar/tenant_settings.py). The answer is
   the whole object, which the form then shows; errors are shown beside their fields. */
(function () {
  "use strict";

  const S = window.BkntcSms;
  const { $, api, toast } = S;

  function initSettings() {
    const form = $("#settings-form");
    let shown = JSON.parse(form.dataset.initial);
    const quietOn = $("#st-quiet-on"), capOn = $("#st-cap-on");

    // An empty number box (or one holding no number, which reads as "") goes as null, and
    // the server says what the field needs.
    const number = (el) => (el.value.trim() === "" ? null : Number(el.value));
    const text = (el) => (el.value.trim() === "" ? null : el.value.trim());

    function toggle() {
      $("#st-quiet-start").disabled = $("#st-quiet-end").disabled = !quietOn.checked;
      $("#st-cap-max").disabled = $("#st-cap-days").disabled = !capOn.checked;
    }

    function collect() {
      return {
        quiet_hours: quietOn.checked
          ? { start: $("#st-quiet-start").value, end: $("#st-quiet-end").value } : null,
        frequency_cap: capOn.checked
          ? { max: number($("#st-cap-max")), days: number($("#st-cap-days")) } : null,
        attribution_days: number($("#st-attribution")),
        holdout_percent: number($("#st-holdout")),
        price_per_segment: text($("#st-price")),
        default_country: $("#st-country").value || null,
      };
    }

    // The values the server answered, back into the form (a price of "0.0100" shows as
    // the 0.01 it was stored as).
    function show(values) {
      shown = values;
      quietOn.checked = !!values.quiet_hours;
      if (values.quiet_hours) {
        $("#st-quiet-start").value = values.quiet_hours.start;
        $("#st-quiet-end").value = values.quiet_hours.end;
      }
      capOn.checked = !!values.frequency_cap;
      if (values.frequency_cap) {
        $("#st-cap-max").value = values.frequency_cap.max;
        $("#st-cap-days").value = values.frequency_cap.days;
      }
      $("#st-attribution").value = values.attribution_days;
      $("#st-holdout").value = values.holdout_percent;
      $("#st-price").value = values.price_per_segment === null ? "" : String(values.price_per_segment);
      $("#st-country").value = values.default_country || "";
      toggle();
    }

    // A value as text with its keys in order (the server's JSON sorts them, ours may not).
    const canon = (v) => (v && typeof v === "object"
      ? "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canon(v[k])).join(",") + "}"
      : JSON.stringify(v));

    // Only what changed; the price compares as a number (0.0100 is what 0.01 was).
    function changes() {
      const now = collect(), out = {};
      Object.keys(now).forEach((key) => {
        let same = canon(now[key]) === canon(shown[key]);
        if (key === "price_per_segment" && now[key] !== null && shown[key] !== null) {
          same = Number(now[key]) === shown[key];
        }
        if (!same) out[key] = now[key];
      });
      return out;
    }

    quietOn.addEventListener("change", toggle);
    capOn.addEventListener("change", toggle);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      S.submitOnce(form, $("#settings-save"), async () => {
        const data = changes();
        if (!Object.keys(data).length) {
          S.showErrors({}, form);
          toast("Nothing changed.");
          return;
        }
        try {
          show(await api("PUT", "/api/v1/settings", data));
          S.showErrors({}, form);
          toast("Settings saved.");
        } catch (err) {
          if (err.status === 422) S.showErrors(err.fields, form, true); else toast(err.message, true);
        }
      });
    });
    toggle();
  }

  S.pages.settings = initSettings;
})();
