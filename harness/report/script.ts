/**
 * The only script of the pages, inlined: styled tooltips that appear at once (SVG <title>s stay in
 * the markup, so the page still explains itself with scripts off), and the events table filters.
 * Plain ES2017 in a string so it runs as-is from disk; it must never throw on a page lacking a part.
 */
export const SCRIPT = `(function () {
  "use strict";
  var tip = document.createElement("div");
  tip.className = "tip";
  tip.hidden = true;
  document.body.appendChild(tip);
  var titles = document.querySelectorAll("svg title");
  for (var i = 0; i < titles.length; i++) {
    var t = titles[i];
    var parent = t.parentNode;
    if (parent && parent.setAttribute) {
      parent.setAttribute("data-tip", t.textContent || "");
      parent.removeChild(t);
    }
  }
  document.addEventListener("mousemove", function (ev) {
    var target = ev.target && ev.target.closest ? ev.target.closest("[data-tip]") : null;
    if (!target) { tip.hidden = true; return; }
    tip.textContent = target.getAttribute("data-tip");
    tip.hidden = false;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    var x = ev.clientX + 14, y = ev.clientY + 16;
    if (x + w > window.innerWidth - 8) x = ev.clientX - w - 14;
    if (y + h > window.innerHeight - 8) y = ev.clientY - h - 12;
    tip.style.left = Math.max(4, x) + "px";
    tip.style.top = Math.max(4, y) + "px";
  });
  document.addEventListener("mouseleave", function () { tip.hidden = true; });

  var table = document.getElementById("events-table");
  if (table) {
    var boxes = document.querySelectorAll("input[data-kind]");
    for (var j = 0; j < boxes.length; j++) {
      boxes[j].addEventListener("change", function (e) {
        var box = e.target;
        table.classList.toggle("hide-" + box.getAttribute("data-kind"), !box.checked);
      });
    }
    var q = document.getElementById("events-q");
    var rows = table.querySelectorAll("tbody tr");
    if (q) q.addEventListener("input", function () {
      var s = q.value.toLowerCase();
      for (var k = 0; k < rows.length; k++) rows[k].hidden = s !== "" && rows[k].textContent.toLowerCase().indexOf(s) < 0;
    });
  }
})();`;
