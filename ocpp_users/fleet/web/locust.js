/* VolatileOCPP in Locust's web UI (added to Locust's page by ocpp_users/fleet/webui.py).
 *
 * 1. The "Charge points" tab: Locust renders an extended tab as a table; above it (in its place)
 *    goes our page, ./charge-points/view, in an iframe sized to its content.
 * 2. The options form: each group of options gets its title, each field a readable label and its
 *    help underneath. The fields already come in group order (the server orders them).
 *
 * Locust's page is a React app that redraws itself: everything here is re-applied whenever the
 * page changes (a MutationObserver), and only ever adds or relabels, never moves Locust's nodes.
 * window.vocppFleet = {groups: [{title, description, fields: [{name, label, help}]}], title, tableMark}
 */
(function () {
  "use strict";
  var meta = window.vocppFleet || {groups: [], title: "", tableMark: "Charge point state"};
  var script = document.currentScript;
  var viewUrl = script && script.src ? script.src.replace(/locust\.js(\?.*)?$/, "view") : "./charge-points/view";

  function tabTable() {
    var heads = document.querySelectorAll("th");
    for (var i = 0; i < heads.length; i++) {
      if (heads[i].textContent === meta.tableMark) return heads[i].closest("table");
    }
    return null;
  }

  function applyTab() {
    var table = tabTable();
    var frame = document.getElementById("vocpp-charge-points");
    if (!table) {
      if (frame) frame.remove();
      return;
    }
    var container = table.closest(".MuiTableContainer-root") || table.parentElement;
    if (frame && frame.nextSibling === container) return;
    if (frame) frame.remove();
    frame = document.createElement("iframe");
    frame.id = "vocpp-charge-points";
    frame.title = "Charge points";
    frame.src = viewUrl;
    frame.style.cssText = "width:100%;border:0;min-height:900px;display:block;background:#fff";
    container.parentElement.insertBefore(frame, container);
    container.style.display = "none";
  }

  function fitFrame() {
    var frame = document.getElementById("vocpp-charge-points");
    if (!frame) return;
    try {
      var doc = frame.contentDocument;
      if (doc && doc.body) {
        var height = doc.documentElement.scrollHeight;
        if (height && Math.abs(frame.offsetHeight - height) > 4) frame.style.height = height + "px";
      }
    } catch (e) { /* not loaded yet */ }
  }

  function fieldOf(name) {
    var input = document.querySelector('form [name="' + name + '"]');
    if (!input) return null;
    return input.closest(".MuiFormControlLabel-root") || input.closest(".MuiFormControl-root");
  }

  function relabel(box, text) {
    var label = box.querySelector("label") || box.querySelector(".MuiFormControlLabel-label");
    if (box.classList.contains("MuiFormControlLabel-root")) label = box.querySelector(".MuiFormControlLabel-label");
    if (label && label.textContent !== text) label.textContent = text;
    var legend = box.querySelector("fieldset legend span");
    if (legend && legend.textContent !== text) legend.textContent = text;
  }

  function applyForm() {
    var titled = false;
    meta.groups.forEach(function (group) {
      var first = true;
      group.fields.forEach(function (field) {
        var box = fieldOf(field.name);
        if (!box) return;
        relabel(box, field.label);
        box.title = field.help;
        if (first) {
          first = false;
          var before = box.previousElementSibling;
          if (!before || before.dataset.vocppGroup !== group.title) {
            var heading = document.createElement("div");
            heading.dataset.vocppGroup = group.title;
            heading.className = "vocpp-group";
            heading.style.cssText = "margin-top:8px;border-bottom:1px solid rgba(127,127,127,.4);padding-bottom:2px";
            var title = document.createElement("div");
            title.textContent = group.title;
            title.style.cssText = "font-weight:600;font-size:15px";
            var text = document.createElement("div");
            text.textContent = group.description;
            text.style.cssText = "font-size:12px;opacity:.75";
            heading.appendChild(title);
            heading.appendChild(text);
            box.parentElement.insertBefore(heading, box);
          }
        }
        var next = box.nextElementSibling;
        if (!next || next.dataset.vocppHelp !== field.name) {
          var help = document.createElement("div");
          help.dataset.vocppHelp = field.name;
          help.textContent = field.help;
          help.style.cssText = "font-size:12px;opacity:.7;margin:-20px 0 0 14px";
          box.parentElement.insertBefore(help, box.nextSibling);
        }
        titled = true;
      });
    });
    if (titled && meta.title) {
      var summaries = document.querySelectorAll(".MuiAccordionSummary-content p, .MuiAccordionSummary-content span");
      for (var i = 0; i < summaries.length; i++) {
        if (summaries[i].textContent === "Custom parameters") summaries[i].textContent = meta.title;
      }
    }
  }

  var pending = false;
  function apply() {
    pending = false;
    try { applyTab(); } catch (e) { /* the page changed under us: next time */ }
    try { applyForm(); } catch (e) { /* idem */ }
  }
  new MutationObserver(function () {
    if (!pending) {
      pending = true;
      setTimeout(apply, 30);
    }
  }).observe(document.documentElement, {childList: true, subtree: true});
  setInterval(fitFrame, 500);
  apply();
})();
