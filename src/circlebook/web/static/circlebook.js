// circlebook's pages work without this script; with it they filter lists as you type,
// ask before destructive posts, and follow the account's event stream (GET /v1/events,
// authenticated by the session cookie) to refresh the page's live regions in place.
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

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-js-only]").forEach(function (element) { element.hidden = false; });
    filterAll();
    offerContactPicker();
    follow(document.body);
  });
})();
