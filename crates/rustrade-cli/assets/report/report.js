// Draws the report's charts from the embedded JSON. On success the root element gets
// data-ok="1" and data-charts=<count>; on any failure it gets data-error=<message> and the
// message is shown at the top of the page. Tests read these attributes from the rendered DOM.
(function () {
  "use strict";
  var root = document.documentElement;
  function fail(message) {
    root.setAttribute("data-error", String(message));
    root.removeAttribute("data-ok");
    var status = document.getElementById("status");
    if (status) {
      status.textContent = "The charts could not be drawn: " + message;
      status.hidden = false;
    }
  }
  window.addEventListener("error", function (e) { fail(e.message || "script error"); });

  function width(el) {
    return Math.max(320, Math.floor(el.clientWidth || 800));
  }

  function markers(fills) {
    return function (u) {
      var ctx = u.ctx;
      var r = 5 * uPlot.pxRatio;
      ctx.save();
      for (var i = 0; i < fills.length; i++) {
        var f = fills[i];
        var x = u.valToPos(f.t, "x", true);
        var y = u.valToPos(f.price, "y", true);
        if (!isFinite(x) || !isFinite(y)) continue;
        var buy = f.side === "buy";
        ctx.fillStyle = buy ? "#14853b" : "#c62828";
        ctx.beginPath();
        if (buy) {
          ctx.moveTo(x, y + r * 0.2); ctx.lineTo(x - r, y + r * 1.9); ctx.lineTo(x + r, y + r * 1.9);
        } else {
          ctx.moveTo(x, y - r * 0.2); ctx.lineTo(x - r, y - r * 1.9); ctx.lineTo(x + r, y - r * 1.9);
        }
        ctx.closePath();
        ctx.fill();
      }
      ctx.restore();
    };
  }

  function chart(el, title, series, data, extra) {
    if (!data[0].length) throw new Error("no data for the " + title + " chart");
    var opts = {
      title: title,
      width: width(el),
      height: 260,
      scales: { x: { time: true } },
      axes: [{}, { size: 80 }],
      series: [{}].concat(series),
      legend: { show: true }
    };
    if (extra) for (var k in extra) opts[k] = extra[k];
    var plot = new uPlot(opts, data, el);
    var canvas = plot.root.querySelector("canvas");
    if (!canvas || canvas.width === 0 || canvas.height === 0) {
      throw new Error("the " + title + " chart has no drawing surface");
    }
    return plot;
  }

  try {
    if (typeof uPlot !== "function") throw new Error("the chart library did not load");
    var data = JSON.parse(document.getElementById("report-data").textContent);
    var count = 0;
    var priceBox = document.getElementById("price-charts");
    if (!data.prices.length) throw new Error("no price series");
    data.prices.forEach(function (s) {
      var el = document.createElement("div");
      priceBox.appendChild(el);
      var fills = data.fills.filter(function (f) { return f.symbol === s.symbol; });
      // A series spanning more than a decade of price is drawn on a log scale.
      var lo = Math.min.apply(null, s.close), hi = Math.max.apply(null, s.close);
      var log = lo > 0 && hi / lo > 10;
      chart(el, s.symbol + " close" + (log ? " (log scale)" : ""),
        [{ label: "close", stroke: "#2a6fdb", width: 1 }], [s.time, s.close], {
          hooks: { draw: [markers(fills)] },
          scales: { x: { time: true }, y: log ? { distr: 3 } : {} }
        });
      count++;
    });
    chart(document.getElementById("equity-chart"), "Equity",
      [{ label: "equity", stroke: "#6b3fa0", width: 1.5 }], [data.equity.time, data.equity.value]);
    count++;
    chart(document.getElementById("drawdown-chart"), "Drawdown (%)",
      [{ label: "drawdown %", stroke: "#c62828", fill: "rgba(198,40,40,0.15)", width: 1 }],
      [data.equity.time, data.equity.drawdown]);
    count++;
    if (!root.hasAttribute("data-error")) {
      root.setAttribute("data-charts", String(count));
      root.setAttribute("data-ok", "1");
    }
  } catch (e) {
    fail(e && e.message ? e.message : e);
  }
})();
