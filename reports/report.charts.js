/* advisor report: the overview charts. plotly.js runs just before them in the page, and each chart is drawn by
 * an inline script right after its container while the page is parsed, so the first paint, a snapshot and a
 * printout taken as soon as the page is loaded all show them. The figures come from the JSON block
 * "report-charts" placed before plotly.js; the report entity-escapes every label in them (plotly reads a few HTML
 * tags in labels). report.js and report.drill.js draw with `newPlot` too. */
(function () {
  "use strict";

  var PLOT_CONFIG = {displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"]};
  var figures = null;

  function newPlot(node, data, layout) {
    // responsive plots take their parent's height: give it the figure's, or a resize collapses it
    node.style.height = layout.height + "px";
    return window.Plotly.newPlot(node, data, layout, PLOT_CONFIG);
  }

  function child(parent, tag, className, text) {
    var node = parent.appendChild(document.createElement(tag));
    node.className = className;
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  /* The chart in the container `chart-<key>`, parsed just before the call: its figure, or what the container
   * says when there is none (a chart marked optional is hidden instead). */
  function draw(key) {
    if (figures === null) {
      var block = document.getElementById("report-charts");
      figures = block && block.textContent ? JSON.parse(block.textContent) : {};
    }
    var node = document.getElementById("chart-" + key);
    var figure = figures[key];
    if (figure) {
      newPlot(child(node, "div", "plot"), figure.data, figure.layout);
    } else if (node.hasAttribute("data-optional")) {
      node.hidden = true;
    } else {
      child(node, "h3", "chart-title", node.getAttribute("data-title"));
      child(node, "p", "empty", node.getAttribute("data-empty"));
    }
  }

  window.advisorCharts = {newPlot: newPlot, draw: draw};
}());
