/*
 * The inbox in the browser: adaptive live-update polling, the live SMS counter and
 * keyboard shortcuts (canned replies, placeholders and presence: composer.js).
 *
 * Message bodies are untrusted: this file never builds HTML from strings. Text goes
 * through textContent and form values only; the HTML comes from the server's
 * escaped templates, swapped in by htmx.
 */
(function () {
  "use strict";

  // --- Live updates -----------------------------------------------------------------

  /*
   * How long to wait between polls, in ms, or null for "do not poll":
   * hidden tab -> never; visible and in use -> `interval`; visible but not focused, or
   * no input for `idleAfter` s -> `idleInterval`.
   */
  function pollDelay(state, config) {
    if (!state.visible) return null;
    if (!state.focused || state.idleMs > config.idleAfter * 1000) {
      return config.idleInterval * 1000;
    }
    return config.interval * 1000;
  }

  function startPolling(poller) {
    var config = {
      interval: parseFloat(poller.dataset.interval) || 3,
      idleInterval: parseFloat(poller.dataset.idleInterval) || 15,
      idleAfter: parseFloat(poller.dataset.idleAfter) || 60,
    };
    var lastInput = Date.now();
    var lastPoll = Date.now();

    ["keydown", "pointerdown", "pointermove", "wheel", "touchstart", "focus"].forEach(
      function (type) {
        window.addEventListener(
          type,
          function () {
            lastInput = Date.now();
          },
          { capture: true, passive: true }
        );
      }
    );

    function state() {
      return {
        visible: document.visibilityState === "visible",
        focused: document.hasFocus(),
        idleMs: Date.now() - lastInput,
      };
    }

    function tick() {
      var delay = pollDelay(state(), config);
      if (delay !== null && Date.now() - lastPoll >= delay) {
        lastPoll = Date.now();
        htmx.trigger(poller, "inbox:poll");
      }
    }

    setInterval(tick, Math.max(100, Math.min(1000, (config.interval * 1000) / 2)));
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") {
        lastPoll = 0; // catch up at once on coming back
        tick();
      }
    });
    // The cursor travels with every poll; each answer with changes brings the next one.
    document.body.addEventListener("htmx:configRequest", function (event) {
      if (event.detail.elt === poller) {
        event.detail.parameters.cursor = document.getElementById("inbox-cursor").dataset.cursor;
      }
    });
  }

  // --- Keeping the newest message in view ------------------------------------------

  // The element that scrolls the thread: a pane of its own on a wide screen, the thread
  // body on a medium one, the page on a phone.
  function threadScroller() {
    var node = document.getElementById("inbox-entries");
    for (node = node && node.parentElement; node && node !== document.body; node = node.parentElement) {
      var overflow = getComputedStyle(node).overflowY;
      if ((overflow === "auto" || overflow === "scroll") && node.scrollHeight > node.clientHeight) {
        return node;
      }
    }
    return document.scrollingElement;
  }

  // Is the end of the thread on screen (so new messages should keep it there)?
  function latestInView() {
    var entries = document.getElementById("inbox-entries");
    if (!entries) return false;
    var scroller = threadScroller();
    var bottom =
      scroller === document.scrollingElement
        ? window.innerHeight
        : scroller.getBoundingClientRect().bottom;
    return entries.getBoundingClientRect().bottom <= bottom + 40;
  }

  function scrollToLatest() {
    var entries = document.getElementById("inbox-entries");
    if (!entries) return;
    var box = document.getElementById("inbox-scroll");
    if (box && getComputedStyle(box).overflowY === "auto") {
      box.scrollTop = box.scrollHeight; // wide screen: the messages scroll on their own
      return;
    }
    // Otherwise the composer sits right under the newest message: bring it into view.
    var composer = document.getElementById("inbox-composer") || entries;
    composer.scrollIntoView({ block: "end" });
  }

  var pinned = true;
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "inbox-entries") {
      pinned = latestInView();
    }
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "inbox-entries" && pinned) {
      scrollToLatest();
    }
  });

  // The two-pane layout fills the window below the top bar, whatever its height.
  function fitToWindow() {
    var topbar = document.querySelector(".topbar");
    var top = topbar ? topbar.getBoundingClientRect().height : 0;
    document.documentElement.style.setProperty("--inbox-top", top + "px");
  }

  // --- The composer: live counter (canned replies: composer.js) -----------------------

  // The words come from Django's JavaScript catalog (/jsi18n/, loaded before this file),
  // in the page's language.
  function describe(info, maxSegments) {
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
      tooLong: info.segments > maxSegments,
    };
  }

  function updateCounter(textarea) {
    var counter = document.getElementById(textarea.dataset.counter);
    if (!counter || !window.TxtSyncSegments) return;
    var maxSegments = parseInt(textarea.dataset.maxSegments, 10) || 10;
    var text = describe(window.TxtSyncSegments.countSegments(textarea.value), maxSegments);
    counter.querySelector("[data-counter-summary]").textContent = text.summary;
    counter.querySelector("[data-counter-why]").textContent = text.tooLong
      ? interpolate(gettext("· Too long: at most %(segments)s SMS"), { segments: maxSegments }, true)
      : text.why;
    counter.classList.toggle("inbox-counter-ucs2", text.why !== "");
    counter.classList.toggle("inbox-counter-too-long", text.tooLong);
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-counter]")) {
      updateCounter(event.target);
    }
  });

  // --- Keyboard shortcuts --------------------------------------------------------------

  function typingIn(target) {
    return (
      target &&
      target.closest &&
      target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']")
    );
  }

  function moveInList(step) {
    var rows = Array.prototype.slice.call(document.querySelectorAll(".inbox-row-link"));
    if (!rows.length) return;
    var current = rows.findIndex(function (row) {
      return row.getAttribute("aria-current") === "true";
    });
    if (current !== -1) {
      // A thread is open: open the next / previous one.
      var next = rows[current + step];
      if (next) window.location.assign(next.href);
      return;
    }
    var focused = rows.indexOf(document.activeElement);
    var target = focused === -1 ? (step > 0 ? 0 : rows.length - 1) : focused + step;
    if (rows[target]) rows[target].focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.isComposing || typingIn(event.target)) return;
    var help = document.getElementById("inbox-help");
    if (help && help.open) return;
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      moveInList(event.key === "j" ? 1 : -1);
    } else if (event.key === "r") {
      var reply = document.getElementById("inbox-reply");
      if (reply && !reply.disabled) {
        event.preventDefault();
        reply.focus();
      }
    } else if (event.key === "e") {
      var close = document.getElementById("inbox-close-form");
      if (close) {
        event.preventDefault();
        close.requestSubmit();
      }
    } else if (event.key === "?") {
      if (help) {
        event.preventDefault();
        help.showModal();
      }
    }
  });

  // --- Start --------------------------------------------------------------------------

  function init(root) {
    var textareas = root.querySelectorAll ? root.querySelectorAll("textarea[data-counter]") : [];
    Array.prototype.forEach.call(textareas, updateCounter);
  }

  window.txtcrmInbox = { pollDelay: pollDelay, describe: describe };

  fitToWindow();
  window.addEventListener("resize", fitToWindow);
  var poller = document.getElementById("inbox-poll");
  if (poller && window.htmx) startPolling(poller);
  if (window.htmx) {
    htmx.onLoad(init);
  } else {
    init(document);
  }
  scrollToLatest();
})();
