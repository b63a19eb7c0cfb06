// circlebook's pages work without this script; with it they filter lists as you type,
// ask before destructive posts, follow the account's event stream (GET /v1/events,
// authenticated by the session cookie) to refresh the page's live regions in place,
// and offer notifications on the phone (Web Push, through the service worker).
(function () {
  "use strict";

  var NOT_DIGIT = /\D/g;

  // An input with data-filter="ID" hides the [data-search] items of list ID that do
  // not match; the server's search (books.py: matches) uses the same rule.
  function applyFilter(input) {
    var list = document.getElementById(input.getAttribute("data-filter"));
    if (!list) return;
    var query = input.value.trim().toLowerCase();
    var digits = query.replace(NOT_DIGIT, "");
    var shown = 0;
    list.querySelectorAll("[data-search]").forEach(function (item) {
      var key = item.getAttribute("data-search");
      var hit = !query || key.indexOf(query) >= 0 || (digits !== "" && key.indexOf(digits) >= 0);
      item.hidden = !hit;
      if (hit) shown += 1;
    });
    var none = document.getElementById(list.id + "-none");
    if (none) none.hidden = shown > 0;
  }

  function filterAll() {
    document.querySelectorAll("input[data-filter]").forEach(applyFilter);
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("input[data-filter]")) applyFilter(event.target);
  });

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // "Copy the link": put the link of the box beside the button on the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var box = document.getElementById(button.getAttribute("data-copy"));
    if (!box) return;
    var done = function () { button.textContent = button.getAttribute("data-copied"); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(box.value).then(done, function () { box.select(); });
    } else {
      box.select(); // the person copies it by hand
    }
  });

  // "Pick from my contacts": the Contact Picker API, where the browser has it (Chrome on
  // Android). The people ticked there become lines of the typed box, "name number", and
  // the form goes on to the pick-and-tag step as an uploaded file does.
  function contactLines(contacts) {
    var lines = [];
    contacts.forEach(function (contact) {
      var name = (contact.name && contact.name[0]) || "";
      (contact.tel || []).slice(0, 1).forEach(function (tel) {
        lines.push((name + " " + tel).trim());
      });
    });
    return lines;
  }

  function offerContactPicker() {
    if (!(navigator.contacts && typeof navigator.contacts.select === "function")) return;
    document.querySelectorAll("[data-contact-picker]").forEach(function (picker) {
      picker.hidden = false;
      var button = picker.querySelector("[data-pick-contacts]");
      button.addEventListener("click", function () {
        navigator.contacts.select(["name", "tel"], { multiple: true }).then(function (contacts) {
          var lines = contactLines(contacts || []);
          if (!lines.length) return;
          var form = button.closest("form");
          var box = form.querySelector("textarea[name=numbers]");
          box.value = (box.value.trim() ? box.value.trim() + "\n" : "") + lines.join("\n");
          if (form.reportValidity()) form.submit();
        }, function () { /* the person closed the picker: nothing to do */ });
      });
    });
  }

  // Live regions: [data-live-region] elements with an id, swapped for the same
  // elements of a fresh copy of this page.
  var pending = null;
  var refreshes = 0;
  var goingLive = false;
  var stale = false; // a region kept its old content because someone was editing it

  // A region someone is editing (a field focused, or changed and not yet sent) is
  // left alone: a refresh must never pull a field from under the person typing.
  function busy(region) {
    var active = document.activeElement;
    if (active && region.contains(active) && active.matches("input, textarea, select")) return true;
    return Array.prototype.some.call(region.querySelectorAll("input, textarea"), function (field) {
      if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
      return field.type !== "hidden" && field.value !== field.defaultValue;
    });
  }

  function refresh() {
    pending = null;
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          window.location.reload(); // gone or signed out: let the server say so
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (html === null) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var deferred = false;
        document.querySelectorAll("[data-live-region]").forEach(function (region) {
          var replacement = fresh.getElementById(region.id);
          if (!replacement) return;
          if (busy(region)) {
            deferred = true;
          } else {
            region.replaceWith(document.importNode(replacement, true));
          }
        });
        var count = fresh.querySelector("[data-pending]");
        var mine = document.querySelector("[data-pending]");
        if (mine && count) {
          mine.textContent = count.textContent;
          mine.hidden = count.hidden;
        }
        filterAll();
        refreshes += 1;
        document.documentElement.setAttribute("data-refreshes", String(refreshes));
        if (goingLive) {
          goingLive = false;
          document.documentElement.setAttribute("data-live", "ready");
        }
        stale = deferred;
      })
      .catch(function () { schedule(3000); });
  }

  function schedule(delay) {
    if (pending === null) pending = window.setTimeout(refresh, delay);
  }

  // Try the parts kept for an edit again once the person moves on.
  document.addEventListener("focusout", function () {
    if (stale) schedule(500);
  });

  function follow(body) {
    var types = (body.getAttribute("data-live-events") || "").split(" ").filter(Boolean);
    if (!types.length || !window.EventSource) return;
    var book = body.getAttribute("data-live-book");
    var source = new EventSource("/v1/events");
    source.addEventListener("ready", function () {
      // Catch up on whatever happened between rendering this page (or losing the
      // stream) and the stream going live; then nothing is missed.
      goingLive = true;
      schedule(0);
    });
    source.addEventListener("resync", function () { schedule(0); });
    types.forEach(function (type) {
      source.addEventListener(type, function (event) {
        var data = JSON.parse(event.data);
        if (book && data.book_id && data.book_id !== book) return;
        if (book && type === "book.left") {
          source.close();
          window.location.reload();
          return;
        }
        schedule(150);
      });
    });
    source.addEventListener("error", function () {
      document.documentElement.setAttribute("data-live", "reconnecting");
    });
  }

  // The service worker (/sw.js) shows pushed notifications. Registering it asks the
  // person nothing; only the tap on "Notify me on this phone" asks for permission.
  // Its promise yields the worker once it is active, or null: the pages work as well without it.
  function registerWorker() {
    if (!("serviceWorker" in navigator)) return Promise.resolve(null);
    return navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(
      function () { return navigator.serviceWorker.ready; },
      function () { return null; }
    );
  }

  // "Notify me on this phone": the [data-push] panel. Its states: checking, on, off,
  // blocked (notifications denied), unsupported (no Web Push here, or none offered by
  // the server: GET /v1/push/key answers 404). The subscription is sent to
  // POST /v1/push/subscriptions with the session cookie and the page's CSRF token; the
  // id it answers is kept in this browser with a fingerprint of the session it belongs
  // to. Signing out drops a session's subscriptions on the server, so the next session
  // in this browser (the same person's or another's) starts "off" and asks again.
  var PUSH_KEPT = "circlebook.push";

  function base64url(bytes) {
    var text = "";
    new Uint8Array(bytes).forEach(function (byte) { text += String.fromCharCode(byte); });
    return window.btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(text) {
    var padded = text.replace(/-/g, "+").replace(/_/g, "/");
    padded += "====".slice(0, (4 - (padded.length % 4)) % 4);
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  // The session's fingerprint: a hash of the page's CSRF token (itself an HMAC of the
  // session token), so that localStorage holds nothing a request could use.
  function fingerprint(csrf) {
    var bytes = new TextEncoder().encode("circlebook push session\x1f" + csrf);
    return window.crypto.subtle.digest("SHA-256", bytes).then(base64url);
  }

  function keptSubscription(session) {
    try {
      var kept = JSON.parse(window.localStorage.getItem(PUSH_KEPT) || "null");
      return kept && kept.session === session ? kept : null;
    } catch (error) {
      return null;
    }
  }

  function keep(value) {
    try {
      if (value) window.localStorage.setItem(PUSH_KEPT, JSON.stringify(value));
      else window.localStorage.removeItem(PUSH_KEPT);
    } catch (error) { /* private browsing: it is forgotten with the page */ }
  }

  function offerPush(panel, worker) {
    var csrf = panel.getAttribute("data-csrf");
    var session = null;
    var turnOn = panel.querySelector("[data-push-on]");
    var turnOff = panel.querySelector("[data-push-off]");
    var key = null;

    function show(state, problem) {
      panel.setAttribute("data-push-status", state);
      panel.querySelectorAll("[data-push-state]").forEach(function (line) {
        line.hidden = line.getAttribute("data-push-state") !== state;
      });
      panel.querySelectorAll("[data-push-error]").forEach(function (line) {
        line.hidden = line.getAttribute("data-push-error") !== problem;
      });
      turnOn.hidden = state !== "off";
      turnOff.hidden = state !== "on";
      turnOn.disabled = turnOff.disabled = false;
    }

    function send(method, path, body) {
      var headers = { Accept: "application/json", "X-CSRF-Token": csrf };
      if (body) headers["Content-Type"] = "application/json";
      return fetch(path, {
        method: method,
        credentials: "same-origin",
        headers: headers,
        body: body ? JSON.stringify(body) : undefined,
      });
    }

    function subscription() {
      return worker.then(function (registration) {
        if (!registration) throw new Error("no service worker");
        return registration.pushManager.getSubscription().then(function (current) {
          return { registration: registration, current: current };
        });
      });
    }

    // Whether this browser's subscription is the one the server took for this session,
    // to the server's current key.
    function settle() {
      if (Notification.permission === "denied") return show("blocked");
      return subscription().then(function (found) {
        var kept = keptSubscription(session);
        var current = found.current;
        var sameKey = current && current.options && current.options.applicationServerKey
          ? base64url(current.options.applicationServerKey) === key
          : true;
        var on = current && kept && kept.endpoint === current.endpoint && sameKey &&
          Notification.permission === "granted";
        show(on ? "on" : "off");
      }, function () { show("unsupported"); });
    }

    function subscribe(registration, current) {
      var stale = current ? current.unsubscribe() : Promise.resolve(true);
      return stale.then(function () {
        return registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: fromBase64url(key),
        });
      });
    }

    turnOn.addEventListener("click", function () {
      turnOn.disabled = true;
      // Asked here, in the tap's own turn, and nowhere else.
      Notification.requestPermission().then(function (answer) {
        if (answer === "denied") return show("blocked");
        if (answer !== "granted") return show("off"); // dismissed: ask again on the next tap
        return subscription().then(function (found) {
          return subscribe(found.registration, found.current).then(
            function (made) {
              return send("POST", "/v1/push/subscriptions", made.toJSON()).then(function (response) {
                // 201: new; 200: the server knew this endpoint and updated it.
                if (response.status !== 201 && response.status !== 200) {
                  throw new Error("refused: " + response.status);
                }
                return response.json().then(function (answer) {
                  keep({ session: session, id: answer.id, endpoint: made.endpoint });
                  show("on");
                });
              }).catch(function () {
                made.unsubscribe();
                show("off", "server");
              });
            },
            // The browser has no push service it can reach (as in a headless browser).
            function () { show("unsupported", "push-service"); }
          );
        }, function () { show("unsupported"); }); // no service worker after all
      }).catch(function () { show("off", "server"); });
    });

    turnOff.addEventListener("click", function () {
      turnOff.disabled = true;
      var kept = keptSubscription(session);
      var forget = kept
        ? send("DELETE", "/v1/push/subscriptions/" + encodeURIComponent(kept.id))
        : Promise.resolve(null);
      forget.then(function (response) {
        // 404: the server had already dropped it (signed out elsewhere, or gone stale).
        if (response && response.status !== 204 && response.status !== 404) {
          throw new Error("refused: " + response.status);
        }
        keep(null);
        return subscription().then(function (found) {
          return found.current ? found.current.unsubscribe() : true;
        });
      }).then(function () { show("off"); }, function () { show("on", "server"); });
    });

    var supported = "serviceWorker" in navigator && "PushManager" in window &&
      "Notification" in window && window.crypto && window.crypto.subtle;
    if (!supported) return show("unsupported");
    fingerprint(csrf)
      .then(function (value) {
        session = value;
        return fetch("/v1/push/key", {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
      })
      .then(function (response) {
        if (!response.ok) return null; // 404: this server sends no push
        return response.json();
      })
      .then(function (body) {
        if (!body || typeof body.public_key !== "string") return show("unsupported");
        key = body.public_key;
        return settle();
      })
      .catch(function () { show("unsupported"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-js-only]").forEach(function (element) { element.hidden = false; });
    filterAll();
    offerContactPicker();
    var worker = registerWorker();
    document.querySelectorAll("[data-push]").forEach(function (panel) { offerPush(panel, worker); });
    follow(document.body);
  });
})();
