/*
 * A searchable tag picker with chips, built over a <select multiple data-tag-picker>
 * (the campaign audience's three tag boxes). Progressive enhancement: without this file
 * the <select> works as it is (Ctrl-click); with it, the <select> is hidden but stays the
 * form's field, and every choice made here is made on its options, with a "change"
 * event, so the form posts the same values and the live preview follows.
 *
 * Keyboard: type to filter, ↓ / ↑ to move through the matches, Enter to add one, Esc to
 * close the list, Backspace in the empty box to remove the last chip; each chip has its
 * own remove button. The box is an ARIA 1.2 combobox with a listbox popup.
 *
 * Tag names are user input: this file never builds HTML from strings, only elements and
 * textContent. Its words come from Django's JavaScript catalog (/jsi18n/).
 */
(function () {
  "use strict";

  // gettext and interpolate: Django's JavaScript catalog, loaded before this file.
  function format(text, values) {
    return interpolate(text, values, true);
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function enhance(select) {
    if (select.dataset.tagPickerReady) return;
    select.dataset.tagPickerReady = "1";
    var id = select.id || "tag-picker-" + Math.random().toString(36).slice(2);
    var label = document.querySelector('label[for="' + id + '"]');
    var help = document.getElementById(id + "_helptext");

    var picker = element("div", "tag-picker");
    var chips = element("ul", "tag-picker-chips");
    var field = label ? label.textContent.trim() : gettext("Tags");
    chips.setAttribute("aria-label", format(gettext("%(field)s: chosen"), { field: field }));
    var input = element("input", "tag-picker-input");
    input.type = "text";
    input.id = id + "-search";
    input.autocomplete = "off";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id + "-options");
    input.placeholder = gettext("Type to find a tag");
    if (select.getAttribute("aria-describedby")) {
      input.setAttribute("aria-describedby", select.getAttribute("aria-describedby"));
    }
    var list = element("ul", "tag-picker-options");
    list.id = id + "-options";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", format(gettext("%(field)s: matches"), { field: field }));
    list.hidden = true;
    var status = element("p", "tag-picker-status contacts-sr-only");
    status.setAttribute("aria-live", "polite");

    picker.append(chips, input, list, status);
    select.after(picker);
    select.hidden = true;
    if (label) label.htmlFor = input.id; // the label now names (and focuses) the search box
    if (help) help.textContent = gettext("Type to find a tag; Enter adds it, Backspace removes the last one.");

    var active = -1; // index into the shown matches
    var shown = [];

    function changed(message) {
      select.dispatchEvent(new Event("change", { bubbles: true }));
      status.textContent = message;
      drawChips();
      drawList();
    }

    function choose(option) {
      option.selected = true;
      input.value = "";
      active = -1;
      changed(format(gettext("%(tag)s added."), { tag: option.text }));
      input.focus();
    }

    function remove(option) {
      option.selected = false;
      changed(format(gettext("%(tag)s removed."), { tag: option.text }));
      input.focus();
    }

    function drawChips() {
      chips.replaceChildren();
      Array.prototype.forEach.call(select.options, function (option) {
        if (!option.selected) return;
        var chip = element("li", "tag-picker-chip");
        chip.append(element("span", "tag-picker-chip-name", option.text));
        var button = element("button", "tag-picker-remove", "×");
        button.type = "button";
        button.setAttribute("aria-label", format(gettext("Remove %(tag)s"), { tag: option.text }));
        button.addEventListener("click", function () { remove(option); });
        chip.append(button);
        chips.append(chip);
      });
      chips.hidden = !chips.children.length;
    }

    function matches() {
      var query = input.value.trim().toLocaleLowerCase();
      return Array.prototype.filter.call(select.options, function (option) {
        return !option.selected && option.text.toLocaleLowerCase().indexOf(query) !== -1;
      });
    }

    function drawList() {
      if (list.hidden) return;
      shown = matches();
      active = Math.min(active, shown.length - 1);
      list.replaceChildren();
      shown.forEach(function (option, index) {
        var item = element("li", "tag-picker-option", option.text);
        item.id = id + "-option-" + index;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", index === active ? "true" : "false");
        if (index === active) item.classList.add("tag-picker-active");
        // mousedown, not click: the box keeps its focus, so the list stays open
        item.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(option);
        });
        list.append(item);
      });
      if (!shown.length) {
        list.append(element("li", "tag-picker-empty", gettext("No tag matches.")));
      }
      if (active >= 0) {
        input.setAttribute("aria-activedescendant", id + "-option-" + active);
        list.children[active].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function open() {
      if (!list.hidden) return;
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      drawList();
    }

    function close() {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function move(step) {
      open();
      if (!shown.length) return;
      active = (active + step + shown.length) % shown.length;
      drawList();
    }

    function lastChosen() {
      var chosen = Array.prototype.filter.call(select.options, function (o) { return o.selected; });
      return chosen[chosen.length - 1];
    }

    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") { event.preventDefault(); move(1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); move(-1); }
      else if (event.key === "Enter") {
        if (list.hidden) return; // a closed list: Enter submits the form, as usual
        event.preventDefault(); // an open list: Enter picks, never submits
        var pick = active >= 0 ? shown[active] : (input.value.trim() && shown.length === 1 ? shown[0] : null);
        if (pick) choose(pick);
      } else if (event.key === "Escape") {
        if (!list.hidden) { event.preventDefault(); close(); }
      } else if (event.key === "Backspace" && !input.value && lastChosen()) {
        remove(lastChosen());
      }
    });
    input.addEventListener("input", function () {
      active = input.value.trim() ? 0 : -1;
      open();
      drawList();
    });
    input.addEventListener("focus", open);
    input.addEventListener("click", open);
    input.addEventListener("blur", close);
    // The form's reset or a script may change the <select>: follow it.
    select.addEventListener("change", function (event) {
      if (event.isTrusted) drawChips();
    });

    drawChips();
  }

  function start() {
    document.querySelectorAll("select[multiple][data-tag-picker]").forEach(enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
