/* Tastemaker: report what was actually on screen.
 * An impression is a post at least half visible for one continuous second (the MRC rule), counted
 * once per page; link clicks inside a post are reported too. Events are batched and sent every two
 * seconds (and when the page is hidden) to the endpoint named in <body data-tm-events>, with the
 * page's CSRF token. No third-party code. */
(function () {
  "use strict";
  var body = document.body;
  var endpoint = body && body.getAttribute("data-tm-events");
  if (!endpoint || !("IntersectionObserver" in window)) return;
  var csrf = "";
  try { csrf = JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { csrf = ""; }
  var queue = [], counted = {}, timers = new Map();
  var DWELL_MS = 1000, MAX_BATCH = 200;

  function surface() {
    var s = body.getAttribute("data-tm-surface");
    if (s) return s;
    var p = location.pathname;
    if (p === "/") return "home";
    if (p.indexOf("/public") === 0) return "public";
    if (p.indexOf("/tags/") === 0) return "tag";
    if (p.indexOf("/search") === 0) return "search";
    if (p.indexOf("/posts/") === 0) return "thread";
    if (p.indexOf("/notifications") === 0) return "notifications";
    if (p.indexOf("/@") === 0) return "profile";
    return "other";
  }

  function flush() {
    while (queue.length) {
      var batch = queue.splice(0, MAX_BATCH);
      try {
        fetch(endpoint, {
          method: "POST", keepalive: true, credentials: "same-origin",
          headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
          body: JSON.stringify({events: batch})
        }).catch(function () {});
      } catch (e) { /* the page is going away */ }
    }
  }

  function push(type, id) {
    queue.push({type: type, subject_type: "post", subject_id: id, surface: surface()});
    if (queue.length >= MAX_BATCH) flush();
  }

  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      var el = entry.target, id = el.getAttribute("data-tm-post");
      if (entry.isIntersecting && entry.intersectionRatio >= 0.5) {
        if (!timers.has(el)) {
          timers.set(el, setTimeout(function () {
            timers.delete(el);
            observer.unobserve(el);
            if (counted[id]) return;
            counted[id] = true;
            push("impression", id);
          }, DWELL_MS));
        }
      } else if (timers.has(el)) {
        clearTimeout(timers.get(el));
        timers.delete(el);
      }
    });
  }, {threshold: [0, 0.5, 1]});

  function scan(root) {
    var nodes = (root && root.querySelectorAll ? root : document).querySelectorAll("[data-tm-post]");
    if (root && root.getAttribute && root.getAttribute("data-tm-post")) nodes = [root].concat([].slice.call(nodes));
    [].forEach.call(nodes, function (el) {
      if (!counted[el.getAttribute("data-tm-post")]) observer.observe(el);
    });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".post-text a[href]");
    var post = link && link.closest("[data-tm-post]");
    if (!post) return;
    push("link_click", post.getAttribute("data-tm-post"));
    flush();
  }, true);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") flush(); });
  window.addEventListener("pagehide", flush);
  body.addEventListener("htmx:load", function (event) { scan(event.target); });
  setInterval(flush, 2000);
  scan(document);
})();
