// Every htmx request carries the page's CSRF token; the server refuses a change without it.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  }
});

// Now refreshes as soon as an incident changes anywhere (server-sent events from the events feed), and
// every few seconds besides for the countdowns; without EventSource the polling alone keeps it fresh.
document.addEventListener("DOMContentLoaded", function () {
  var board = document.getElementById("board");
  if (!board || !board.dataset.events || !window.EventSource) {
    return;
  }
  var source = new EventSource(board.dataset.events);
  source.addEventListener("changed", function () {
    var current = document.getElementById("board");
    if (current && window.htmx) {
      window.htmx.trigger(current, "changed");
    }
  });
});
