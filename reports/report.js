/* advisor report: the recommendations table (filters, sorting, CSV download) and printing; the overview charts are
 * already drawn when this runs (report.charts.js, while the page was parsed). Data comes only from the
 * <script type="application/json"> blocks and is inserted with textContent; labels handed to plotly are
 * entity-escaped (plotly reads a few HTML tags in labels). report.drill.js draws the details of a row on demand
 * through the `advisorReport` namespace set up here. */
(function () {
  "use strict";

  var COLUMN_COUNT = 13;
  var PAGE_SIZE = 200;
  var CONFIDENCE_CLASSES = {high: "high", medium: "medium", low: "low"};
  var FONT = {family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 12, color: "#1f2937"};
  var PRINT_INSET = 24; // a drill-down chart sits in a table cell: keep it inside the printed page
  var PRINT_HEIGHT = 560; // px: an A4 landscape page holds about 700

  var moneyFormat = new Intl.NumberFormat("en-US", {style: "currency", currency: "USD"});
  var numberFormat = new Intl.NumberFormat("en-US", {maximumFractionDigits: 2});
  var collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});
  var rawTexts = {};

  function mark(name) {
    if (window.performance && performance.mark) {
      performance.mark(name);
    }
  }

  /* The text of a data block, read once: large blocks are sliced, never parsed whole. */
  function rawText(id) {
    if (!(id in rawTexts)) {
      var node = document.getElementById(id);
      rawTexts[id] = node ? node.textContent : "";
    }
    return rawTexts[id];
  }

  function readJson(id) {
    var text = rawText(id);
    return text ? JSON.parse(text) : null;
  }

  /* The rows and the details are packed (advisor/report/packing.py): an object is [k, values…] with its keys in
   * shapes[k], a list is [-1, items…], [-2 - j] is shared[j]; anything else is itself. */
  var packing = readJson("report-packing") || {shapes: [], shared: []};

  function unpack(value) {
    if (!Array.isArray(value)) {
      return value;
    }
    var code = value[0];
    var out;
    var i;
    if (code <= -2) {
      return unpack(packing.shared[-2 - code]);
    }
    if (code === -1) {
      out = [];
      for (i = 1; i < value.length; i++) {
        out.push(unpack(value[i]));
      }
      return out;
    }
    var keys = packing.shapes[code];
    out = {};
    for (i = 0; i < keys.length; i++) {
      if (keys[i] === "__proto__") { // a tag may be called that: an own property, as JSON.parse makes it
        Object.defineProperty(out, keys[i], {value: unpack(value[i + 1]), enumerable: true, writable: true,
          configurable: true});
      } else {
        out[keys[i]] = unpack(value[i + 1]);
      }
    }
    return out;
  }

  var meta = readJson("report-meta") || {};
  var recs = (readJson("report-recs") || []).map(unpack);
  var newPlot = window.advisorCharts.newPlot;

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
      return numberFormat.format(value === 0 ? 0 : value); // never "-0"
    }
    if (typeof value === "boolean") {
      return value ? "yes" : "no";
    }
    return String(value);
  }

  function plotlyText(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  /* A row's details: its own slice of the details block, parsed when the row is first expanded. */
  function detailsOf(rec) {
    return unpack(JSON.parse(rawText("report-details").substr(rec.d[0], rec.d[1])));
  }

  var app = window.advisorReport = {
    meta: meta, el: el, isNumber: isNumber, money: money, scalar: scalar, plotlyText: plotlyText,
    newPlot: newPlot, detailsOf: detailsOf, rawText: rawText, mark: mark, numberFormat: numberFormat, font: FONT,
    columnCount: COLUMN_COUNT
  };

  /* the overview charts were drawn while the page was parsed, before this script */
  mark("advisor:charts");
  document.body.setAttribute("data-charts-ready", "");

  /* ---- the table ------------------------------------------------------------------------------- */

  var tbody = document.getElementById("rec-body");
  var textFilter = document.getElementById("filter-text");
  var counter = document.getElementById("row-count");
  var emptyNote = document.getElementById("rec-empty");
  var morePanel = document.getElementById("rec-more");
  var moreButton = document.getElementById("show-more");
  var allButton = document.getElementById("show-all");
  var sortKey = "monthly_savings";
  var sortDirection = -1;

  function moneyCell(value, extraClass) {
    return el("td", "num" + (extraClass ? " " + extraClass : ""), money(value));
  }

  /* Text that may wrap after its commas and underscores (a list of instance types, an action name), and
   * nowhere inside an instance type. */
  function breakable(parent, text) {
    String(text).split(/(?<=[,_])/).forEach(function (part, index) {
      if (index) {
        parent.appendChild(document.createElement("wbr"));
      }
      parent.appendChild(document.createTextNode(part));
    });
    return parent;
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
    tr.appendChild(el("td", "group", rec.group === null ? "—" : rec.group));
    tr.appendChild(el("td", "mono nowrap", rec.account));
    tr.appendChild(el("td", "nowrap", rec.region));
    tr.appendChild(el("td")).appendChild(breakable(el("span", "badge action"), rec.action));
    var change = tr.appendChild(el("td", "change mono"));
    breakable(change, rec.current || "—");
    change.appendChild(document.createElement("wbr"));
    change.appendChild(el("span", "arrow", "→"));
    breakable(change, rec.target || "—");
    tr.appendChild(moneyCell(rec.monthly_cost_now));
    tr.appendChild(moneyCell(rec.monthly_cost_after));
    var savings = tr.appendChild(moneyCell(rec.monthly_savings,
      "savings" + (isNumber(rec.monthly_savings) && rec.monthly_savings < 0 ? " negative" : "")));
    if (rec.price_estimated) {
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

  /* One <select> per filter field; option values index the field's values, so a missing value (null) and
   * any text a tag may hold stay distinct from "all". */
  var menus = (meta.filters || []).map(function (filter) {
    var label = el("label", null, filter.label + " ");
    var select = label.appendChild(el("select"));
    select.id = "filter-" + filter.key;
    select.appendChild(el("option", null, "all")).value = "";
    filter.values.forEach(function (value, index) {
      select.appendChild(el("option", value === null ? "none" : null, value === null ? filter.none : value))
        .value = String(index);
    });
    document.getElementById("filter-menus").appendChild(label);
    return {filter: filter, select: select};
  });

  function matches(rec, menu) {
    if (menu.select.value === "") {
      return true;
    }
    var wanted = menu.filter.values[Number(menu.select.value)];
    var value = rec[menu.filter.key];
    return wanted === null ? value === null || value === "" : value === wanted;
  }

  function showDetail(row) {
    if (!row.detail) {
      row.detail = app.buildDetail(row.rec);
      if (row.tr.parentNode) { // else the next render() places it
        row.tr.parentNode.insertBefore(row.detail, row.tr.nextSibling);
      }
    }
    row.detail.classList.toggle("collapsed", !row.open);
    if (row.open && !row.drawn) {
      row.drawn = true;
      app.drawDrill(row.detail, row.rec);
    }
  }

  function toggle(row) {
    row.open = !row.open;
    row.tr.querySelector(".toggle").setAttribute("aria-expanded", String(row.open));
    whenParsed(function () { showDetail(row); });
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
    matching = rows.filter(function (row) {
      return menus.every(function (menu) { return matches(row.rec, menu); }) && terms.every(function (term) {
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

  /* ---- CSV download of the filtered rows ------------------------------------------------------- */

  /* JSON text of a nested value with sorted keys, as the CSV export writes it. */
  function sortedJson(value) {
    if (Array.isArray(value)) {
      return "[" + value.map(sortedJson).join(", ") + "]";
    }
    if (value !== null && typeof value === "object") {
      return "{" + Object.keys(value).sort().map(function (key) {
        return JSON.stringify(key) + ": " + sortedJson(value[key]);
      }).join(", ") + "}";
    }
    return JSON.stringify(value === undefined ? null : value);
  }

  /* One CSV field (RFC 4180 quoting). Text that a spreadsheet would run as a formula gets a leading
   * apostrophe: a Name tag of "=HYPERLINK(…)" must stay text when the file is opened. The characters come from
   * the page's metadata (advisor.report.exports.FORMULA_START): one rule for this download and the export. */
  function csvField(value) {
    var text;
    if (value === null || value === undefined) {
      text = "";
    } else if (typeof value === "boolean") {
      text = value ? "True" : "False";
    } else if (typeof value === "object") {
      text = sortedJson(value);
    } else if (typeof value === "number") {
      text = String(value);
    } else {
      text = String(value);
      text = text.length && (meta.formula_start || "").indexOf(text.charAt(0)) >= 0 ? "'" + text : text;
    }
    return /[",\r\n]/.test(text) ? "\"" + text.replace(/"/g, "\"\"") + "\"" : text;
  }

  function filteredCsv() {
    var columns = meta.csv || [];
    var lines = [columns.map(csvField).join(",")];
    matching.forEach(function (row) {
      lines.push(columns.map(function (column) { return csvField(row.rec[column]); }).join(","));
    });
    return lines.join("\n") + "\n";
  }

  function downloadCsv() {
    var url = URL.createObjectURL(new Blob([filteredCsv()], {type: "text/csv;charset=utf-8"}));
    var link = document.body.appendChild(el("a"));
    link.href = url;
    link.download = "recommendations-filtered.csv";
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 0);
  }

  /* ---- printing ------------------------------------------------------------------------------- */

  /* Plotly sizes its SVG in pixels: before printing, redraw every plot at the width its box has on the
   * printed page (the `printing` class gives the page the print width) and no taller than a page (an SVG is
   * not split across pages, it is cut), and back after. */
  function fitPlots(printing) {
    document.documentElement.classList.toggle("printing", printing);
    var page = document.querySelector("main").clientWidth - PRINT_INSET;
    Array.prototype.forEach.call(document.querySelectorAll(".js-plotly-plot"), function (plot) {
      if (plot.offsetParent === null || (!printing && plot.screenHeight === undefined)) {
        return; // hidden, or drawn after printing started: nothing to fit or to restore
      }
      if (plot.screenHeight === undefined) {
        plot.screenHeight = plot.layout.height;
      }
      var height = printing ? Math.min(plot.screenHeight, PRINT_HEIGHT) : plot.screenHeight;
      plot.style.height = height + "px";
      window.Plotly.relayout(plot, {width: printing ? Math.min(plot.parentNode.clientWidth, page) : null,
        height: height, autosize: true});
    });
  }

  /* ---- wiring ---------------------------------------------------------------------------------- */

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
  menus.forEach(function (menu) {
    menu.select.addEventListener("change", applyFilter);
  });
  document.getElementById("filter-reset").addEventListener("click", function () {
    textFilter.value = "";
    menus.forEach(function (menu) { menu.select.value = ""; });
    applyFilter();
  });
  document.getElementById("download-csv").addEventListener("click", downloadCsv);
  moreButton.addEventListener("click", function () {
    limit += PAGE_SIZE;
    render();
  });
  allButton.addEventListener("click", function () {
    limit = matching.length;
    render();
  });
  window.addEventListener("beforeprint", function () { fitPlots(true); });
  window.addEventListener("afterprint", function () { fitPlots(false); });
  window.matchMedia("print").addEventListener("change", function (event) { fitPlots(event.matches); });

  /* The details and the series come after this script in the page: a row expanded before they are parsed opens
   * once they are. */
  var waiting = document.readyState === "loading" ? [] : null;

  function whenParsed(show) {
    if (waiting) {
      waiting.push(show);
    } else {
      show();
    }
  }

  function afterPaint(next) {
    window.requestAnimationFrame(function () { setTimeout(next, 0); });
  }

  applySort();
  document.getElementById("rec-table").setAttribute("data-ready", "");
  afterPaint(function () { mark("advisor:table"); });
  if (waiting) {
    document.addEventListener("DOMContentLoaded", function () {
      var shows = waiting;
      waiting = null;
      shows.forEach(function (show) { show(); });
    });
  }
}());
