/* streamlearn charts: small SVG line charts with no dependencies.
 * SLCharts.lineChart(container, {series, xLabel, yLabel, percent, log, zero, empty})
 * draws into container; each <path> carries data-points (its point count). */
"use strict";
const SLCharts = (() => {
  const NS = "http://www.w3.org/2000/svg"; // an XML namespace name, never fetched
  const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                   "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];

  function node(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function finite(v) { return typeof v === "number" && isFinite(v); }

  function fmt(v, percent) {
    if (!finite(v)) return "n/a";
    if (percent) return (100 * v).toFixed(2) + "%";
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e7 || a < 1e-3)) return v.toExponential(2);
    if (a >= 1000) return Math.round(v).toLocaleString("en-US");
    return String(Number(v.toPrecision(4)));
  }

  function niceStep(span, n) {
    const raw = span / n;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const r = raw / mag;
    return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
  }

  function linearTicks(lo, hi, n) {
    if (!(hi > lo)) return [lo];
    const step = niceStep(hi - lo, n);
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    return out;
  }

  function logTicks(lo, hi) {
    const out = [];
    for (let p = Math.floor(Math.log10(lo)); p <= Math.ceil(Math.log10(hi)); p++) {
      const v = Math.pow(10, p);
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
    return out.length ? out : [lo, hi];
  }

  function extent(values) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) if (finite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return [lo, hi];
  }

  function lineChart(container, opts) {
    const series = (opts.series || []).filter((s) => s.x && s.y);
    container.textContent = "";
    const width = Math.max(320, container.clientWidth || 640);
    const height = opts.height || (container.classList.contains("small") ? 180 : 260);
    const m = { l: 64, r: 28, t: 10, b: 38 };
    const svg = node("svg", { width, height, viewBox: `0 0 ${width} ${height}`,
                              class: "sl-chart", role: "img" }, container);
    let points = 0;
    for (const s of series) points = Math.max(points, s.y.filter(finite).length);
    svg.setAttribute("data-points", String(points));
    if (opts.title) node("title", {}, svg).textContent = opts.title;
    if (!points) {
      const t = node("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, svg);
      t.textContent = opts.empty || "waiting for data";
      return svg;
    }
    let [x0, x1] = extent(series.flatMap((s) => s.x));
    let [y0, y1] = extent(series.flatMap((s) => s.y));
    const log = opts.log === true || (opts.log === "auto" && y0 > 0 && y1 / y0 > 100);
    if (!log) {
      const nonNegative = y0 >= 0;
      if (y1 === y0) { const d = Math.abs(y0) * 0.05 || 1; y0 -= d; y1 += d; }
      const pad = (y1 - y0) * 0.05;
      // counts and errors never go below 0; counts and rates read best from 0
      y0 = nonNegative && (opts.zero || y0 - pad < 0) ? 0 : y0 - pad;
      y1 += pad;
      if (opts.percent) { y0 = Math.max(0, y0); y1 = Math.min(1, y1); }
    }
    if (x1 === x0) { x0 -= 1; x1 += 1; }
    const pw = width - m.l - m.r, ph = height - m.t - m.b;
    const tx = (v) => m.l + ((v - x0) / (x1 - x0)) * pw;
    const ty = log
      ? (v) => m.t + ph - ((Math.log10(v) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0) || 1)) * ph
      : (v) => m.t + ph - ((v - y0) / (y1 - y0)) * ph;

    for (const v of log ? logTicks(y0, y1) : linearTicks(y0, y1, 5)) {
      const y = ty(v);
      node("line", { x1: m.l, x2: width - m.r, y1: y, y2: y, class: "grid-line" }, svg);
      const t = node("text", { x: m.l - 6, y: y + 4, "text-anchor": "end" }, svg);
      t.textContent = fmt(v, opts.percent);
    }
    for (const v of linearTicks(x0, x1, Math.max(2, Math.floor(pw / 110)))) {
      const x = tx(v);
      node("line", { x1: x, x2: x, y1: m.t + ph, y2: m.t + ph + 4, class: "axis" }, svg);
      const t = node("text", { x, y: m.t + ph + 16, "text-anchor": "middle" }, svg);
      t.textContent = fmt(v);
    }
    node("line", { x1: m.l, x2: width - m.r, y1: m.t + ph, y2: m.t + ph, class: "axis" }, svg);
    node("line", { x1: m.l, x2: m.l, y1: m.t, y2: m.t + ph, class: "axis" }, svg);
    if (opts.xLabel) {
      const t = node("text", { x: m.l + pw / 2, y: height - 4, "text-anchor": "middle" }, svg);
      t.textContent = opts.xLabel + (log ? "   (y axis: log scale)" : "");
    }
    if (opts.yLabel) {
      const t = node("text", { x: 12, y: m.t + ph / 2, "text-anchor": "middle",
                               transform: `rotate(-90 12 ${m.t + ph / 2})` }, svg);
      t.textContent = opts.yLabel;
    }

    series.forEach((s, i) => {
      let d = "", pen = false, n = 0;
      for (let k = 0; k < s.y.length; k++) {
        const x = s.x[k], y = s.y[k];
        if (!finite(x) || !finite(y) || (log && y <= 0)) { pen = false; continue; }
        d += `${pen ? "L" : "M"}${tx(x).toFixed(1)},${ty(y).toFixed(1)}`;
        pen = true; n++;
      }
      node("path", { d, fill: "none", stroke: s.color || PALETTE[i % PALETTE.length],
                     "stroke-width": s.width || 1.8, "stroke-dasharray": s.dash || "none",
                     "stroke-linejoin": "round", "data-series": s.name, "data-points": n }, svg);
    });

    if (series.length > 1 || opts.legend) {
      const legend = document.createElement("div");
      legend.className = "legend";
      series.forEach((s, i) => {
        const item = document.createElement("span");
        const sw = document.createElement("span");
        sw.className = "swatch";
        sw.style.background = s.color || PALETTE[i % PALETTE.length];
        item.append(sw, document.createTextNode(s.name));
        legend.appendChild(item);
      });
      container.appendChild(legend);
    }
    hover(container, svg, series, { tx, m, ph, x0, x1, pw, percent: opts.percent, xLabel: opts.xLabel });
    return svg;
  }

  // a dashed cursor and a readout of every series at the nearest x
  function hover(container, svg, series, g) {
    const cursor = node("line", { y1: g.m.t, y2: g.m.t + g.ph, class: "cursor", visibility: "hidden" }, svg);
    const tip = document.createElement("div");
    tip.className = "tooltip";
    container.appendChild(tip);
    const xs = series[0].x;
    svg.addEventListener("mousemove", (ev) => {
      const box = svg.getBoundingClientRect();
      const px = (ev.clientX - box.left) * (svg.viewBox.baseVal.width / box.width);
      const xv = g.x0 + ((px - g.m.l) / g.pw) * (g.x1 - g.x0);
      let lo = 0, hi = xs.length - 1;
      while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (xs[mid] < xv) lo = mid; else hi = mid; }
      const k = Math.abs(xs[lo] - xv) <= Math.abs(xs[hi] - xv) ? lo : hi;
      if (!finite(xs[k])) return;
      const x = g.tx(xs[k]);
      cursor.setAttribute("x1", x); cursor.setAttribute("x2", x);
      cursor.setAttribute("visibility", "visible");
      tip.textContent = "";
      const head = document.createElement("div");
      head.textContent = `${g.xLabel || "x"} ${fmt(xs[k])}`;
      tip.appendChild(head);
      for (const s of series) {
        const row = document.createElement("div");
        row.textContent = `${s.name}: ${fmt(s.y[k], g.percent)}`;
        tip.appendChild(row);
      }
      tip.style.display = "block";
      tip.style.left = `${Math.min(ev.offsetX + 14, container.clientWidth - tip.offsetWidth - 4)}px`;
      tip.style.top = `${Math.max(0, ev.offsetY - 10)}px`;
    });
    svg.addEventListener("mouseleave", () => {
      cursor.setAttribute("visibility", "hidden");
      tip.style.display = "none";
    });
  }

  return { lineChart, fmt, PALETTE };
})();
