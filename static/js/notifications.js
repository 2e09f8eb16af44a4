/*
 * Notifications in the browser (docs/notifications.md): the top bar's unread count,
 * browser notifications with an optional sound for new ones, the permission button on
 * the notification settings page, and the service worker of the installable app.
 *
 * The count comes from /notifications/badge.json, polled while a tab is open (more
 * often while it is visible, and at once after an inbox poll that brought changes).
 * A browser notification is shown only for notifications newer than the last one this
 * browser has seen (kept in localStorage per user, shared by its tabs), and only with
 * the permission the user gave by clicking the button: it is never asked on page load.
 * Texts go through textContent and the Notification API only, never into HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;

  function registerServiceWorker() {
    var url = script && script.dataset.serviceWorker;
    if (!url || !("serviceWorker" in navigator) || !window.isSecureContext) return;
    navigator.serviceWorker.register(url, { scope: "/" }).catch(function () {});
  }

  function permission() {
    return "Notification" in window ? Notification.permission : "unsupported";
  }

  function playSound(url) {
    try {
      var audio = new Audio(url);
      var playing = audio.play();
      if (playing && playing.catch) playing.catch(function () {});
    } catch (error) {
      /* no audio here */
    }
  }

  function show(item, icon) {
    var options = { body: item.body, tag: "txtcrm-" + item.id, icon: icon, data: { url: item.url } };
    try {
      var shown = new Notification(item.title, options);
      shown.onclick = function () {
        window.focus();
        window.location.href = item.url;
        shown.close();
      };
    } catch (error) {
      // Phones (Chrome on Android) show notifications through the service worker only.
      if ("serviceWorker" in navigator) {
        navigator.serviceWorker.ready.then(function (registration) {
          return registration.showNotification(item.title, options);
        }).catch(function () {});
      }
    }
  }

  // --- The badge and browser notifications -----------------------------------------

  function startBadge(bell) {
    var count = document.getElementById("notif-count");
    var key = "txtcrm.notifications.seen." + bell.dataset.user;
    var interval = (parseFloat(bell.dataset.interval) || 10) * 1000;
    var hiddenInterval = (parseFloat(bell.dataset.hiddenInterval) || 30) * 1000;
    var timer = null;
    var busy = false;

    function seen() {
      var value = parseInt(window.localStorage.getItem(key), 10);
      return isNaN(value) ? null : value;
    }

    function render(unread) {
      count.textContent = unread > 99 ? "99+" : String(unread);
      count.hidden = unread === 0;
      bell.classList.toggle("notif-bell-unread", unread > 0);
    }

    function announce(items) {
      var sound = false;
      items.forEach(function (item) {
        if (!item.browser || permission() !== "granted") return;
        show(item, bell.dataset.icon);
        sound = sound || item.sound;
      });
      if (sound) playSound(bell.dataset.sound);
    }

    // An open thread (the inbox's #inbox-thread) reads what told this user of it: while
    // something is unread, once per conversation shown and newest notification.
    var readFor = null;
    function readOpenThread(data) {
      var thread = document.getElementById("inbox-thread");
      var token = document.querySelector("input[name=csrfmiddlewaretoken]");
      var id = thread && thread.dataset.conversation;
      if (!data.unread || !id || !token || id + ":" + data.last_id === readFor) return;
      readFor = id + ":" + data.last_id;
      var url = bell.dataset.readUrl.replace("/0/", "/" + encodeURIComponent(id) + "/");
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": token.value },
      })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (data) {
          if (data) render(data.unread);
        })
        .catch(function () {});
    }

    function answered(data, after) {
      render(data.unread);
      readOpenThread(data);
      var newest = Math.max(after === null ? 0 : after, data.last_id);
      if (after === null || newest > after) window.localStorage.setItem(key, String(newest));
      announce(data.new);
    }

    function poll() {
      if (busy) return;
      busy = true;
      var after = seen();
      var url = bell.dataset.badgeUrl + (after === null ? "" : "?after=" + after);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (data) {
          if (data) answered(data, after);
        })
        .catch(function () {})
        .then(function () {
          busy = false;
          schedule();
        });
    }

    function schedule() {
      window.clearTimeout(timer);
      var visible = document.visibilityState === "visible";
      timer = window.setTimeout(poll, visible ? interval : hiddenInterval);
    }

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") poll();
    });
    // The inbox's own poll found changes (a new text, an assignment): look at once.
    document.addEventListener("htmx:afterRequest", function (event) {
      var elt = event.detail && event.detail.elt;
      if (elt && elt.id === "inbox-poll" && event.detail.xhr && event.detail.xhr.status === 200) {
        poll();
      }
    });
    poll();
  }

  // --- The settings page: asking for permission, politely ---------------------------

  function startPermissionButton(button) {
    var states = document.querySelectorAll("#notif-permission-state [data-state]");
    var test = document.getElementById("notif-test");
    var bell = document.getElementById("notif-bell");

    function refresh() {
      var current = permission();
      states.forEach(function (state) {
        state.hidden = state.dataset.state !== current;
      });
      button.hidden = current !== "default";
    }

    button.addEventListener("click", function () {
      var asked = Notification.requestPermission(refresh);
      if (asked && asked.then) asked.then(refresh);
    });
    if (test && bell) {
      test.hidden = false;
      test.addEventListener("click", function () {
        playSound(bell.dataset.sound);
      });
    }
    refresh();
  }

  function start() {
    registerServiceWorker();
    var bell = document.getElementById("notif-bell");
    if (bell && window.fetch && window.localStorage) startBadge(bell);
    var button = document.getElementById("notif-permission");
    if (button) startPermissionButton(button);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
