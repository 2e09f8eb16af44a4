/*
 * The campaign pages in the browser: the composer's live SMS counter (the rules of
 * static/js/segments.js, which mirrors txtsync/segments.py), merge-field buttons, the
 * schedule fields shown only when needed, confirmations, and each time also shown in
 * the viewer's own time zone. The live preview and the progress poll are plain htmx
 * attributes in the templates.
 *
 * Campaign texts and names are user input: this file never builds HTML from strings,
 * only textContent and form values.
 */
(function () {
  "use strict";

  // --- The live counter ---------------------------------------------------------------

  // The words come from Django's JavaScript catalog (/jsi18n/, loaded before this file),
  // in the page's language.
  function describe(info) {
    return {
      summary: interpolate(
        ngettext(
          "%(characters)s character · %(encoding)s · %(segments)s SMS (%(remaining)s left)",
          "%(characters)s characters · %(encoding)s · %(segments)s SMS (%(remaining)s left)",
          info.characters
        ),
        info,
        true
      ),
      why: info.nonGsmCharacters.length
        ? interpolate(
            gettext("· UCS-2 because of %(characters)s"),
            { characters: info.nonGsmCharacters.slice(0, 5).join(" ") },
            true
          )
        : "",
    };
  }

  // A marketing campaign's texts end with the account's opt-out footer (unless they say it
  // already), as campaigns.services.with_footer adds it: count it in.
  function withFooter(textarea) {
    var footer = (textarea.dataset.footer || "").trim();
    var marketing = textarea.form && textarea.form.querySelector("input[name=marketing]");
    var value = textarea.value;
    if (!footer || !marketing || !marketing.checked || !value.trim()) return value;
    if (value.toLowerCase().indexOf(footer.toLowerCase()) !== -1) return value;
    return value.replace(/\s+$/, "") + "\n" + footer;
  }

  function updateCounter(textarea) {
    var counter = document.getElementById(textarea.dataset.counter);
    if (!counter || !window.TxtSyncSegments) return;
    var text = describe(window.TxtSyncSegments.countSegments(withFooter(textarea)));
    counter.querySelector("[data-counter-summary]").textContent = text.summary;
    counter.querySelector("[data-counter-why]").textContent = text.why;
    counter.classList.toggle("campaigns-counter-ucs2", text.why !== "");
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-counter]")) {
      updateCounter(event.target);
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.name === "marketing" && event.target.form) {
      var textarea = event.target.form.querySelector("textarea[data-counter]");
      if (textarea) updateCounter(textarea);
    }
  });

  // --- Merge-field buttons: insert {Field} at the cursor --------------------------------

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-insert]");
    if (!button) return;
    var textarea = document.querySelector("#campaign-form textarea[name=template]");
    if (!textarea) return;
    var field = "{" + button.dataset.insert + "}";
    textarea.setRangeText(field, textarea.selectionStart, textarea.selectionEnd, "end");
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    textarea.focus();
  });

  // --- Schedule: the date and time only matter for "at a date and time" -----------------

  function updateSchedule(form) {
    var later = form.querySelector("input[name=schedule][value=later]");
    var fields = document.getElementById("campaign-schedule-at");
    if (later && fields) fields.hidden = !later.checked;
  }

  document.addEventListener("change", function (event) {
    if (event.target.name === "schedule" && event.target.form) updateSchedule(event.target.form);
  });

  // --- Confirm before a form with data-confirm is sent ------------------------------------

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // --- Times: shown in the account's zone; add the viewer's when it differs ---------------

  function localise(root) {
    var times = root.querySelectorAll ? root.querySelectorAll("time[data-local-time]") : [];
    Array.prototype.forEach.call(times, function (node) {
      if (node.dataset.localised) return;
      node.dataset.localised = "yes";
      var at = new Date(node.getAttribute("datetime"));
      if (isNaN(at.getTime())) return;
      var shown = node.getAttribute("datetime").slice(-6); // the page's offset, e.g. +01:00
      var minutes = -at.getTimezoneOffset();
      var sign = minutes < 0 ? "-" : "+";
      var own =
        sign +
        String(Math.floor(Math.abs(minutes) / 60)).padStart(2, "0") +
        ":" +
        String(Math.abs(minutes) % 60).padStart(2, "0");
      if (own === shown) return;
      var extra = document.createElement("span");
      extra.className = "muted campaigns-local-time";
      var time = at.toLocaleString(document.documentElement.lang || undefined, {
        weekday: "short",
        day: "numeric",
        month: "short",
        hour: "2-digit",
        minute: "2-digit",
      });
      extra.textContent = " (" + interpolate(gettext("%(time)s your time"), { time: time }, true) + ")";
      node.after(extra);
    });
  }

  // --- Start ----------------------------------------------------------------------------

  function init(root) {
    var textareas = root.querySelectorAll ? root.querySelectorAll("textarea[data-counter]") : [];
    Array.prototype.forEach.call(textareas, updateCounter);
    var form = document.getElementById("campaign-form");
    if (form) updateSchedule(form);
    localise(root);
  }

  window.txtcrmCampaigns = { describe: describe };
  if (window.htmx) {
    htmx.onLoad(init);
  } else {
    init(document);
  }
})();
