/*
 * Customer journey page for supervisors and admins.
 *
 * Signs in over REST (the token is shared with the supervisor page through
 * sessionStorage), then loads the journey analytics for the chosen period, source and
 * queue: the stage funnel, the journey map (stage of origin x channel) as a heat map
 * with its bottlenecks, attribution of conversions, contacts by stage of origin, and
 * CSV exports.  Admins also manage stage rules and the sites that report conversions.
 * Charts are plain SVG drawn here; every text from the server goes in as textContent.
 */

import { $, SUPERVISOR_SIGN_IN, clearSession, createApi, downloadFile, fmtCount, h, loadSession, showLogin, signIn } from "/static/common/staff.js";
import { followUserLocale, loadI18n, localePicker } from "/static/common/i18n.js";

// The page's language first: the metric names below come from its catalogue.
const t = await loadI18n();

const SESSION_KEY = SUPERVISOR_SIGN_IN.storageKey; // shared with the supervisor page
const SVG = "http://www.w3.org/2000/svg";
const STAGES = ["awareness", "consideration", "decision", "purchase", "retention"];
const label = (prefix, code) => (t.has(`${prefix}.${code}`) ? t(`${prefix}.${code}`) : String(code || "").replace(/_/g, " "));
const METRICS = {
  volume: { label: t("journey.volume"), worse: "none", format: (v) => fmtCount(v) },
  avg_wait_s: { label: t("journey.average_wait"), worse: "high", format: (v) => fmtDuration(v) },
  abandonment_rate: { label: t("journey.abandonment"), worse: "high", format: (v) => fmtPct(v) },
  csat: { label: t("journey.csat_4_5_5"), worse: "low", format: (v) => fmtPct(v) },
  conversion_rate: { label: t("journey.conversion_after_contact"), worse: "low", format: (v) => fmtPct(v) },
};
const CSV_PATHS = {
  funnel: "/api/journey/funnel.csv",
  grid: "/api/journey/grid.csv",
  origins: "/api/journey/origins.csv",
  attribution: "/api/journey/attribution.csv",
};

const state = {
  ...loadSession(SESSION_KEY), // token, user
  metric: "volume",
  model: "linear",
  data: null,
  loading: 0,
};

// ------------------------------------------------------------------ helpers

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (key === "text") el.textContent = value;
    else if (key === "class") el.setAttribute("class", value);
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) if (child) el.append(child);
  return el;
}

function fmtPct(v, digits = 0) {
  if (v === null || v === undefined) return "–";
  const pct = v * 100;
  const places = pct > 0 && pct < 10 && digits === 0 ? 1 : digits;
  return t("journey.pct", { n: t.num(pct, { minimumFractionDigits: places, maximumFractionDigits: places }) });
}

function fmtNum(v, digits = 1) {
  return v === null || v === undefined ? "–" : t.num(Number(v), { maximumFractionDigits: digits });
}

function fmtMoney(v) {
  return v === null || v === undefined ? "–" : t.num(Number(v), { maximumFractionDigits: 0 });
}

function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const one = { minimumFractionDigits: 1, maximumFractionDigits: 1 };
  if (seconds < 90) return t("jp.duration.s", { n: Math.round(seconds) });
  if (seconds < 90 * 60) return t("jp.duration.min", { n: Math.round(seconds / 60) });
  if (seconds < 36 * 3600) return t("jp.duration.h", { n: t.num(seconds / 3600, one) });
  return t("journey.duration.d", { n: t.num(seconds / 86400, one) });
}

function stageLabel(stage) {
  return label("label.stage", stage);
}

function channelLabel(channel) {
  return channel === "*" ? t("journey.all_channels") : label("label.channel", channel);
}

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function clear(el) {
  while (el.firstChild) el.firstChild.remove();
}

function setStatus(text) {
  $("status").textContent = text;
}

function showError(text) {
  const banner = $("error");
  banner.textContent = text || "";
  banner.hidden = !text;
}

// ------------------------------------------------------------------ REST

const api = createApi({
  token: () => state.token,
  onExpired: () => signOut(t("staff.session_expired")),
});

// ------------------------------------------------------------------ sign in

function signOut(message) {
  state.token = "";
  state.user = null;
  clearSession(SESSION_KEY);
  showLogin(message || t("staff.supervisors_administrators"));
}

// ------------------------------------------------------------------ filters

function readFiltersFromUrl() {
  const params = new URLSearchParams(location.search);
  const today = new Date();
  const range = params.get("range") || (params.get("from") ? "custom" : "30");
  $("f-range").value = ["7", "30", "90", "custom"].includes(range) ? range : "30";
  if ($("f-range").value === "custom") {
    $("f-from").value = params.get("from") || isoDay(new Date(today.getTime() - 29 * 86400000));
    $("f-to").value = params.get("to") || isoDay(today);
  } else {
    applyRange();
  }
  state.pendingSource = params.get("source") || "";
  state.pendingQueue = params.get("queue") || "";
  state.metric = METRICS[params.get("metric")] ? params.get("metric") : "volume";
  state.model = ["first", "last", "linear"].includes(params.get("model")) ? params.get("model") : "linear";
}

function applyRange() {
  const days = Number($("f-range").value);
  if (!days) return;
  const today = new Date();
  $("f-to").value = isoDay(today);
  $("f-from").value = isoDay(new Date(today.getTime() - (days - 1) * 86400000));
}

function filterQuery() {
  const query = new URLSearchParams();
  query.set("from", $("f-from").value);
  query.set("to", $("f-to").value);
  if ($("f-source").value) query.set("source", $("f-source").value);
  if ($("f-queue").value) query.set("queue", $("f-queue").value);
  return query;
}

function syncUrl() {
  const query = filterQuery();
  if ($("f-range").value !== "custom") {
    query.delete("from");
    query.delete("to");
    query.set("range", $("f-range").value);
  }
  if (state.metric !== "volume") query.set("metric", state.metric);
  if (state.model !== "linear") query.set("model", state.model);
  history.replaceState(null, "", `${location.pathname}?${query}`);
}

function fillSelect(select, options, keep, allLabel) {
  const current = keep ?? select.value;
  clear(select);
  select.append(h("option", { value: "" }, allLabel));
  for (const [value, label] of options) select.append(h("option", { value }, label));
  if (current && !options.some(([value]) => value === current)) {
    select.append(h("option", { value: current }, current));
  }
  select.value = current || "";
}

async function loadFilterChoices() {
  const query = new URLSearchParams({ from: $("f-from").value, to: $("f-to").value });
  const [sources, queues] = await Promise.all([
    api("GET", `/api/journey/sources?${query}`).catch(() => ({ sources: [] })),
    api("GET", "/api/admin/queues").catch(() => []),
  ]);
  fillSelect(
    $("f-source"),
    sources.sources.map((row) => [row.source, `${row.source} (${fmtCount(row.visitors)})`]),
    state.pendingSource ?? $("f-source").value,
    t("journey.all_sources"),
  );
  fillSelect($("f-queue"), queues.map((q) => [q.id, (q.labels && q.labels[t.locale]) || q.name || q.id]), state.pendingQueue ?? $("f-queue").value, t("journey.all_queues"));
  state.pendingSource = null;
  state.pendingQueue = null;
}

// ------------------------------------------------------------------ loading

async function load() {
  if (!$("f-from").value || !$("f-to").value) return;
  const ticket = ++state.loading;
  syncUrl();
  setStatus(t("console.loading"));
  showError("");
  const query = filterQuery();
  try {
    const [funnel, grid, attribution, origins] = await Promise.all([
      api("GET", `/api/journey/funnel?${query}`),
      api("GET", `/api/journey/grid?${query}`),
      api("GET", `/api/journey/attribution?${query}`),
      api("GET", `/api/journey/origins?${query}`),
    ]);
    if (ticket !== state.loading) return;
    state.data = { funnel, grid, attribution, origins };
    render();
    setStatus(t("journey.updated", { time: t.date(new Date(), { hour: "2-digit", minute: "2-digit", second: "2-digit" }) }));
  } catch (error) {
    if (ticket !== state.loading || error.status === 401) return;
    showError(t("journey.load_failed", { why: error.message }));
    setStatus("");
  }
}

function render() {
  const { funnel, grid, attribution, origins } = state.data;
  renderKpis(funnel, grid, attribution);
  renderFunnel(funnel);
  renderBottlenecks(grid);
  renderMap(grid);
  renderAttribution(attribution);
  renderOrigins(origins);
}

// ------------------------------------------------------------------ KPIs

function renderKpis(funnel, grid, attribution) {
  const box = $("kpis");
  clear(box);
  const first = funnel.steps[0];
  const purchase = funnel.steps.find((step) => step.stage === "purchase");
  const worst = grid.bottlenecks[0];
  const contacts = grid.stage_totals.reduce((sum, cell) => sum + cell.volume, 0);
  const kpi = (label, value, note, cls) =>
    h("div", { class: `kpi${cls ? ` ${cls}` : ""}` }, h("div", { class: "label" }, label), h("div", { class: "value" }, value), h("div", { class: "note" }, note));
  box.append(
    kpi(t("journey.kpi.visitors"), fmtCount(first.reached), t("journey.kpi.visitors_note")),
    kpi(t("journey.kpi.reached_purchase"), fmtPct(purchase.reached / (first.reached || 1), 1), t("journey.kpi.n_visitors", { n: fmtCount(purchase.reached) })),
    kpi(t("journey.kpi.conversions"), fmtCount(attribution.conversions), t("journey.kpi.worth", { value: fmtMoney(attribution.value) })),
    kpi(t("journey.kpi.contacts"), fmtCount(contacts), t("journey.kpi.contacts_note", { n: fmtCount(contactedVisitors(grid)) })),
    worst
      ? kpi(t("journey.kpi.worst"), `${stageLabel(worst.stage)} × ${channelLabel(worst.channel)}`, worst.reasons[0], "alert")
      : kpi(t("journey.bottlenecks"), t("journey.kpi.none"), t("journey.kpi.none_note")),
  );
}

function contactedVisitors(grid) {
  return grid.cells.reduce((sum, cell) => sum + cell.visitors, 0);
}

// ------------------------------------------------------------------ funnel

function renderFunnel(funnel) {
  const box = $("funnel");
  clear(box);
  const steps = funnel.steps;
  const max = Math.max(1, ...steps.map((step) => step.reached));
  const width = 760;
  const labelW = 120;
  const barMax = width - labelW - 250;
  const rowH = 30;
  const gapH = 34;
  const height = steps.length * rowH + (steps.length - 1) * gapH + 10;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, width, role: "img", "aria-label": t("journey.stage_funnel") });
  steps.forEach((step, i) => {
    const y = i * (rowH + gapH);
    const w = Math.max(2, (step.reached / max) * barMax);
    const inStage = Math.max(0, (step.visitors / max) * barMax);
    svg.append(
      s("text", { x: 0, y: y + 19, class: "label", text: stageLabel(step.stage) }),
      s("rect", { x: labelW, y, width: w, height: rowH, rx: 4, class: "bar-soft" }),
      s("rect", { x: labelW, y, width: Math.min(inStage, w), height: rowH, rx: 4, class: "bar" }),
      s("text", { x: labelW + w + 8, y: y + 13, class: "label", text: t("journey.funnel.reached", { n: fmtCount(step.reached) }) }),
      s("text", {
        x: labelW + w + 8,
        y: y + 27,
        class: "muted-text",
        text: t("journey.funnel.in_stage", { n: fmtCount(step.visitors), rate: fmtPct(step.contact_rate, 1) }),
      }),
    );
    if (i < steps.length - 1) {
      const mid = y + rowH + gapH / 2 + 4;
      const parts = [
        t("journey.funnel.went_on", { pct: fmtPct(step.step_conversion, 1) }),
        t("journey.funnel.dropped", { n: fmtCount(step.dropped) }),
        step.median_time_to_next_s !== null ? t("journey.funnel.median_to", { time: fmtDuration(step.median_time_to_next_s), stage: stageLabel(steps[i + 1].stage).toLowerCase() }) : null,
      ].filter(Boolean);
      svg.append(s("text", { x: labelW + 6, y: mid, class: "muted-text", text: parts.join(" · ") }));
      const tip = [
        `${stageLabel(step.stage)} → ${stageLabel(steps[i + 1].stage)}`,
        t("journey.funnel.step_conversion", { pct: fmtPct(step.step_conversion, 1), drop: fmtPct(step.drop_off, 1) }),
        t("journey.funnel.time_to_convert", { median: fmtDuration(step.median_time_to_next_s), mean: fmtDuration(step.avg_time_to_next_s), n: fmtCount(step.timed) }),
      ].join("\n");
      const hit = s("rect", { x: labelW, y: y + rowH, width: barMax, height: gapH, fill: "transparent" });
      tooltip(hit, tip);
      svg.append(hit);
    }
    const hitBar = s("rect", { x: 0, y, width: width, height: rowH, fill: "transparent" });
    tooltip(
      hitBar,
      [
        stageLabel(step.stage),
        t("journey.funnel.tip_reached", { n: fmtCount(step.reached) }),
        t("journey.funnel.tip_touch", { n: fmtCount(step.visitors) }),
        t("journey.funnel.tip_help", { n: fmtCount(step.contacted), pct: fmtPct(step.contact_rate, 1) }),
      ].join("\n"),
    );
    svg.append(hitBar);
  });
  box.append(svg);
}

// ------------------------------------------------------------------ bottlenecks

// Why a cell is a bottleneck, in the reader's language, from the figures the grid
// carries (the server's English ``reasons`` are for programs; shown only for a rule
// this page does not know yet).
function reasonText(rule, cell, total, rules) {
  if (!cell) return null;
  switch (rule) {
    case "abandonment":
      return t("journey.reason.abandonment", { rate: fmtPct(cell.abandonment_rate), limit: fmtPct(rules.max_abandonment), n: fmtCount(cell.abandoned), of: fmtCount(cell.queued) });
    case "wait":
      return t("journey.reason.wait", { wait: fmtDuration(cell.avg_wait_s), limit: fmtDuration(rules.max_avg_wait_s) });
    case "csat":
      return t("journey.reason.csat", { csat: fmtPct(cell.csat), limit: fmtPct(rules.min_csat), n: fmtCount(cell.satisfied), of: fmtCount(cell.rated) });
    case "conversion": {
      const average = total ? total.conversion_rate : null;
      if (average === null || average === undefined) return null;
      return t("journey.reason.conversion", { rate: fmtPct(cell.conversion_rate), limit: fmtPct((1 - rules.conversion_margin) * average), share: fmtPct(1 - rules.conversion_margin), stage: stageLabel(cell.stage), average: fmtPct(average) });
    }
    default:
      return null;
  }
}

function renderBottlenecks(grid) {
  const list = $("bottlenecks");
  clear(list);
  const rules = grid.rules;
  $("bottleneck-rules").textContent = t("journey.rules_summary", {
    volume: rules.min_volume,
    abandonment: fmtPct(rules.max_abandonment),
    wait: fmtDuration(rules.max_avg_wait_s),
    csat: fmtPct(rules.min_csat),
    conversion: fmtPct(1 - rules.conversion_margin),
    gap: fmtPct(rules.min_conversion_gap),
  });
  if (!grid.bottlenecks.length) {
    list.append(h("li", { class: "none" }, h("span", { class: "title" }, t("journey.no_bottleneck")), h("div", { class: "small muted" }, t("journey.no_bottleneck_note"))));
    return;
  }
  const cells = new Map(grid.cells.map((cell) => [`${cell.stage}|${cell.channel}`, cell]));
  const totals = new Map(grid.stage_totals.map((cell) => [cell.stage, cell]));
  for (const b of grid.bottlenecks.slice(0, 8)) {
    list.append(
      h(
        "li",
        null,
        h("div", { class: "title" }, `${stageLabel(b.stage)} × ${channelLabel(b.channel)}`, h("span", { class: "muted small" }, ` · ${t("journey.bottleneck_meta", { n: fmtCount(b.volume), score: fmtNum(b.score) })}`)),
        h("ul", { class: "small" }, b.rules.map((rule, i) => h("li", null, reasonText(rule, cells.get(`${b.stage}|${b.channel}`), totals.get(b.stage), rules) ?? b.reasons[i]))),
      ),
    );
  }
}

// ------------------------------------------------------------------ journey map (heat map)

const RAMP_GOOD = [240, 253, 250];
const RAMP_MID = [253, 230, 138];
const RAMP_BAD = [248, 113, 113];
const RAMP_VOLUME = [[240, 253, 250], [20, 184, 166]];

function mix(a, b, t) {
  return a.map((value, i) => Math.round(value + (b[i] - value) * t));
}

function rgb(c) {
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** Colour of a value: volume on a teal ramp; quality metrics from pale (good) through
 *  amber to red (bad), relative to the worst value shown. */
function colourFor(metric, value, extent) {
  if (value === null || value === undefined) return null;
  if (metric === "volume") return rgb(mix(RAMP_VOLUME[0], RAMP_VOLUME[1], extent.max ? value / extent.max : 0));
  let badness;
  if (METRICS[metric].worse === "high") badness = extent.max ? value / extent.max : 0;
  else badness = extent.max > extent.min ? (extent.max - value) / (extent.max - extent.min) : 0;
  badness = Math.max(0, Math.min(1, badness));
  return rgb(badness < 0.5 ? mix(RAMP_GOOD, RAMP_MID, badness * 2) : mix(RAMP_MID, RAMP_BAD, (badness - 0.5) * 2));
}

function renderMap(grid) {
  const box = $("map");
  clear(box);
  const metric = state.metric;
  const stages = grid.stages;
  const channels = grid.channels.length ? grid.channels : ["chat"];
  const cells = new Map(grid.cells.map((cell) => [`${cell.stage}|${cell.channel}`, cell]));
  const totals = new Map(grid.stage_totals.map((cell) => [cell.stage, cell]));
  const flagged = new Map(grid.bottlenecks.map((b) => [`${b.stage}|${b.channel}`, b]));
  const values = grid.cells.map((cell) => cell[metric]).filter((v) => v !== null && v !== undefined);
  const extent = { min: values.length ? Math.min(...values) : 0, max: values.length ? Math.max(...values) : 0 };
  const labelW = 130;
  const cellW = 150;
  const cellH = 58;
  const headH = 30;
  const rows = [...channels, "*"];
  const width = labelW + stages.length * cellW;
  const height = headH + rows.length * cellH + 6;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, width, role: "img", "aria-label": t("journey.map_aria", { metric: METRICS[metric].label }) });
  stages.forEach((stage, c) => {
    svg.append(s("text", { x: labelW + c * cellW + cellW / 2, y: 18, "text-anchor": "middle", class: "label", text: stageLabel(stage) }));
  });
  rows.forEach((channel, r) => {
    const y = headH + r * cellH;
    const group = s("g", { class: channel === "*" ? "total-row" : null });
    group.append(s("text", { x: 0, y: y + cellH / 2 + 4, class: "label", text: channelLabel(channel) }));
    stages.forEach((stage, c) => {
      const x = labelW + c * cellW;
      const cell = channel === "*" ? totals.get(stage) : cells.get(`${stage}|${channel}`);
      const flag = channel === "*" ? null : flagged.get(`${stage}|${channel}`);
      const present = cell && cell.volume > 0;
      const value = present ? cell[metric] : null;
      const fill = present ? colourFor(metric, value, extent) || "#f8fafc" : null;
      const rect = s("rect", {
        x: x + 3,
        y: y + 3,
        width: cellW - 6,
        height: cellH - 6,
        rx: 6,
        fill,
        class: `cell${present ? "" : " empty"}${flag ? " flagged" : ""}`,
      });
      group.append(rect);
      if (present) {
        group.append(
          s("text", { x: x + cellW / 2, y: y + 26, "text-anchor": "middle", class: "cell-value", text: METRICS[metric].format(value) }),
          s("text", {
            x: x + cellW / 2,
            y: y + 43,
            "text-anchor": "middle",
            class: "cell-note",
            text: metric === "volume" ? t("journey.cell_note", { wait: fmtDuration(cell.avg_wait_s), csat: fmtPct(cell.csat) }) : t("journey.n_contacts", { n: fmtCount(cell.volume) }),
          }),
        );
        if (flag) {
          group.append(
            s("circle", { cx: x + cellW - 14, cy: y + 14, r: 8, class: "flag" }),
            s("text", { x: x + cellW - 14, y: y + 18, "text-anchor": "middle", class: "flag-text", text: "!" }),
          );
        }
        tooltip(rect, cellTip(stage, channel, cell, flag));
      }
    });
    svg.append(group);
  });
  box.append(svg);
  const info = METRICS[metric];
  $("map-legend").textContent =
    metric === "volume"
      ? t("journey.legend_volume")
      : t("journey.legend_metric", { metric: info.label.toLowerCase() });
}

function cellTip(stage, channel, cell, flag) {
  const lines = [
    `${stageLabel(stage)} × ${channelLabel(channel)}`,
    t("journey.tip.contacts", { n: fmtCount(cell.volume), visitors: fmtCount(cell.visitors), queued: fmtCount(cell.queued) }),
    t("journey.tip.wait", { wait: fmtDuration(cell.avg_wait_s) }),
    t("journey.tip.abandonment", { pct: fmtPct(cell.abandonment_rate, 1), n: fmtCount(cell.abandoned) }),
    t("journey.tip.csat", { pct: fmtPct(cell.csat), n: fmtCount(cell.rated) }),
    t("journey.tip.conversion", { pct: fmtPct(cell.conversion_rate, 1), n: fmtCount(cell.converted) }),
  ];
  if (flag) lines.push("", t("journey.tip.bottleneck"), ...flag.reasons.map((reason) => `• ${reason}`));
  return lines.join("\n");
}

// ------------------------------------------------------------------ attribution

function shareBar(share) {
  const svg = s("svg", { width: 80, height: 10, class: "share", "aria-hidden": "true" });
  svg.append(s("rect", { x: 0, y: 1, width: 80, height: 8, rx: 3, class: "track" }));
  svg.append(s("rect", { x: 0, y: 1, width: Math.max(0, Math.min(1, share)) * 80, height: 8, rx: 3, class: "fill" }));
  return svg;
}

function renderAttribution(attribution) {
  const model = state.model;
  const key = { first: "first_touch", last: "last_touch", linear: "linear" }[model];
  $("attribution-summary").textContent =
    t(attribution.unattributed ? "journey.attribution_summary_none" : "journey.attribution_summary", {
      n: fmtCount(attribution.conversions),
      value: fmtMoney(attribution.value),
      days: fmtCount(attribution.lookback_s / 86400),
      none: fmtCount(attribution.unattributed),
    });
  const table = $("attribution");
  clear(table);
  const rows = [...attribution.rows].filter((row) => row[key] > 0).sort((a, b) => b[key] - a[key]);
  const total = attribution.conversions || 1;
  table.append(
    h("thead", null, h("tr", null, h("th", null, t("journey.col.channel")), h("th", null, t("journey.stage")), h("th", { class: "num" }, t("journey.kpi.conversions")), h("th", { class: "num" }, t("journey.col.value")), h("th", null, t("journey.col.share")))),
  );
  const body = h("tbody");
  for (const row of rows) {
    body.append(
      h(
        "tr",
        null,
        h("td", null, channelLabel(row.channel)),
        h("td", null, stageLabel(row.stage)),
        h("td", { class: "num" }, fmtNum(row[key])),
        h("td", { class: "num" }, fmtMoney(row[`${key}_value`])),
        h("td", null, shareBar(row[key] / total), ` ${fmtPct(row[key] / total)}`),
      ),
    );
  }
  if (!rows.length) body.append(h("tr", null, h("td", { colspan: "5", class: "muted" }, t("journey.no_conversions"))));
  table.append(body);

  const sources = $("sources");
  clear(sources);
  sources.append(h("thead", null, h("tr", null, h("th", null, t("journey.source")), h("th", { class: "num" }, t("journey.kpi.conversions")), h("th", { class: "num" }, t("journey.col.value")))));
  const sbody = h("tbody");
  for (const row of attribution.sources) {
    sbody.append(h("tr", null, h("td", null, row.source), h("td", { class: "num" }, fmtCount(row.conversions)), h("td", { class: "num" }, fmtMoney(row.value))));
  }
  if (!attribution.sources.length) sbody.append(h("tr", null, h("td", { colspan: "3", class: "muted" }, "–")));
  sources.append(sbody);
}

// ------------------------------------------------------------------ origins

function renderOrigins(origins) {
  const table = $("origins");
  clear(table);
  const channels = [...new Set(origins.rows.map((row) => row.channel))];
  const stages = [...new Set([...STAGES, ...origins.rows.map((row) => row.stage)])].filter(
    (stage) => STAGES.includes(stage) || origins.rows.some((row) => row.stage === stage),
  );
  const byKey = new Map(origins.rows.map((row) => [`${row.stage}|${row.channel}`, row]));
  table.append(h("thead", null, h("tr", null, h("th", null, t("journey.stage")), channels.map((c) => h("th", { class: "num" }, channelLabel(c))), h("th", { class: "num" }, t("journey.col.total")), h("th", null, t("journey.col.declared_rule_inferred")))));
  const body = h("tbody");
  for (const stage of stages) {
    const rows = channels.map((c) => byKey.get(`${stage}|${c}`));
    const sum = (field) => rows.reduce((acc, row) => acc + (row ? row[field] : 0), 0);
    body.append(
      h(
        "tr",
        null,
        h("td", null, stageLabel(stage)),
        rows.map((row) => h("td", { class: "num" }, row ? fmtCount(row.contacts) : "–")),
        h("td", { class: "num" }, fmtCount(sum("contacts"))),
        h("td", { class: "small muted" }, `${fmtCount(sum("declared"))} / ${fmtCount(sum("rule"))} / ${fmtCount(sum("inferred"))}`),
      ),
    );
  }
  table.append(body);
  table.append(h("tfoot", null, h("tr", null, h("td", null, t("journey.col.total")), channels.map((c) => h("td", { class: "num" }, fmtCount(origins.rows.filter((r) => r.channel === c).reduce((a, r) => a + r.contacts, 0)))), h("td", { class: "num" }, fmtCount(origins.total)), h("td"))));
}

// ------------------------------------------------------------------ tooltips

function tooltip(el, text) {
  el.addEventListener("mousemove", (event) => {
    const tip = $("tooltip");
    tip.textContent = text;
    tip.hidden = false;
    const x = Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
    const y = Math.min(event.clientY + 14, window.innerHeight - tip.offsetHeight - 8);
    tip.style.left = `${x}px`;
    tip.style.top = `${y}px`;
  });
  el.addEventListener("mouseleave", () => {
    $("tooltip").hidden = true;
  });
}

// ------------------------------------------------------------------ CSV

async function downloadCsv(kind) {
  const query = filterQuery();
  try {
    query.set("locale", t.locale);
    await downloadFile(`${CSV_PATHS[kind]}?${query}`, `journey-${kind}-${$("f-from").value}-${$("f-to").value}.csv`, state.token);
  } catch (error) {
    showError(t("journey.export_failed", { why: error.message }));
  }
}

// ------------------------------------------------------------------ admin: rules and sites

async function loadAdmin() {
  const isAdmin = state.user && state.user.role === "admin";
  $("admin-card").hidden = !isAdmin;
  if (!isAdmin) return;
  const select = $("rule-stage");
  if (!select.options.length) for (const stage of STAGES) select.append(h("option", { value: stage }, stageLabel(stage)));
  const [rules, sites] = await Promise.all([api("GET", "/api/admin/stage-rules"), api("GET", "/api/admin/sites")]);
  renderRules(rules.rules);
  renderSites(sites);
}

function renderRules(rules) {
  const list = $("rules");
  clear(list);
  if (!rules.length) list.append(h("li", { class: "muted small" }, t("journey.no_rules")));
  for (const rule of rules) {
    list.append(
      h(
        "li",
        null,
        h("code", { class: "grow" }, rule.pattern),
        h("span", { class: "pill" }, stageLabel(rule.stage)),
        rule.origin === "settings"
          ? h("span", { class: "pill off", title: t("journey.set_cc_stage_rules") }, t("journey.settings"))
          : h("button", { type: "button", class: "btn ghost small danger", onclick: () => removeRule(rule.id) }, t("journey.remove")),
      ),
    );
  }
}

async function addRule(event) {
  event.preventDefault();
  try {
    const result = await api("POST", "/api/admin/stage-rules", { pattern: $("rule-pattern").value.trim(), stage: $("rule-stage").value });
    $("rule-pattern").value = "";
    renderRules(result.rules);
  } catch (error) {
    showError(t("journey.rule_add_failed", { why: error.message }));
  }
}

async function removeRule(id) {
  try {
    await api("DELETE", `/api/admin/stage-rules/${id}`);
    renderRules((await api("GET", "/api/admin/stage-rules")).rules);
  } catch (error) {
    showError(t("journey.rule_remove_failed", { why: error.message }));
  }
}

async function testUrl(event) {
  event.preventDefault();
  try {
    const result = await api("GET", `/api/admin/stage-rules/match?${new URLSearchParams({ url: $("match-url").value.trim() })}`);
    $("match-result").textContent =
      result.stage_source === "rule" ? t("journey.match_rule", { stage: stageLabel(result.stage), pattern: result.pattern }) : t("journey.match_none", { stage: stageLabel(result.stage) });
  } catch (error) {
    $("match-result").textContent = error.message;
  }
}

function renderSites(sites) {
  const list = $("sites");
  clear(list);
  if (!sites.length) list.append(h("li", { class: "muted small" }, t("journey.no_sites")));
  for (const site of sites) {
    list.append(
      h(
        "li",
        null,
        h("span", { class: "grow" }, site.name, " ", h("code", null, `${site.key_prefix}…`)),
        site.disabled
          ? h("span", { class: "pill off" }, t("journey.disabled"))
          : h("button", { type: "button", class: "btn ghost small danger", onclick: () => disableSite(site) }, t("journey.disable")),
      ),
    );
  }
}

async function addSite(event) {
  event.preventDefault();
  try {
    const result = await api("POST", "/api/admin/sites", { name: $("site-name").value.trim() });
    $("site-name").value = "";
    $("site-key-value").textContent = result.key;
    $("site-key").hidden = false;
    renderSites(await api("GET", "/api/admin/sites"));
  } catch (error) {
    showError(t("journey.site_add_failed", { why: error.message }));
  }
}

async function disableSite(site) {
  if (!window.confirm(t("journey.confirm_disable", { name: site.name }))) return;
  try {
    await api("DELETE", `/api/admin/sites/${encodeURIComponent(site.id)}`);
    renderSites(await api("GET", "/api/admin/sites"));
  } catch (error) {
    showError(t("journey.site_disable_failed", { why: error.message }));
  }
}

// ------------------------------------------------------------------ start

function pressed(groupId, attr, value) {
  for (const button of $(groupId).querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset[attr] === value));
  }
}

async function start() {
  if (!state.token || !state.user || !["supervisor", "admin"].includes(state.user.role)) {
    signOut();
    return;
  }
  $("login-view").hidden = true;
  $("app").hidden = false;
  $("me-name").textContent = state.user.display_name || state.user.username;
  localePicker($("locale-slot"), t, api);
  readFiltersFromUrl();
  pressed("metric-group", "metric", state.metric);
  pressed("model-group", "model", state.model);
  try {
    await loadFilterChoices();
  } catch {
    /* the filters stay at "all" */
  }
  await load();
  loadAdmin().catch((error) => showError(t("journey.admin_failed", { why: error.message })));
}

function wire() {
  signIn($("login-form"), {
    ...SUPERVISOR_SIGN_IN,
    onSignedIn: ({ token, user }) => {
      Object.assign(state, { token, user });
      if (followUserLocale(user, t)) return; // reloads in the user's language
      start();
    },
  });
  localePicker($("login-locale"), t, null, "login-locale-select");
  $("logout").addEventListener("click", () => signOut());
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  $("f-range").addEventListener("change", () => {
    applyRange();
    loadFilterChoices().finally(load);
  });
  for (const id of ["f-from", "f-to"]) {
    $(id).addEventListener("change", () => {
      $("f-range").value = "custom";
    });
  }
  for (const id of ["f-source", "f-queue"]) $(id).addEventListener("change", load);
  $("metric-group").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-metric]");
    if (!button) return;
    state.metric = button.dataset.metric;
    pressed("metric-group", "metric", state.metric);
    syncUrl();
    if (state.data) renderMap(state.data.grid);
  });
  $("model-group").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-model]");
    if (!button) return;
    state.model = button.dataset.model;
    pressed("model-group", "model", state.model);
    syncUrl();
    if (state.data) renderAttribution(state.data.attribution);
  });
  for (const button of document.querySelectorAll("button[data-csv]")) {
    button.addEventListener("click", () => downloadCsv(button.dataset.csv));
  }
  $("rule-form").addEventListener("submit", addRule);
  $("match-form").addEventListener("submit", testUrl);
  $("site-form").addEventListener("submit", addSite);
}

wire();
start();
