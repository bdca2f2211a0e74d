/* advisor report: charts, the recommendations table, details and drill-down charts.
 * Data comes only from the <script type="application/json"> blocks and is inserted with textContent;
 * labels handed to plotly are entity-escaped (plotly reads a few HTML tags in labels). */
(function () {
  "use strict";

  var COLUMN_COUNT = 12;
  var PAGE_SIZE = 200;
  var PRINT_DETAIL_LIMIT = 500;
  var PERCENT_ORDER = ["cpu", "memory", "gpu", "gpu_memory", "burst_balance"];
  var SERIES_COLORS = ["#2563eb", "#7c3aed", "#0d9488", "#d97706", "#db2777", "#64748b"];
  var CONFIDENCE_CLASSES = {high: "high", medium: "medium", low: "low"};
  var STAT_LABELS = {trend_per_day: "trend / day", forecast: "forecast", upper: "upper bound", lower: "lower bound"};
  var PLOT_CONFIG = {displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"]};
  var FONT = {family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 12, color: "#1f2937"};

  var moneyFormat = new Intl.NumberFormat("en-US", {style: "currency", currency: "USD"});
  var numberFormat = new Intl.NumberFormat("en-US", {maximumFractionDigits: 2});
  var collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});

  function readJson(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  var meta = readJson("report-meta") || {};
  var recs = readJson("report-recs") || [];
  var charts = readJson("report-charts") || {};
  var seriesData = null;

  function series() {
    if (seriesData === null) {
      seriesData = readJson("report-series") || {step: 3600, resources: {}};
    }
    return seriesData;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function isNumber(value) {
    return typeof value === "number" && isFinite(value);
  }

  function money(value) {
    return isNumber(value) ? moneyFormat.format(value) : "—";
  }

  function scalar(value) {
    if (value === null || value === undefined || value === "") {
      return "—";
    }
    if (isNumber(value)) {
      return numberFormat.format(value);
    }
    if (typeof value === "boolean") {
      return value ? "yes" : "no";
    }
    return String(value);
  }

  function plotlyText(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function humanize(key) {
    return STAT_LABELS[key] || String(key).replace(/_/g, " ");
  }

  /* ---- overview charts ------------------------------------------------------------------------- */

  function newPlot(node, data, layout) {
    // responsive plots take their parent's height: give it the figure's, or a resize collapses it
    node.style.height = layout.height + "px";
    window.Plotly.newPlot(node, data, layout, PLOT_CONFIG);
  }

  function drawCharts() {
    var nodes = document.querySelectorAll(".chart[id^='chart-']");
    Array.prototype.forEach.call(nodes, function (node) {
      var figure = charts[node.id.slice("chart-".length)];
      if (!figure || !window.Plotly) {
        node.appendChild(el("h3", "chart-title", node.getAttribute("data-title")));
        node.appendChild(el("p", "empty", node.getAttribute("data-empty")));
        return;
      }
      newPlot(node.appendChild(el("div")), figure.data, figure.layout);
    });
  }

  /* ---- generic renderers for evidence ---------------------------------------------------------- */

  function isPlainObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function kvList(object) {
    var dl = el("dl", "kv");
    Object.keys(object).forEach(function (key) {
      dl.appendChild(el("dt", null, key));
      var dd = el("dd");
      dd.appendChild(renderValue(object[key]));
      dl.appendChild(dd);
    });
    return dl;
  }

  function matrix(object, rowLabel) {
    var columns = [];
    Object.keys(object).forEach(function (row) {
      Object.keys(object[row]).forEach(function (column) {
        if (columns.indexOf(column) === -1) {
          columns.push(column);
        }
      });
    });
    var table = el("table", "mini");
    var head = el("tr");
    head.appendChild(el("th", null, rowLabel));
    columns.forEach(function (column) {
      head.appendChild(el("th", "num", humanize(column)));
    });
    table.appendChild(el("thead")).appendChild(head);
    var body = table.appendChild(el("tbody"));
    Object.keys(object).forEach(function (row) {
      var tr = body.appendChild(el("tr"));
      tr.appendChild(el("td", null, row));
      columns.forEach(function (column) {
        var value = object[row][column];
        tr.appendChild(el("td", "num", isPlainObject(value) ? JSON.stringify(value) : scalar(value)));
      });
    });
    return table;
  }

  function renderValue(value) {
    if (Array.isArray(value)) {
      var list = el("ul");
      value.forEach(function (item) {
        var li = list.appendChild(el("li"));
        li.appendChild(renderValue(item));
      });
      return list;
    }
    if (isPlainObject(value)) {
      var keys = Object.keys(value);
      if (keys.length && keys.every(function (key) { return isPlainObject(value[key]); })) {
        return matrix(value, "");
      }
      return kvList(value);
    }
    return document.createTextNode(scalar(value));
  }

  function inlinePairs(object, suffix) {
    return Object.keys(object).map(function (key) {
      return key + " " + scalar(object[key]) + (isNumber(object[key]) ? suffix : "");
    }).join(" · ");
  }

  function evidenceSection(evidence) {
    var section = el("section");
    section.appendChild(el("h3", null, "Evidence"));
    var facts = {};
    if (evidence.window !== undefined) {
      facts.Window = scalar(evidence.window);
    }
    if (evidence.datapoints !== undefined) {
      facts.Datapoints = isPlainObject(evidence.datapoints) ? inlinePairs(evidence.datapoints, "")
        : scalar(evidence.datapoints);
    }
    if (evidence.coverage !== undefined) {
      facts.Coverage = isNumber(evidence.coverage) && evidence.coverage <= 1
        ? numberFormat.format(evidence.coverage * 100) + " %" : scalar(evidence.coverage);
    }
    if (evidence.rule !== undefined) {
      facts.Rule = scalar(evidence.rule);
    }
    if (Object.keys(facts).length) {
      section.appendChild(kvList(facts));
    }
    if (isPlainObject(evidence.stats)) {
      section.appendChild(el("h4", null, "Percentiles per metric"));
      section.appendChild(matrix(evidence.stats, "metric"));
    }
    if (isPlainObject(evidence.forecast)) {
      section.appendChild(el("h4", null, "Forecast per metric"));
      section.appendChild(matrix(evidence.forecast, "metric"));
    }
    if (isPlainObject(evidence.thresholds)) {
      section.appendChild(el("h4", null, "Rule thresholds"));
      section.appendChild(kvList(evidence.thresholds));
    }
    if (Array.isArray(evidence.notes) && evidence.notes.length) {
      section.appendChild(el("h4", null, "Notes"));
      section.appendChild(renderValue(evidence.notes));
    }
    var known = ["window", "datapoints", "coverage", "rule", "stats", "forecast", "thresholds", "notes"];
    var rest = {};
    Object.keys(evidence).forEach(function (key) {
      if (known.indexOf(key) === -1) {
        rest[key] = evidence[key];
      }
    });
    if (Object.keys(rest).length) {
      section.appendChild(el("h4", null, "Other evidence"));
      section.appendChild(kvList(rest));
    }
    if (!Object.keys(evidence).length) {
      section.appendChild(el("p", "empty", "No evidence recorded."));
    }
    return section;
  }

  function optionsSection(options) {
    var section = el("section", "full");
    section.appendChild(el("h3", null, "Options (monthly, prices as of " + (meta.price_list_date || "unknown") + ")"));
    if (!options.length) {
      section.appendChild(el("p", "empty", "No alternative options."));
      return section;
    }
    var table = el("table", "mini options");
    var head = el("tr");
    [["#", "num"], ["Type", ""], ["Option", ""], ["Monthly cost", "num"], ["Savings", "num"],
      ["Projected utilization", ""], ["Risk", "num"]].forEach(function (pair) {
      head.appendChild(el("th", pair[1], pair[0]));
    });
    table.appendChild(el("thead")).appendChild(head);
    var body = table.appendChild(el("tbody"));
    options.forEach(function (option, index) {
      var tr = body.appendChild(el("tr"));
      tr.appendChild(el("td", "num", scalar(option.rank !== undefined ? option.rank : index + 1)));
      tr.appendChild(el("td", "mono", scalar(option.instance_type || option.type || option.target)));
      tr.appendChild(el("td", null, scalar(option.label)));
      tr.appendChild(el("td", "num", money(option.monthly_cost)));
      tr.appendChild(el("td", "num", money(option.monthly_savings)));
      tr.appendChild(el("td", null, isPlainObject(option.projected_utilization)
        ? inlinePairs(option.projected_utilization, " %") : scalar(option.projected_utilization)));
      tr.appendChild(el("td", "num", scalar(option.risk)));
    });
    section.appendChild(table);
    return section;
  }

  function whySection(rec) {
    var section = el("section");
    section.appendChild(el("h3", null, rec.title || "Why"));
    section.appendChild(el("p", null, rec.rationale || "No rationale recorded."));
    var facts = {Kind: rec.kind, Rule: rec.rule, Severity: rec.severity};
    if (isPlainObject(rec.projected) && Object.keys(rec.projected).length) {
      facts["Projected on target"] = inlinePairs(rec.projected, " %");
    }
    section.appendChild(kvList(facts));
    section.appendChild(el("h4", null, "Tags"));
    var tagKeys = Object.keys(rec.tags || {});
    if (!tagKeys.length) {
      section.appendChild(el("p", "empty", "No tags."));
    } else {
      var tags = section.appendChild(el("div", "tags"));
      tagKeys.forEach(function (key) {
        tags.appendChild(el("span", "tag", key + " = " + rec.tags[key]));
      });
    }
    return section;
  }

  function buildDetail(rec) {
    var tr = el("tr", "details");
    tr.setAttribute("data-i", String(rec.i));
    var td = tr.appendChild(el("td"));
    td.colSpan = COLUMN_COUNT;
    var grid = td.appendChild(el("div", "detail-grid"));
    grid.appendChild(whySection(rec));
    grid.appendChild(evidenceSection(rec.evidence || {}));
    grid.appendChild(optionsSection(rec.options || []));
    var drill = grid.appendChild(el("section", "full"));
    drill.appendChild(el("h3", null, "Utilization"));
    drill.appendChild(el("div", "drill"));
    return tr;
  }

  /* ---- drill-down chart ------------------------------------------------------------------------ */

  function stepLabel(seconds) {
    var hours = seconds / 3600;
    return hours === 1 ? "hourly" : hours + "-hourly";
  }

  function metricOrder(a, b) {
    var ia = PERCENT_ORDER.indexOf(a);
    var ib = PERCENT_ORDER.indexOf(b);
    if (ia === -1 && ib === -1) {
      return a < b ? -1 : (a > b ? 1 : 0);
    }
    return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
  }

  function drawDrill(row) {
    var holder = row.detail.querySelector(".drill");
    var all = series();
    var data = all.resources[row.rec.resource_id];
    row.drawn = true;
    if (!data || !window.Plotly) {
      holder.appendChild(el("p", "empty", "No utilization samples for this resource in the report."));
      return;
    }
    var metrics = Object.keys(data).sort(metricOrder);
    var label = stepLabel(all.step);
    holder.appendChild(el("p", "sub", label + " max (solid) and mean (thin) per metric; dashed red: current capacity " +
      "(100 %); dotted green: projected utilization on the target."));
    var plot = holder.appendChild(el("div", "drill-plot"));
    var gap = 0.08;
    var height = (1 - gap * (metrics.length - 1)) / metrics.length;
    var traces = [];
    var shapes = [];
    var annotations = [];
    var layout = {
      height: 70 + 170 * metrics.length,
      margin: {l: 64, r: 16, t: 34, b: 40},
      font: FONT,
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      showlegend: true,
      legend: {orientation: "h", x: 0, y: 1.0, yanchor: "bottom"},
      hovermode: "x unified",
      xaxis: {type: "date", anchor: "y" + (metrics.length > 1 ? metrics.length : ""), gridcolor: "#e5e7eb"}
    };
    metrics.forEach(function (metric, k) {
      var s = data[metric];
      var axis = k === 0 ? "" : String(k + 1);
      var top = 1 - k * (height + gap);
      var x = s.max.map(function (_, j) { return (s.t0 + j * all.step) * 1000; });
      var name = plotlyText(metric);
      var color = SERIES_COLORS[k % SERIES_COLORS.length];
      traces.push({type: "scatter", mode: "lines", name: name + " " + label + " max", x: x, y: s.max,
        yaxis: "y" + axis, line: {color: color, width: 1.6}, connectgaps: false});
      traces.push({type: "scatter", mode: "lines", name: name + " " + label + " mean", x: x, y: s.mean,
        yaxis: "y" + axis, line: {color: color, width: 1}, opacity: 0.45, connectgaps: false});
      var peak = Math.max.apply(null, s.max.filter(isNumber).concat([0]));
      var yaxis = {domain: [Math.max(0, top - height), top], anchor: "x", gridcolor: "#e5e7eb",
        title: {text: name + (s.percent ? " (%)" : "")}, rangemode: "tozero"};
      if (s.percent) {
        yaxis.range = [0, Math.max(105, peak + 5)];
        shapes.push({type: "line", xref: "paper", x0: 0, x1: 1, yref: "y" + axis, y0: 100, y1: 100,
          line: {color: "#b91c1c", width: 1.2, dash: "dash"}});
        annotations.push({xref: "paper", x: 1, xanchor: "right", yref: "y" + axis, y: 100, yanchor: "bottom",
          text: "current capacity 100 %", showarrow: false, font: {size: 10, color: "#b91c1c"}});
        var projected = row.rec.projected ? row.rec.projected[metric] : undefined;
        if (isNumber(projected)) {
          shapes.push({type: "line", xref: "paper", x0: 0, x1: 1, yref: "y" + axis, y0: projected, y1: projected,
            line: {color: "#047857", width: 1.4, dash: "dot"}});
          annotations.push({xref: "paper", x: 0, xanchor: "left", yref: "y" + axis, y: projected,
            yanchor: "bottom", text: "projected on target " + numberFormat.format(projected) + " %",
            showarrow: false, font: {size: 10, color: "#047857"}});
        }
      }
      layout["yaxis" + axis] = yaxis;
    });
    layout.shapes = shapes;
    layout.annotations = annotations;
    newPlot(plot, traces, layout);
  }

  /* ---- the table ------------------------------------------------------------------------------- */

  var tbody = document.getElementById("rec-body");
  var textFilter = document.getElementById("filter-text");
  var actionFilter = document.getElementById("filter-action");
  var counter = document.getElementById("row-count");
  var emptyNote = document.getElementById("rec-empty");
  var morePanel = document.getElementById("rec-more");
  var moreButton = document.getElementById("show-more");
  var allButton = document.getElementById("show-all");
  var sortKey = "savings";
  var sortDirection = -1;

  function moneyCell(value, extraClass) {
    return el("td", "num" + (extraClass ? " " + extraClass : ""), money(value));
  }

  function buildRow(rec) {
    var tr = el("tr", "rec");
    tr.setAttribute("data-i", String(rec.i));
    var toggleCell = tr.appendChild(el("td", "toggle-col"));
    var button = toggleCell.appendChild(el("button", "toggle"));
    button.type = "button";
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-label", "Details for " + rec.resource_id);
    tr.appendChild(el("td", "mono", rec.resource_id));
    tr.appendChild(el("td", "name", rec.name));
    tr.appendChild(el("td", "mono nowrap", rec.account));
    tr.appendChild(el("td", "nowrap", rec.region));
    tr.appendChild(el("td")).appendChild(el("span", "badge action", rec.action));
    var change = tr.appendChild(el("td", "change mono"));
    change.appendChild(document.createTextNode(rec.current || "—"));
    change.appendChild(el("span", "arrow", "→"));
    change.appendChild(document.createTextNode(rec.target || "—"));
    tr.appendChild(moneyCell(rec.cost_now));
    tr.appendChild(moneyCell(rec.cost_after));
    var savings = tr.appendChild(moneyCell(rec.savings,
      "savings" + (isNumber(rec.savings) && rec.savings < 0 ? " negative" : "")));
    if (rec.estimated) {
      savings.appendChild(el("span", "est", "est.")).title = "estimated price: cost now, cost after and savings";
    }
    var confidence = String(rec.confidence || "").toLowerCase();
    tr.appendChild(el("td")).appendChild(el("span", "badge " + (CONFIDENCE_CLASSES[confidence] || ""),
      rec.confidence || "—"));
    tr.appendChild(el("td", "num", scalar(rec.risk)));
    return tr;
  }

  var rows = recs.map(function (rec) {
    var words = [rec.resource_id, rec.name, rec.account, rec.region, rec.kind, rec.action, rec.rule, rec.title,
      rec.current, rec.target, rec.confidence];
    Object.keys(rec.tags || {}).forEach(function (key) {
      words.push(key + "=" + rec.tags[key]);
    });
    return {rec: rec, tr: null, detail: null, open: false, drawn: false, haystack: words.join("\n").toLowerCase()};
  });
  var rowsByIndex = {};
  rows.forEach(function (row) {
    rowsByIndex[row.rec.i] = row;
  });
  var matching = rows;
  var limit = PAGE_SIZE;

  function ensureDetail(row) {
    if (!row.detail) {
      row.detail = buildDetail(row.rec);
      row.tr.parentNode.insertBefore(row.detail, row.tr.nextSibling);
    }
  }

  function toggle(row) {
    row.open = !row.open;
    row.tr.querySelector(".toggle").setAttribute("aria-expanded", String(row.open));
    ensureDetail(row);
    row.detail.classList.toggle("collapsed", !row.open);
    if (row.open && !row.drawn) {
      drawDrill(row);
    }
  }

  function sortValue(rec, key) {
    if (key === "change") {
      return (rec.current || "") + " → " + (rec.target || "");
    }
    return rec[key];
  }

  function compareRows(a, b) {
    var va = sortValue(a.rec, sortKey);
    var vb = sortValue(b.rec, sortKey);
    var missingA = va === null || va === undefined || va === "";
    var missingB = vb === null || vb === undefined || vb === "";
    if (missingA || missingB) {
      return missingA === missingB ? a.rec.i - b.rec.i : (missingA ? 1 : -1);
    }
    var result = isNumber(va) && isNumber(vb) ? va - vb : collator.compare(String(va), String(vb));
    return result === 0 ? a.rec.i - b.rec.i : result * sortDirection;
  }

  /* Only the first `limit` matching rows are in the DOM: sorting and filtering 10,000 rows stays instant. */
  function render() {
    var fragment = document.createDocumentFragment();
    matching.slice(0, limit).forEach(function (row) {
      row.tr = row.tr || buildRow(row.rec);
      fragment.appendChild(row.tr);
      if (row.detail) {
        fragment.appendChild(row.detail);
      }
    });
    tbody.replaceChildren(fragment);
    var shown = Math.min(limit, matching.length);
    var total = numberFormat.format(rows.length) + " recommendation" + (rows.length === 1 ? "" : "s");
    counter.textContent = matching.length === rows.length && shown === rows.length ? total
      : "showing " + numberFormat.format(shown) + " of " + numberFormat.format(matching.length) +
        (matching.length === rows.length ? "" : " matching (" + total + ")");
    emptyNote.hidden = matching.length !== 0;
    morePanel.hidden = shown === matching.length;
    moreButton.textContent = "Show " + numberFormat.format(Math.min(PAGE_SIZE, matching.length - shown)) + " more";
    allButton.textContent = "Show all " + numberFormat.format(matching.length);
  }

  function applyFilter() {
    var terms = textFilter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var action = actionFilter.value;
    matching = rows.filter(function (row) {
      return (!action || row.rec.action === action) && terms.every(function (term) {
        return row.haystack.indexOf(term) !== -1;
      });
    });
    limit = PAGE_SIZE;
    render();
  }

  function applySort() {
    rows.sort(compareRows);
    matching.sort(compareRows);
    var headers = document.querySelectorAll("#rec-table th[data-key]");
    Array.prototype.forEach.call(headers, function (th) {
      var active = th.getAttribute("data-key") === sortKey;
      th.setAttribute("aria-sort", active ? (sortDirection < 0 ? "descending" : "ascending") : "none");
    });
    render();
  }

  Array.prototype.forEach.call(document.querySelectorAll("#rec-table th[data-key] button"), function (button) {
    button.addEventListener("click", function () {
      var th = button.parentNode;
      var key = th.getAttribute("data-key");
      if (key === sortKey) {
        sortDirection = -sortDirection;
      } else {
        sortKey = key;
        sortDirection = th.hasAttribute("data-num") ? -1 : 1;
      }
      applySort();
    });
  });

  tbody.addEventListener("click", function (event) {
    var tr = event.target.closest("tr.rec");
    var selection = window.getSelection ? String(window.getSelection()) : "";
    if (tr && (selection === "" || event.target.closest(".toggle"))) {
      toggle(rowsByIndex[tr.getAttribute("data-i")]);
    }
  });
  textFilter.addEventListener("input", applyFilter);
  actionFilter.addEventListener("change", applyFilter);
  moreButton.addEventListener("click", function () {
    limit += PAGE_SIZE;
    render();
  });
  allButton.addEventListener("click", function () {
    limit = matching.length;
    render();
  });

  window.addEventListener("beforeprint", function () {
    matching.slice(0, Math.min(limit, PRINT_DETAIL_LIMIT)).forEach(function (row) {
      if (!row.detail) {
        ensureDetail(row);
        row.detail.classList.add("collapsed");
      }
    });
  });

  applySort();
  drawCharts();
  document.getElementById("rec-table").setAttribute("data-ready", "");
}());
