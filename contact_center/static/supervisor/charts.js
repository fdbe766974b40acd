/**
 * A small charting module for the supervisor page: line charts (time series) and
 * grouped bar charts, drawn as SVG with the DOM API.
 *
 * No dependency and nothing from elsewhere: the page's Content-Security-Policy allows
 * only its own scripts and styles, and no inline styles, so every colour comes from a
 * CSS class (.s0 ... .s7 in supervisor.css) and every label is set with textContent.
 * Hovering a point or a bar shows its value (an SVG <title>).
 *
 *   lineChart(element, {labels, series: [{name, values}], format, min, max, target})
 *   barChart(element, {categories, series: [{name, values}], format, max})
 *
 * ``values`` may hold null (no data for that interval): the line breaks there.
 * ``integer: true`` keeps the axis on whole numbers (counts).
 *
 * Right to left (the page's dir="rtl", e.g. Persian): time and categories run from
 * the right and the value axis stands on the right, as people of the locale read.
 */

const NS = "http://www.w3.org/2000/svg";
const W = 640;
const MARGIN = { top: 10, right: 14, bottom: 30, left: 54 };
const SERIES_CLASSES = 8;

function node(tag, attrs = {}, text = null) {
  const n = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) n.setAttribute(key, String(value));
  if (text !== null) n.textContent = text;
  return n;
}

/** Round tick values covering [min, max]: 1, 2 or 5 times a power of ten apart
 * (whole numbers only when ``integer``: counts of contacts). */
export function niceTicks(min, max, count = 5, integer = false) {
  if (!(max > min)) max = min + 1;
  const raw = Math.max((max - min) / count, integer ? 1 : 0);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const start = Math.floor(min / step) * step;
  const ticks = [];
  for (let v = start; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

function frame(container, height) {
  container.replaceChildren();
  const svg = node("svg", { viewBox: `0 0 ${W} ${height}`, role: "img" });
  container.append(svg);
  return svg;
}

function legend(container, series) {
  const box = document.createElement("div");
  box.className = "chart-legend";
  series.forEach((s, i) => {
    const item = document.createElement("span");
    item.className = `s${i % SERIES_CLASSES}`;
    item.append(document.createElement("i"), document.createTextNode(s.name));
    box.append(item);
  });
  container.append(box);
}

function empty(container, message) {
  container.replaceChildren();
  const p = document.createElement("p");
  p.className = "chart-empty";
  p.textContent = message;
  container.append(p);
}

/** Whether the chart reads right to left (its container's direction). */
function isRtl(container) {
  return getComputedStyle(container).direction === "rtl";
}

/** x as drawn: mirrored across the chart in RTL. */
function mirror(rtl) {
  return rtl ? (x) => W - x : (x) => x;
}

function yAxis(svg, ticks, y, height, format, rtl) {
  const mx = mirror(rtl);
  const g = node("g", { class: "axis" });
  for (const t of ticks) {
    const py = y(t);
    g.append(node("line", { class: "grid-line", x1: mx(MARGIN.left), x2: mx(W - MARGIN.right), y1: py, y2: py }));
    g.append(node("text", { x: mx(MARGIN.left - 6), y: py + 4, "text-anchor": rtl ? "start" : "end" }, format(t)));
  }
  g.append(node("line", { x1: mx(MARGIN.left), x2: mx(W - MARGIN.right), y1: height - MARGIN.bottom, y2: height - MARGIN.bottom }));
  svg.append(g);
}

function xLabels(svg, labels, x, height) {
  const g = node("g", { class: "axis x-axis" });
  const every = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((label, i) => {
    if (i % every !== 0) return;
    g.append(node("text", { x: x(i), y: height - MARGIN.bottom + 16, "text-anchor": "middle" }, label));
  });
  svg.append(g);
}

function scaleY(ticks, height) {
  const lo = ticks[0];
  const hi = ticks[ticks.length - 1];
  const span = hi - lo || 1;
  return (v) => height - MARGIN.bottom - ((v - lo) / span) * (height - MARGIN.top - MARGIN.bottom);
}

/** A time series: one line per series over the same labels (intervals). */
export function lineChart(container, { labels, series, format = String, min = 0, max = null, target = null, integer = false, height = 220, emptyText = "" }) {
  const values = series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined && Number.isFinite(v));
  if (!labels.length || !values.length) return empty(container, emptyText);
  const top = max !== null ? max : Math.max(...values, target !== null ? target : -Infinity);
  const ticks = niceTicks(Math.min(min, ...values), top, 5, integer);
  const rtl = isRtl(container);
  const svg = frame(container, height);
  const y = scaleY(ticks, height);
  const inner = W - MARGIN.left - MARGIN.right;
  const mx = mirror(rtl);
  const x = (i) => mx(MARGIN.left + (labels.length === 1 ? inner / 2 : (i / (labels.length - 1)) * inner));
  yAxis(svg, ticks, y, height, format, rtl);
  xLabels(svg, labels, x, height);
  if (target !== null) {
    svg.append(node("line", { class: "target", x1: MARGIN.left, x2: W - MARGIN.right, y1: y(target), y2: y(target) }));
  }
  series.forEach((s, si) => {
    const cls = `s${si % SERIES_CLASSES}`;
    let d = "";
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null || v === undefined || !Number.isFinite(v)) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    if (d) svg.append(node("path", { class: `line ${cls}`, d }));
    const points = node("g", { class: cls });
    s.values.forEach((v, i) => {
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      const dot = node("circle", { class: `pt ${cls}`, cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: labels.length > 60 ? 1.5 : 3 });
      dot.append(node("title", {}, `${labels[i]} · ${s.name}: ${format(v)}`));
      points.append(dot);
    });
    svg.append(points);
  });
  legend(container, series);
}

/** Grouped bars: one group per category, one bar per series. */
export function barChart(container, { categories, series, format = String, max = null, integer = false, height = 220, emptyText = "" }) {
  const values = series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined && Number.isFinite(v));
  if (!categories.length || !values.length) return empty(container, emptyText);
  const ticks = niceTicks(0, max !== null ? max : Math.max(...values), 5, integer);
  const rtl = isRtl(container);
  const mx = mirror(rtl);
  const svg = frame(container, height);
  const y = scaleY(ticks, height);
  const inner = W - MARGIN.left - MARGIN.right;
  const band = inner / categories.length;
  const gap = Math.min(12, band * 0.2);
  const barWidth = Math.max(1, (band - gap) / series.length);
  yAxis(svg, ticks, y, height, format, rtl);
  xLabels(svg, categories.map((c) => (c.length > 14 ? `${c.slice(0, 13)}…` : c)), (i) => mx(MARGIN.left + band * i + band / 2), height);
  series.forEach((s, si) => {
    const cls = `s${si % SERIES_CLASSES}`;
    const g = node("g", { class: cls });
    s.values.forEach((v, i) => {
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      const start = MARGIN.left + band * i + gap / 2 + barWidth * si;
      const x0 = rtl ? W - start - barWidth : start;
      const y0 = y(Math.max(0, v));
      const bar = node("rect", { class: cls, x: x0.toFixed(1), y: y0.toFixed(1), width: barWidth.toFixed(1), height: Math.max(0, y(ticks[0]) - y0).toFixed(1), rx: 2 });
      bar.append(node("title", {}, `${categories[i]} · ${s.name}: ${format(v)}`));
      g.append(bar);
    });
    svg.append(g);
  });
  legend(container, series);
}

/** A horizontal stacked bar of parts (e.g. agents by state), each with a CSS class. */
export function stackedBar(container, parts, height = 8) {
  const rtl = isRtl(container);
  container.replaceChildren();
  const total = parts.reduce((sum, p) => sum + p.value, 0);
  const svg = node("svg", { viewBox: `0 0 100 ${height}`, preserveAspectRatio: "none", role: "img" });
  let x = 0;
  for (const part of parts) {
    if (!total || !part.value) continue;
    const w = (part.value / total) * 100;
    const rect = node("rect", { class: part.className, x: (rtl ? 100 - x - w : x).toFixed(2), y: 0, width: w.toFixed(2), height });
    rect.append(node("title", {}, `${part.label}: ${part.value}`));
    svg.append(rect);
    x += w;
  }
  container.append(svg);
}
