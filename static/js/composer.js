/*
 * The inbox composer's helpers (loaded after inbox.js):
 * - canned replies: typing "/" at the start of a word in the reply (or pressing
 *   "Canned replies") opens a searchable list of the user's own and the team's replies
 *   (arrows to choose, Enter or Tab to insert, Esc to close); the text comes from the
 *   server already rendered for this contact (merge fields filled);
 * - placeholders such as [[time]]: selected for typing after an insert, Tab goes to the
 *   next one, and the reply is not sent while one is left (the server refuses it too);
 * - presence: each inbox poll says whether this user is typing and which presence line
 *   the page shows (messaging/presence.py), so the poll answers only when it changed.
 *
 * Texts are untrusted: everything is built with textContent, never from HTML strings.
 */
(function () {
  "use strict";

  var PLACEHOLDER = /\[\[[^\[\]\n]{1,40}\]\]/g;
  var SLASH = /(^|\s)\/([^\s\/]{0,40})$/;
  var TYPING_MS = 5000;

  function reply() {
    return document.getElementById("inbox-reply");
  }

  function pickerBox() {
    return document.getElementById("inbox-canned-picker");
  }

  // --- Placeholders ---------------------------------------------------------------------

  function placeholders(text) {
    var found = [];
    var match;
    PLACEHOLDER.lastIndex = 0;
    while ((match = PLACEHOLDER.exec(text)) !== null) {
      found.push({ start: match.index, end: match.index + match[0].length, text: match[0] });
    }
    return found;
  }

  // Select the first placeholder at or after `from` (else the first of all): true if any.
  function selectPlaceholder(textarea, from) {
    var all = placeholders(textarea.value);
    if (!all.length) return false;
    var next = all.find(function (p) {
      return p.start >= from;
    }) || all[0];
    textarea.focus();
    textarea.setSelectionRange(next.start, next.end);
    return true;
  }

  function showComposerError(composer, text) {
    var box = composer.querySelector("[data-placeholder-error]");
    if (!box) {
      box = document.createElement("p");
      box.className = "inbox-error";
      box.setAttribute("role", "alert");
      box.setAttribute("data-placeholder-error", "");
      var textarea = composer.querySelector("textarea");
      composer.insertBefore(box, textarea);
    }
    box.textContent = text;
  }

  // The Send is refused while a placeholder is left (capture: before htmx sees it).
  document.addEventListener(
    "submit",
    function (event) {
      var composer = event.target;
      if (!composer || composer.id !== "inbox-composer") return;
      var textarea = reply();
      var left = textarea ? placeholders(textarea.value) : [];
      if (!left.length) {
        lastTyped = 0;
        return;
      }
      event.preventDefault();
      event.stopPropagation();
      showComposerError(
        composer,
        interpolate(gettext("Fill in %(placeholder)s before sending."), { placeholder: left[0].text }, true)
      );
      selectPlaceholder(textarea, 0);
    },
    true
  );

  // --- The "/" list -----------------------------------------------------------------------

  var picker = { open: false, items: [], active: -1, start: 0, query: null, timer: null, seq: 0 };
  var cache = {};

  function slashQuery(textarea) {
    if (textarea.selectionStart !== textarea.selectionEnd) return null;
    var before = textarea.value.slice(0, textarea.selectionStart);
    var match = SLASH.exec(before);
    if (!match) return null;
    return { start: before.length - match[2].length - 1, query: match[2] };
  }

  function setExpanded(textarea, expanded) {
    textarea.setAttribute("aria-expanded", expanded ? "true" : "false");
    if (!expanded) textarea.removeAttribute("aria-activedescendant");
  }

  function closePicker() {
    var box = pickerBox();
    picker.open = false;
    picker.items = [];
    picker.active = -1;
    picker.query = null;
    if (box) box.hidden = true;
    var textarea = reply();
    if (textarea) setExpanded(textarea, false);
  }

  function markActive() {
    var box = pickerBox();
    var textarea = reply();
    if (!box || !textarea) return;
    var options = box.querySelectorAll("[role=option]");
    Array.prototype.forEach.call(options, function (option, index) {
      var active = index === picker.active;
      option.setAttribute("aria-selected", active ? "true" : "false");
      option.classList.toggle("inbox-canned-active", active);
      if (active) {
        textarea.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView({ block: "nearest" });
      }
    });
  }

  function option(item, index) {
    var li = document.createElement("li");
    li.id = "inbox-canned-option-" + index;
    li.setAttribute("role", "option");
    li.className = "inbox-canned-option";
    var title = document.createElement("span");
    title.className = "inbox-canned-title";
    title.textContent = item.title;
    li.appendChild(title);
    if (item.team) {
      var badge = document.createElement("span");
      badge.className = "inbox-canned-team";
      badge.textContent = gettext("Team");
      li.appendChild(badge);
    }
    var preview = document.createElement("span");
    preview.className = "inbox-canned-preview";
    preview.textContent = item.preview;
    li.appendChild(preview);
    // mousedown, not click: the reply box keeps the focus and the caret.
    li.addEventListener("mousedown", function (event) {
      event.preventDefault();
      insert(item);
    });
    return li;
  }

  function showResults(items) {
    var box = pickerBox();
    var textarea = reply();
    if (!box || !textarea || picker.query === null) return;
    picker.items = items;
    picker.active = items.length ? 0 : -1;
    var list = box.querySelector("[role=listbox]");
    list.replaceChildren.apply(list, items.map(option));
    box.querySelector("[data-canned-empty]").hidden = items.length > 0;
    box.hidden = false;
    picker.open = true;
    textarea.setAttribute("aria-controls", list.id);
    textarea.setAttribute("aria-autocomplete", "list");
    setExpanded(textarea, true);
    markActive();
  }

  function search(query) {
    var box = pickerBox();
    if (!box) return;
    if (cache[query]) {
      showResults(cache[query]);
      return;
    }
    var seq = ++picker.seq;
    var url = box.dataset.search + "&q=" + encodeURIComponent(query);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("canned replies: " + response.status);
        return response.json();
      })
      .then(function (data) {
        cache[query] = data.results;
        if (seq === picker.seq) showResults(data.results);
      })
      .catch(function () {
        if (seq === picker.seq) closePicker();
      });
  }

  function follow(textarea) {
    var found = slashQuery(textarea);
    if (!found) {
      if (picker.query !== null) closePicker();
      return;
    }
    picker.start = found.start;
    if (found.query === picker.query && picker.open) return;
    picker.query = found.query;
    clearTimeout(picker.timer);
    picker.timer = setTimeout(function () {
      search(found.query);
    }, 120);
  }

  function insert(item) {
    var textarea = reply();
    if (!textarea) return;
    var start = picker.start;
    var end = textarea.selectionStart;
    closePicker();
    textarea.focus();
    textarea.setRangeText(item.text, start, end, "end");
    if (!selectPlaceholder(textarea, start)) {
      textarea.setSelectionRange(start + item.text.length, start + item.text.length);
    }
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function move(step) {
    if (!picker.items.length) return;
    var count = picker.items.length;
    picker.active = (picker.active + step + count) % count;
    markActive();
  }

  // Keys in the reply box: the list's, when it is open; Tab between placeholders.
  function onKeydown(event) {
    if (event.isComposing || event.ctrlKey || event.metaKey || event.altKey) return;
    var textarea = event.target;
    if (picker.open) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        move(event.key === "ArrowDown" ? 1 : -1);
        return;
      }
      if ((event.key === "Enter" || event.key === "Tab") && picker.active !== -1) {
        event.preventDefault();
        insert(picker.items[picker.active]);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        closePicker();
        return;
      }
    }
    if (event.key === "Tab" && !event.shiftKey && placeholders(textarea.value).length) {
      event.preventDefault();
      selectPlaceholder(textarea, textarea.selectionEnd);
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.target && event.target.id === "inbox-reply") onKeydown(event);
  });

  var lastTyped = 0;
  var typingSaid = false;

  document.addEventListener("input", function (event) {
    var textarea = event.target;
    if (!textarea || textarea.id !== "inbox-reply") return;
    var box = textarea.form && textarea.form.querySelector("[data-placeholder-error]");
    if (box && !placeholders(textarea.value).length) box.remove();
    follow(textarea);
    if (event.isTrusted) noteTyping(textarea);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-canned-open]");
    if (button) {
      var textarea = reply();
      if (!textarea || textarea.disabled) return;
      textarea.focus();
      var at = textarea.selectionStart;
      var before = textarea.value.slice(0, at);
      textarea.setRangeText(before && !/\s$/.test(before) ? " /" : "/", at, textarea.selectionEnd, "end");
      follow(textarea);
      return;
    }
    if (picker.open && !(event.target.closest && event.target.closest("#inbox-canned-picker"))) {
      closePicker();
    }
  });

  document.addEventListener("focusout", function (event) {
    if (event.target && event.target.id === "inbox-reply") {
      setTimeout(function () {
        if (document.activeElement !== reply()) closePicker();
      }, 150);
    }
  });

  // --- Presence: what the poll tells the server ---------------------------------------------

  function typing() {
    var textarea = reply();
    return Boolean(textarea && textarea.value.trim() && Date.now() - lastTyped < TYPING_MS);
  }

  function noteTyping() {
    lastTyped = Date.now();
    var poller = document.getElementById("inbox-poll");
    if (!typingSaid && poller && window.htmx) {
      htmx.trigger(poller, "inbox:poll"); // teammates see it now, not at the next poll
    }
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || elt.id !== "inbox-poll") return;
    var line = document.getElementById("inbox-presence");
    if (!line) return;
    typingSaid = typing();
    event.detail.parameters.presence = line.dataset.token || "";
    event.detail.parameters.typing = typingSaid ? "1" : "0";
  });

  // --- Start ---------------------------------------------------------------------------------

  // A new composer (after a send, or sent back by the server): a fresh list, and a
  // placeholder left (the server refused the reply) selected for typing.
  function init(root) {
    if (!root || root.id !== "inbox-composer") return;
    closePicker();
    var textarea = root.querySelector("#inbox-reply");
    if (textarea && placeholders(textarea.value).length) selectPlaceholder(textarea, 0);
  }

  window.txtcrmComposer = { placeholders: placeholders };
  if (window.htmx) htmx.onLoad(init);
})();
