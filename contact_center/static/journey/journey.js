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

const SESSION_KEY = SUPERVISOR_SIGN_IN.storageKey; // shared with the supervisor page
const SVG = "http://www.w3.org/2000/svg";
const STAGES = ["awareness", "consideration", "decision", "purchase", "retention"];
const STAGE_LABELS = {
  awareness: "Awareness",
  consideration: "Consideration",
  decision: "Decision",
  purchase: "Purchase",
  retention: "Retention",
  unknown: "Unknown",
};
const CHANNEL_LABELS = { web: "Web pages", chat: "Chat", voice: "Voice", video: "Video", offline: "Offline message", "*": "All channels" };
const METRICS = {
  volume: { label: "Volume", worse: "none", format: (v) => fmtCount(v) },
  avg_wait_s: { label: "Average wait", worse: "high", format: (v) => fmtDuration(v) },
  abandonment_rate: { label: "Abandonment", worse: "high", format: (v) => fmtPct(v) },
  csat: { label: "CSAT (4-5 of 5)", worse: "low", format: (v) => fmtPct(v) },
  conversion_rate: { label: "Conversion after contact", worse: "low", format: (v) => fmtPct(v) },
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
  return `${pct.toFixed(pct > 0 && pct < 10 && digits === 0 ? 1 : digits)}%`;
}

function fmtNum(v, digits = 1) {
  return v === null || v === undefined ? "–" : Number(v).toLocaleString(undefined, { maximumFractionDigits: digits });
}

function fmtMoney(v) {
  return v === null || v === undefined ? "–" : Number(v).toLocaleString(undefined, { maximumFractionDigits: 0 });
}

function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 36 * 3600) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

function stageLabel(stage) {
  return STAGE_LABELS[stage] || stage;
}

function channelLabel(channel) {
  return CHANNEL_LABELS[channel] || channel;
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
  onExpired: () => signOut("Your session ended. Sign in again."),
});

// ------------------------------------------------------------------ sign in

function signOut(message) {
  state.token = "";
  state.user = null;
  clearSession(SESSION_KEY);
  showLogin(message || "For supervisors and administrators.");
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
    "All sources",
  );
  fillSelect($("f-queue"), queues.map((q) => [q.id, q.name || q.id]), state.pendingQueue ?? $("f-queue").value, "All queues");
  state.pendingSource = null;
  state.pendingQueue = null;
}

// ------------------------------------------------------------------ loading

async function load() {
  if (!$("f-from").value || !$("f-to").value) return;
  const ticket = ++state.loading;
  syncUrl();
  setStatus("Loading…");
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
    setStatus(`Updated ${new Date().toLocaleTimeString()}`);
  } catch (error) {
    if (ticket !== state.loading || error.status === 401) return;
    showError(`Could not load the journey: ${error.message}`);
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
    kpi("Visitors on the journey", fmtCount(first.reached), "with a touchpoint in a known stage"),
    kpi("Reached purchase", fmtPct(purchase.reached / (first.reached || 1), 1), `${fmtCount(purchase.reached)} visitors`),
    kpi("Conversions", fmtCount(attribution.conversions), `worth ${fmtMoney(attribution.value)}`),
    kpi("Contacts", fmtCount(contacts), `chats, calls and offline messages from ${fmtCount(contactedVisitors(grid))} visitors`),
    worst
      ? kpi("Worst bottleneck", `${stageLabel(worst.stage)} × ${channelLabel(worst.channel)}`, worst.reasons[0], "alert")
      : kpi("Bottlenecks", "None", "no cell breaks a rule"),
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
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, width, role: "img", "aria-label": "Stage funnel" });
  steps.forEach((step, i) => {
    const y = i * (rowH + gapH);
    const w = Math.max(2, (step.reached / max) * barMax);
    const inStage = Math.max(0, (step.visitors / max) * barMax);
    svg.append(
      s("text", { x: 0, y: y + 19, class: "label", text: stageLabel(step.stage) }),
      s("rect", { x: labelW, y, width: w, height: rowH, rx: 4, class: "bar-soft" }),
      s("rect", { x: labelW, y, width: Math.min(inStage, w), height: rowH, rx: 4, class: "bar" }),
      s("text", { x: labelW + w + 8, y: y + 13, class: "label", text: `${fmtCount(step.reached)} reached` }),
      s("text", {
        x: labelW + w + 8,
        y: y + 27,
        class: "muted-text",
        text: `${fmtCount(step.visitors)} in stage · contact rate ${fmtPct(step.contact_rate, 1)}`,
      }),
    );
    if (i < steps.length - 1) {
      const mid = y + rowH + gapH / 2 + 4;
      const parts = [
        `↓ ${fmtPct(step.step_conversion, 1)} went on`,
        `${fmtCount(step.dropped)} dropped off`,
        step.median_time_to_next_s !== null ? `median ${fmtDuration(step.median_time_to_next_s)} to ${stageLabel(steps[i + 1].stage).toLowerCase()}` : null,
      ].filter(Boolean);
      svg.append(s("text", { x: labelW + 6, y: mid, class: "muted-text", text: parts.join(" · ") }));
      const tip = [
        `${stageLabel(step.stage)} → ${stageLabel(steps[i + 1].stage)}`,
        `Step conversion ${fmtPct(step.step_conversion, 1)} (drop-off ${fmtPct(step.drop_off, 1)})`,
        `Time to convert: median ${fmtDuration(step.median_time_to_next_s)}, mean ${fmtDuration(step.avg_time_to_next_s)} (${fmtCount(step.timed)} visitors timed)`,
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
        `Reached (this stage or later): ${fmtCount(step.reached)}`,
        `With a touchpoint in this stage: ${fmtCount(step.visitors)}`,
        `Reached for help here: ${fmtCount(step.contacted)} (${fmtPct(step.contact_rate, 1)})`,
      ].join("\n"),
    );
    svg.append(hitBar);
  });
  box.append(svg);
}

// ------------------------------------------------------------------ bottlenecks

function renderBottlenecks(grid) {
  const list = $("bottlenecks");
  clear(list);
  const rules = grid.rules;
  $("bottleneck-rules").textContent = `≥ ${rules.min_volume} contacts; abandonment > ${fmtPct(rules.max_abandonment)}, wait > ${fmtDuration(rules.max_avg_wait_s)}, CSAT < ${fmtPct(rules.min_csat)}, conversion < ${fmtPct(1 - rules.conversion_margin)} of the stage's (and ${fmtPct(rules.min_conversion_gap)} below it)`;
  if (!grid.bottlenecks.length) {
    list.append(h("li", { class: "none" }, h("span", { class: "title" }, "No bottleneck"), h("div", { class: "small muted" }, "No cell with enough contacts breaks a rule in this period.")));
    return;
  }
  for (const b of grid.bottlenecks.slice(0, 8)) {
    list.append(
      h(
        "li",
        null,
        h("div", { class: "title" }, `${stageLabel(b.stage)} × ${channelLabel(b.channel)}`, h("span", { class: "muted small" }, ` · ${fmtCount(b.volume)} contacts · score ${fmtNum(b.score)}`)),
        h("ul", { class: "small" }, b.reasons.map((reason) => h("li", null, reason))),
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
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, width, role: "img", "aria-label": `Journey map coloured by ${METRICS[metric].label}` });
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
            text: metric === "volume" ? `wait ${fmtDuration(cell.avg_wait_s)} · CSAT ${fmtPct(cell.csat)}` : `${fmtCount(cell.volume)} contacts`,
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
      ? "Darker = more contacts. A red outline marks a bottleneck; hover a cell for every figure."
      : `Coloured by ${info.label.toLowerCase()}: pale is the best cell shown, red the worst. A red outline marks a bottleneck.`;
}

function cellTip(stage, channel, cell, flag) {
  const lines = [
    `${stageLabel(stage)} × ${channelLabel(channel)}`,
    `Contacts: ${fmtCount(cell.volume)} (${fmtCount(cell.visitors)} visitors, ${fmtCount(cell.queued)} queued)`,
    `Average wait: ${fmtDuration(cell.avg_wait_s)}`,
    `Abandonment: ${fmtPct(cell.abandonment_rate, 1)} (${fmtCount(cell.abandoned)} left the queue)`,
    `CSAT: ${fmtPct(cell.csat)} of ${fmtCount(cell.rated)} ratings`,
    `Conversion after contact: ${fmtPct(cell.conversion_rate, 1)} (${fmtCount(cell.converted)})`,
  ];
  if (flag) lines.push("", "Bottleneck:", ...flag.reasons.map((reason) => `• ${reason}`));
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
    `${fmtCount(attribution.conversions)} conversions worth ${fmtMoney(attribution.value)} in the period; ` +
    `touchpoints up to ${fmtCount(attribution.lookback_s / 86400)} days before each get credit` +
    (attribution.unattributed ? ` (${fmtCount(attribution.unattributed)} had none).` : ".");
  const table = $("attribution");
  clear(table);
  const rows = [...attribution.rows].filter((row) => row[key] > 0).sort((a, b) => b[key] - a[key]);
  const total = attribution.conversions || 1;
  table.append(
    h("thead", null, h("tr", null, h("th", null, "Channel"), h("th", null, "Stage"), h("th", { class: "num" }, "Conversions"), h("th", { class: "num" }, "Value"), h("th", null, "Share"))),
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
  if (!rows.length) body.append(h("tr", null, h("td", { colspan: "5", class: "muted" }, "No conversions in this period.")));
  table.append(body);

  const sources = $("sources");
  clear(sources);
  sources.append(h("thead", null, h("tr", null, h("th", null, "Source"), h("th", { class: "num" }, "Conversions"), h("th", { class: "num" }, "Value"))));
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
  table.append(h("thead", null, h("tr", null, h("th", null, "Stage"), channels.map((c) => h("th", { class: "num" }, channelLabel(c))), h("th", { class: "num" }, "Total"), h("th", null, "Declared / rule / inferred"))));
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
  table.append(h("tfoot", null, h("tr", null, h("td", null, "Total"), channels.map((c) => h("td", { class: "num" }, fmtCount(origins.rows.filter((r) => r.channel === c).reduce((a, r) => a + r.contacts, 0)))), h("td", { class: "num" }, fmtCount(origins.total)), h("td"))));
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
    await downloadFile(`${CSV_PATHS[kind]}?${query}`, `journey-${kind}-${$("f-from").value}-${$("f-to").value}.csv`, state.token);
  } catch (error) {
    showError(`Could not export: ${error.message}`);
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
  if (!rules.length) list.append(h("li", { class: "muted small" }, "No rules: pages without data-stage take the visitor's latest stage."));
  for (const rule of rules) {
    list.append(
      h(
        "li",
        null,
        h("code", { class: "grow" }, rule.pattern),
        h("span", { class: "pill" }, stageLabel(rule.stage)),
        rule.origin === "settings"
          ? h("span", { class: "pill off", title: "Set in CC_STAGE_RULES" }, "settings")
          : h("button", { type: "button", class: "btn ghost small danger", onclick: () => removeRule(rule.id) }, "Remove"),
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
    showError(`Could not add the rule: ${error.message}`);
  }
}

async function removeRule(id) {
  try {
    await api("DELETE", `/api/admin/stage-rules/${id}`);
    renderRules((await api("GET", "/api/admin/stage-rules")).rules);
  } catch (error) {
    showError(`Could not remove the rule: ${error.message}`);
  }
}

async function testUrl(event) {
  event.preventDefault();
  try {
    const result = await api("GET", `/api/admin/stage-rules/match?${new URLSearchParams({ url: $("match-url").value.trim() })}`);
    $("match-result").textContent =
      result.stage_source === "rule" ? `${stageLabel(result.stage)} (rule ${result.pattern})` : `${stageLabel(result.stage)} (no rule matches)`;
  } catch (error) {
    $("match-result").textContent = error.message;
  }
}

function renderSites(sites) {
  const list = $("sites");
  clear(list);
  if (!sites.length) list.append(h("li", { class: "muted small" }, "No site reports conversions yet."));
  for (const site of sites) {
    list.append(
      h(
        "li",
        null,
        h("span", { class: "grow" }, site.name, " ", h("code", null, `${site.key_prefix}…`)),
        site.disabled
          ? h("span", { class: "pill off" }, "disabled")
          : h("button", { type: "button", class: "btn ghost small danger", onclick: () => disableSite(site) }, "Disable"),
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
    showError(`Could not add the site: ${error.message}`);
  }
}

async function disableSite(site) {
  if (!window.confirm(`Disable ${site.name}? Its key stops working at once.`)) return;
  try {
    await api("DELETE", `/api/admin/sites/${encodeURIComponent(site.id)}`);
    renderSites(await api("GET", "/api/admin/sites"));
  } catch (error) {
    showError(`Could not disable the site: ${error.message}`);
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
  readFiltersFromUrl();
  pressed("metric-group", "metric", state.metric);
  pressed("model-group", "model", state.model);
  try {
    await loadFilterChoices();
  } catch {
    /* the filters stay at "all" */
  }
  await load();
  loadAdmin().catch((error) => showError(`Could not load the admin settings: ${error.message}`));
}

function wire() {
  signIn($("login-form"), {
    ...SUPERVISOR_SIGN_IN,
    onSignedIn: ({ token, user }) => {
      Object.assign(state, { token, user });
      start();
    },
  });
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
