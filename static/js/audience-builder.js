/*
 * The segment builder (audiences/templates/audiences/form.html): add and remove
 * condition rows, show each field's operators only, and hide the value box when the
 * operator takes none. A field whose value comes from a closed set (data-choices on its
 * option, e.g. marketing consent) gets that set's select instead of the text box; the
 * box not in use is disabled, so each row posts exactly one `value`. The live count is a plain htmx attribute on the page; this file
 * tells it when rows come or go. It never builds HTML from strings: rows are cloned
 * from a <template>.
 */
(function () {
  "use strict";

  function refreshRow(row) {
    var field = row.querySelector("[data-segment-field]");
    var op = row.querySelector("[data-segment-op]");
    var value = row.querySelector("[data-segment-value]");
    var chosen = field.selectedOptions[0];
    var ops = chosen && chosen.dataset.ops ? chosen.dataset.ops.split(",") : [];
    var valueOps = chosen && chosen.dataset.valueOps ? chosen.dataset.valueOps.split(",") : [];
    Array.prototype.forEach.call(op.options, function (option) {
      option.hidden = ops.indexOf(option.value) === -1;
    });
    if (ops.length && ops.indexOf(op.value) === -1) op.value = ops[0];
    var takesValue = valueOps.indexOf(op.value) !== -1;
    var choices = (chosen && chosen.dataset.choices) || "";
    value.disabled = choices !== "";
    value.hidden = !takesValue || choices !== "";
    value.placeholder = (chosen && chosen.dataset.hint) || "";
    row.querySelectorAll("[data-segment-choices]").forEach(function (select) {
      var inUse = select.dataset.segmentChoices === choices;
      select.disabled = !inUse;
      select.hidden = !inUse || !takesValue;
    });
  }

  function changed() {
    document.body.dispatchEvent(new CustomEvent("segment-rows-changed"));
  }

  document.addEventListener("change", function (event) {
    var row = event.target.closest && event.target.closest(".segments-row");
    if (row) refreshRow(row);
  });

  document.addEventListener("click", function (event) {
    var remove = event.target.closest && event.target.closest("[data-segment-remove]");
    if (remove) {
      remove.closest(".segments-row").remove();
      changed();
      return;
    }
    if (event.target.id === "segment-add") {
      var template = document.getElementById("segment-row-template");
      var rows = document.getElementById("segment-rows");
      var row = template.content.firstElementChild.cloneNode(true);
      rows.appendChild(row);
      refreshRow(row);
      row.querySelector("[data-segment-field]").focus();
    }
  });

  document.querySelectorAll("#segment-rows .segments-row").forEach(refreshRow);
})();
