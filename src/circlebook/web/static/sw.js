// circlebook's service worker (served at /sw.js, scope "/"): it shows what the server
// pushes (RFC 8030 Web Push) and opens the page a notification is about.
//
// It has no fetch handler and caches nothing: every page carries people's numbers
// and is sent with Cache-Control: no-store, so none of it may sit on the phone where
// a signed-out browser or another person could read it. Without a network, the
// pages are simply not there, as they were before there was a worker.
"use strict";

var ICON = "/static/icon-192.png";

// A new worker takes over at once: it keeps no state an old page could depend on.
self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

// Only a page of this site may be opened from a notification, whatever a payload says.
function sameOriginUrl(url) {
  try {
    var target = new URL(url || "/", self.location.origin);
    return target.origin === self.location.origin ? target.href : self.location.origin + "/";
  } catch (error) {
    return self.location.origin + "/";
  }
}

// The payload is JSON {"type", "title", "body", "url"}, in the person's language.
self.addEventListener("push", function (event) {
  var message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = {};
  }
  var url = sameOriginUrl(message.url);
  var options = {
    body: typeof message.body === "string" ? message.body : "",
    data: { url: url },
    icon: ICON,
    // A later message about the same thing replaces the earlier one instead of piling up.
    tag: (message.type || "circlebook") + " " + url,
  };
  var title = typeof message.title === "string" && message.title ? message.title : "circlebook";
  event.waitUntil(self.registration.showNotification(title, options));
});

// A tap on a notification: bring circlebook forward at the page it is about, in an
// open window if there is one, else in a new one.
self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = sameOriginUrl(event.notification.data && event.notification.data.url);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      var mine = windows.filter(function (client) {
        return new URL(client.url).origin === self.location.origin;
      });
      var exact = mine.filter(function (client) { return client.url === url; })[0];
      if (exact) return exact.focus();
      if (!mine.length) return self.clients.openWindow(url);
      // navigate() works only on a window this worker controls: else a new window.
      return mine[0].focus()
        .then(function (focused) { return (focused || mine[0]).navigate(url); })
        .catch(function () { return self.clients.openWindow(url); });
    })
  );
});
