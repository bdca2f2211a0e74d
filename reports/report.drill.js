/* advisor report: a recommendation's details, built when its row is first expanded: why (rule, condition,
 * thresholds), the evidence (percentiles, forecast), the options, and the utilization chart with the current and
 * target capacity lines and the forecast. Series are decoded from their base64 slice only then. */
(function () {
  "use strict";

  var app = window.advisorReport;
  var el = app.el;
  var scalar = app.scalar;
  var isNumber = app.isNumber;
  var numberFormat = app.numberFormat;
  var MISSING = 255;
  var GRID = "#e5e7eb";
  var COLORS = {max: "#2563eb", mean: "#93c5fd", capacity: "#b91c1c", target: "#047857", forecast: "#7c3aed",
    band: "rgba(124, 58, 237, 0.14)", demand: "#6b7280"};
  var STAT_LABELS = {trend_per_day: "trend / day", trend_significant: "rising trend", forecast: "forecast",
    upper: "upper bound", weekly_peak: "weekly peak"};
  var SHOWN_EVIDENCE = ["window", "datapoints", "coverage", "hours_observed", "days_observed", "rule", "rule_file",
    "condition", "stats", "forecast", "thresholds", "notes"];
  var details = {};

  function detailsFor(rec) {
    if (!(rec.i in details)) {
      details[rec.i] = app.detailsOf(rec);
    }
    return details[rec.i];
  }

  function humanize(key) {
    return STAT_LABELS[key] || String(key).replace(/_/g, " ");
  }

  function isPlainObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  /* ---- generic renderers ----------------------------------------------------------------------- */

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
        list.appendChild(el("li")).appendChild(renderValue(item));
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

  /* ---- sections -------------------------------------------------------------------------------- */

  function whySection(rec, evidence) {
    var section = el("section");
    section.appendChild(el("h3", null, rec.title || "Why"));
    section.appendChild(el("p", null, rec.rationale || "No rationale recorded."));
    var facts = {Kind: rec.kind, Rule: rec.rule + (evidence.rule_file ? " (" + evidence.rule_file + ")" : ""),
      Severity: rec.severity};
    if (evidence.condition !== undefined) {
      facts.Condition = evidence.condition;
    }
    if (isNumber(rec.confidence_score)) {
      facts.Confidence = (rec.confidence || "") + " (an estimated " + Math.round(rec.confidence_score * 100) +
        " % chance the advice holds)";
    }
    if (isPlainObject(rec.projected_utilization) && Object.keys(rec.projected_utilization).length) {
      facts["Projected on target"] = inlinePairs(rec.projected_utilization, " %");
    }
    section.appendChild(kvList(facts));
    if (isPlainObject(evidence.thresholds) && Object.keys(evidence.thresholds).length) {
      section.appendChild(el("h4", null, "Rule thresholds"));
      section.appendChild(kvList(evidence.thresholds));
    }
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

  function evidenceSection(evidence) {
    var section = el("section");
    section.appendChild(el("h3", null, "Evidence"));
    var facts = {};
    if (evidence.window !== undefined) {
      facts.Window = scalar(evidence.window);
    }
    if (evidence.hours_observed !== undefined) {
      facts.Observed = scalar(evidence.hours_observed) + " hours over " + scalar(evidence.days_observed) + " days";
    }
    if (evidence.coverage !== undefined) {
      facts.Coverage = isNumber(evidence.coverage) && evidence.coverage <= 1
        ? numberFormat.format(evidence.coverage * 100) + " %" : scalar(evidence.coverage);
    }
    if (evidence.datapoints !== undefined) {
      facts.Datapoints = isPlainObject(evidence.datapoints) ? inlinePairs(evidence.datapoints, "")
        : scalar(evidence.datapoints);
    }
    if (Object.keys(facts).length) {
      section.appendChild(kvList(facts));
    }
    if (isPlainObject(evidence.stats)) {
      section.appendChild(el("h4", null, "Percentiles per metric"));
      section.appendChild(matrix(evidence.stats, "metric"));
    }
    if (isPlainObject(evidence.forecast) && Object.keys(evidence.forecast).length) {
      var horizon = null;
      var forecast = {};
      Object.keys(evidence.forecast).forEach(function (metric) { // the horizon goes in the heading
        forecast[metric] = Object.assign({}, evidence.forecast[metric]);
        horizon = forecast[metric].horizon_days === undefined ? horizon : forecast[metric].horizon_days;
        delete forecast[metric].horizon_days;
      });
      section.appendChild(el("h4", null, "Forecast of the daily peak per metric" +
        (horizon === null ? "" : ", " + scalar(horizon) + " days ahead")));
      section.appendChild(matrix(forecast, "metric"));
    }
    if (Array.isArray(evidence.notes) && evidence.notes.length) {
      section.appendChild(el("h4", null, "Notes"));
      section.appendChild(renderValue(evidence.notes));
    }
    var rest = {};
    Object.keys(evidence).forEach(function (key) {
      if (SHOWN_EVIDENCE.indexOf(key) === -1) {
        rest[key] = evidence[key];
      }
    });
    if (Object.keys(rest).length) {
      section.appendChild(el("h4", null, "Sizing inputs and other evidence"));
      section.appendChild(kvList(rest));
    }
    if (!Object.keys(evidence).length) {
      section.appendChild(el("p", "empty", "No evidence recorded."));
    }
    return section;
  }

  function optionsSection(options, priceDates) {
    var section = el("section", "full");
    var dates = Object.keys(priceDates || {}).map(function (name) {
      return name + " " + (priceDates[name] || "undated");
    });
    section.appendChild(el("h3", null, "Options (monthly, prices as of " + (dates.length ? dates.join(", ") :
      (app.meta.price_list_date || "unknown")) + ")"));
    if (!options.length) {
      section.appendChild(el("p", "empty", "No alternative options."));
      return section;
    }
    var table = el("table", "mini options");
    var head = el("tr");
    [["#", "num"], ["Type", ""], ["Option", ""], ["vCPUs", "num"], ["Memory GiB", "num"], ["Monthly cost", "num"],
      ["Savings", "num"], ["Projected utilization", ""], ["Risk", "num"]].forEach(function (pair) {
      head.appendChild(el("th", pair[1], pair[0]));
    });
    table.appendChild(el("thead")).appendChild(head);
    var body = table.appendChild(el("tbody"));
    options.forEach(function (option, index) {
      var tr = body.appendChild(el("tr"));
      tr.appendChild(el("td", "num", scalar(option.rank !== undefined ? option.rank : index + 1)));
      tr.appendChild(el("td", "mono", scalar(option.instance_type)));
      tr.appendChild(el("td", null, scalar(option.label)));
      tr.appendChild(el("td", "num", scalar(option.vcpus)));
      tr.appendChild(el("td", "num", scalar(option.memory_gib)));
      tr.appendChild(el("td", "num", app.money(option.monthly_cost)));
      tr.appendChild(el("td", "num", app.money(option.monthly_savings)));
      tr.appendChild(el("td", null, isPlainObject(option.projected_utilization)
        ? inlinePairs(option.projected_utilization, " %") : scalar(option.projected_utilization)));
      tr.appendChild(el("td", "num", scalar(option.risk)));
    });
    section.appendChild(table);
    return section;
  }

  function buildDetail(rec) {
    var info = detailsFor(rec);
    var evidence = info.evidence || {};
    var tr = el("tr", "details");
    tr.setAttribute("data-i", String(rec.i));
    var td = tr.appendChild(el("td"));
    td.colSpan = app.columnCount;
    var grid = td.appendChild(el("div", "detail-grid"));
    grid.appendChild(whySection(rec, evidence));
    grid.appendChild(evidenceSection(evidence));
    grid.appendChild(optionsSection(info.options || [], rec.price_dates));
    var drill = grid.appendChild(el("section", "full"));
    drill.appendChild(el("h3", null, "Utilization"));
    drill.appendChild(el("div", "drill"));
    return tr;
  }

  /* ---- series ---------------------------------------------------------------------------------- */

  /* One resource's series from its base64 slice: per metric, bucket maxima and, at full resolution, means (null
   * where empty). */
  function decodeSeries(entry) {
    var bytes = atob(app.rawText("report-series").substr(entry.at[0], entry.at[1]));
    var position = 0;
    return entry.metrics.map(function (described, k) {
      var n = described[3];
      var scale = entry.scales[k];
      var out = {name: described[0], percent: described[1], x: new Array(n), max: new Array(n),
        mean: entry.means ? new Array(n) : null};
      for (var j = 0; j < n; j++) {
        var high = bytes.charCodeAt(position + j);
        out.x[j] = (described[2] + j * entry.step) * 1000;
        out.max[j] = high === MISSING ? null : high * scale;
        if (entry.means) {
          var average = bytes.charCodeAt(position + n + j);
          out.mean[j] = average === MISSING ? null : average * scale;
        }
      }
      position += (entry.means ? 2 : 1) * n;
      return out;
    });
  }

  /* "hourly", "6-hourly", "daily", "2-day": the width of a bucket. */
  function stepLabel(seconds) {
    var hours = seconds / 3600;
    if (hours % 24 === 0) {
      return hours === 24 ? "daily" : hours / 24 + "-day";
    }
    return hours === 1 ? "hourly" : hours + "-hourly";
  }

  /* What the chart shows, stated next to it: "hourly maxima and means", "6-hourly maxima", "daily peaks". */
  function resolution(entry) {
    var width = stepLabel(entry.step);
    if (entry.means) {
      return width + " maxima and means";
    }
    return width + (entry.step % 86400 === 0 ? " peaks" : " maxima");
  }

  function peakOf(values) {
    return values.reduce(function (peak, value) { return value !== null && value > peak ? value : peak; }, 0);
  }

  /* ---- the drill-down chart -------------------------------------------------------------------- */

  /* Rows of metrics; each row has the history on the left (x) and, where there is a forecast, the next
   * `horizon_days` on the right (x2) sharing the row's y scale. */
  function drawDrill(detail, rec) {
    var holder = detail.querySelector(".drill");
    var info = detailsFor(rec);
    if (!info.series) {
      holder.appendChild(el("p", "empty", "No utilization samples for this resource in the report."));
      return;
    }
    var series = decodeSeries(info.series);
    var targets = info.targets || {};
    var windowEnd = app.meta.window_end;
    var horizonDays = app.meta.horizon_days;
    var forecasts = windowEnd === null || windowEnd === undefined ? {} : info.forecast || {};
    var hasForecast = series.some(function (s) { return forecasts[s.name]; });
    var end = windowEnd * 1000;
    var horizonEnd = end + horizonDays * 86400000;
    var label = stepLabel(info.series.step);
    var stated = resolution(info.series);
    var note = holder.appendChild(el("p", "sub resolution"));
    note.appendChild(el("strong", null, "Resolution: " + stated + "."));
    if (!info.series.means) {
      note.appendChild(document.createTextNode(" A compact series: this report keeps hourly maxima and means for " +
        "the " + numberFormat.format(app.meta.full_top) + " findings with the largest savings; the percentiles " +
        "in the evidence come from every sample."));
    }
    holder.appendChild(el("p", "sub", (info.series.means ? label + " maximum (dark) and mean (light)"
      : label + " maximum") + " per metric. Red dashed: current " +
      "capacity (100 %). Green dashed: the target's capacity on the current scale." + (hasForecast
      ? " Right: the forecast of the daily peak over the next " + numberFormat.format(horizonDays) +
        " days, its band up to the recurring weekly peak, and the demand sizing used." : "")));
    var plot = holder.appendChild(el("div", "drill-plot"));
    var n = series.length;
    var gap = 0.07;
    var height = (1 - gap * (n - 1)) / n;
    var split = hasForecast ? 0.74 : 1;
    var traces = [];
    var annotations = [];
    var shown = {};
    var layout = {
      height: 90 + 170 * n,
      margin: {l: 64, r: 16, t: 40, b: 40},
      font: app.font,
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      showlegend: true,
      legend: {orientation: "h", x: 0, y: 1.0, yanchor: "bottom"},
      hovermode: "closest",
      xaxis: {type: "date", domain: [0, split], anchor: "free", position: 0, gridcolor: GRID}
    };
    if (hasForecast) {
      layout.xaxis2 = {type: "date", domain: [split + 0.02, 1], anchor: "free", position: 0, gridcolor: GRID,
        range: [end, horizonEnd], title: {text: "next " + numberFormat.format(horizonDays) + " days",
          font: {size: 11}}};
    }

    function line(group, name, x, y, xaxis, yaxis, style, hover) {
      var trace = {type: "scatter", mode: "lines", name: name, legendgroup: group, showlegend: !shown[group],
        x: x, y: y, xaxis: xaxis, yaxis: yaxis, line: style, hovertemplate: hover + "<extra></extra>",
        connectgaps: false};
      shown[group] = true;
      traces.push(trace);
      return trace;
    }

    series.forEach(function (s, k) {
      var left = k === 0 ? "y" : "y" + (k + 1);
      var right = "y" + (n + k + 1);
      var top = 1 - k * (height + gap);
      var name = app.plotlyText(s.name);
      var unit = s.percent ? " %" : "";
      var valueFormat = s.percent ? "%{y:.1f} %" : "%{y:.3s}";
      var first = s.x[0];
      var last = s.x[s.x.length - 1];
      var forecast = forecasts[s.name];
      var target = targets[s.name];
      var peak = peakOf(s.max);
      line("max", label + " max", s.x, s.max, "x", left, {color: COLORS.max, width: 1.5},
        name + " max " + valueFormat + "<br>%{x}");
      if (s.mean) {
        line("mean", label + " mean", s.x, s.mean, "x", left, {color: COLORS.mean, width: 1},
          name + " mean " + valueFormat + "<br>%{x}");
      }
      layout["yaxis" + (k === 0 ? "" : k + 1)] = {domain: [Math.max(0, top - height), top], anchor: "x",
        gridcolor: GRID, title: {text: name + unit}, rangemode: "tozero"};
      if (!s.percent) {
        return;
      }
      var spans = [["x", left, [first, last]]];
      if (forecast) {
        spans.push(["x2", right, [end, horizonEnd]]);
        layout["yaxis" + (n + k + 1)] = {domain: [Math.max(0, top - height), top], anchor: "x2",
          matches: left, showticklabels: false, gridcolor: GRID};
        line("forecast", "forecast", [end, horizonEnd], forecast.forecast, "x2", right,
          {color: COLORS.forecast, width: 2, dash: "dash"}, name + " forecast %{y:.1f} %<br>%{x}");
        var band = line("band", "forecast band", [end, horizonEnd], forecast.upper, "x2", right,
          {color: COLORS.forecast, width: 0.5}, name + " upper bound %{y:.1f} %<br>%{x}");
        band.fill = "tonexty";
        band.fillcolor = COLORS.band;
        if (isNumber(forecast.demand)) {
          line("demand", "sizing demand", [end, horizonEnd], [forecast.demand, forecast.demand], "x2", right,
            {color: COLORS.demand, width: 1.2, dash: "dot"}, name + " demand used for sizing %{y:.1f} %");
        }
        peak = Math.max(peak, forecast.upper[0] || 0, forecast.upper[1] || 0, forecast.demand || 0);
      }
      spans.forEach(function (span) {
        line("capacity", "current capacity", span[2], [100, 100], span[0], span[1],
          {color: COLORS.capacity, width: 1.3, dash: "dash"}, "current capacity 100 %");
        if (target) {
          line("target", "target capacity", span[2], [target.percent, target.percent], span[0], span[1],
            {color: COLORS.target, width: 1.5, dash: "dash"}, app.plotlyText(target.label));
        }
      });
      if (target) {
        peak = Math.max(peak, target.percent);
      }
      layout["yaxis" + (k === 0 ? "" : k + 1)].range = [0, Math.max(105, peak + 5)];
      annotations.push({xref: "x domain", x: 1, xanchor: "right", yref: left, y: 100, yanchor: "bottom",
        text: "current capacity 100 %", showarrow: false, font: {size: 10, color: COLORS.capacity}});
      if (target) {
        annotations.push({xref: "x domain", x: 0, xanchor: "left", yref: left, y: target.percent,
          yanchor: target.percent > 100 ? "top" : "bottom", text: app.plotlyText(target.label), showarrow: false,
          font: {size: 10, color: COLORS.target}});
      }
    });
    layout.annotations = annotations;
    app.newPlot(plot, traces, layout);
    app.mark("advisor:drill");
  }

  app.buildDetail = buildDetail;
  app.drawDrill = drawDrill;
}());
