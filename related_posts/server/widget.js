/* related-posts widget, served by `related-posts serve` at /widget.js.
 *
 *   <div data-related-posts data-url="https://site.example/post/"></div>
 *   <script src="https://related.site.example/widget.js" async></script>
 *
 * Fills every element with a data-related-posts attribute with the related list of the page
 * named by data-url (default: this page's address) or data-id, from the server that
 * served this script. Optional: data-k (links, default 5), data-heading (default
 * "Related posts"). Every value is set as text or as a checked href, never as HTML, so a
 * hostile title or URL stays inert. The markup is the one rewrite writes:
 * <section class="related-posts"><h2>..</h2><ul><li class="related-posts__item">...
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script && script.src ? script.src : "/", window.location.href).origin;

  function safeHref(value) {
    if (typeof value !== "string" || !value) { return null; }
    try {
      var url = new URL(value, window.location.href);
      return (url.protocol === "http:" || url.protocol === "https:") ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function render(element, data) {
    var heading = element.getAttribute("data-heading") || "Related posts";
    var section = document.createElement("section");
    section.className = "related-posts";
    section.setAttribute("data-related-posts-list", "");
    var title = document.createElement("h2");
    title.textContent = heading;
    section.appendChild(title);
    var list = document.createElement("ul");
    (data.related || []).forEach(function (item) {
      var li = document.createElement("li");
      li.className = "related-posts__item";
      var href = safeHref(item.url);
      var link = document.createElement(href ? "a" : "span");
      if (href) { link.setAttribute("href", href); }
      link.textContent = String(item.title || "");
      li.appendChild(link);
      if (item.teaser) {
        var teaser = document.createElement("span");
        teaser.className = "related-posts__teaser";
        teaser.textContent = " " + String(item.teaser);
        li.appendChild(teaser);
      }
      list.appendChild(li);
    });
    section.appendChild(list);
    element.replaceChildren(section);
    element.setAttribute("data-related-posts-state", "done");
  }

  function fill(element) {
    var k = element.getAttribute("data-k") || "5";
    var id = element.getAttribute("data-id");
    var api = id
      ? base + "/related/" + id.split("/").map(encodeURIComponent).join("/") + "?k=" + encodeURIComponent(k)
      : base + "/related?url=" + encodeURIComponent(element.getAttribute("data-url") || window.location.href)
        + "&k=" + encodeURIComponent(k);
    fetch(api, { headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("related-posts: " + response.status); }
        return response.json();
      })
      .then(function (data) { render(element, data); })
      .catch(function (error) {
        element.setAttribute("data-related-posts-state", "error");
        if (window.console) { window.console.warn(String(error)); }
      });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-related-posts]"), fill);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
