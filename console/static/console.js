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

// Countdowns to the next ladder step tick every second between refreshes, on the server's clock: the board
// says what time it was on the server when it was rendered.
function tickCountdowns() {
  var board = document.getElementById("board");
  if (!board || !board.dataset.now) {
    return;
  }
  if (!board.renderedAt) {
    board.renderedAt = Date.now();
  }
  var serverNow = Date.parse(board.dataset.now) + (Date.now() - board.renderedAt);
  board.querySelectorAll("time.countdown").forEach(function (el) {
    var left = Math.max(0, Math.floor((Date.parse(el.getAttribute("datetime")) - serverNow) / 1000));
    var minutes = Math.floor(left / 60);
    var seconds = ("0" + (left % 60)).slice(-2);
    el.textContent = el.dataset.locale === "ko" ? minutes + "분 " + seconds + "초" : minutes + " min " + seconds + " s";
  });
}
setInterval(tickCountdowns, 1000);
