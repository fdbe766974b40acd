/**
 * The supervisor page: the live dashboard, reports, and the supervisor actions.
 *
 * Signs in over REST (POST /api/auth/login; the token stays in sessionStorage), then
 * opens /ws/supervisor: the server sends `dashboard.legend` once (each figure's formula
 * and unit, shown on hover) and a `dashboard.snapshot` at least every second.  Wait
 * clocks and times in state keep ticking between pushes from the snapshot's own time.
 * The agent table's KPIs arrive with every push on small floors and every few pushes on
 * big ones (`agent_table`); the last one received is kept.
 *
 * Actions: set an agent's status and reassign a waiting contact (REST), watch a live
 * chat read-only (`contact.watch` on the same socket).  Reports: GET /api/reports,
 * drawn with charts.js, and its CSV.
 *
 * Every piece of text that comes from the server or a user goes in with textContent;
 * the page builds its DOM with createElement only.
 */

import { $, SUPERVISOR_SIGN_IN, clearSession, createApi, downloadFile, fmtClock, fmtCount, h, loadSession, showLogin, signIn } from "/static/common/staff.js";
import { barChart, lineChart, stackedBar } from "/static/supervisor/charts.js";

const SESSION_KEY = SUPERVISOR_SIGN_IN.storageKey; // shared with the journey page
const STATES = ["available", "busy", "wrap_up", "away", "offline"];
const STATE_LABELS = { available: "Available", busy: "Busy", wrap_up: "Wrap-up", away: "Away", offline: "Offline" };
const STAGE_LABELS = {
  awareness: "Awareness",
  consideration: "Consideration",
  decision: "Decision",
  purchase: "Purchase",
  retention: "Retention",
  unknown: "Unknown",
};

// ------------------------------------------------------------------ formatting

function fmtSeconds(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  if (v < 1) return `${Math.round(v * 1000)} ms`;
  if (v < 10) return `${v.toFixed(1)} s`;
  if (v < 60) return `${Math.round(v)} s`;
  return fmtClock(v);
}

function fmtPct(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  const pct = Math.round(v * 1000) / 10;
  return `${Number.isInteger(pct) ? pct.toFixed(0) : pct.toFixed(1)} %`;
}

function fmtMos(v) {
  return v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(2);
}

function fmtRaw(v) {
  if (v === null || v === undefined) return "–";
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

// ------------------------------------------------------------------ state

const state = {
  ...loadSession(SESSION_KEY), // token, user
  ws: null,
  attempt: 0,
  reconnectTimer: null,
  pingTimer: null,
  tickTimer: null,
  loggingOut: false,
  legend: {},
  rules: {},
  pushS: 1,
  staffingFormula: "",
  snapshot: null,
  byAgent: {},
  receivedAt: 0, // performance.now() when the snapshot arrived
  cut: "by_queue",
  agents: new Map(), // id -> user
  queues: new Map(), // id -> queue
  directoryAt: 0,
  watchAgent: null,
  watching: null,
  transcriptSeqs: new Set(),
  reassigning: null,
  tab: "live",
  report: null,
};

function formulaOf(name) {
  const entry = state.legend[name];
  return entry ? entry.formula : "";
}

function unitOf(name) {
  const entry = state.legend[name];
  return entry ? entry.unit : "count";
}

function fmtKpi(name, kpi) {
  const v = kpi ? kpi.value : null;
  const unit = unitOf(name);
  if (unit === "s") return fmtSeconds(v);
  if (unit === "ratio") return fmtPct(v);
  if (unit === "mos") return fmtMos(v);
  return fmtCount(v);
}

/** The hover text: the formula, then the figures it was computed from. */
function kpiTitle(name, kpi) {
  const lines = [formulaOf(name) || name];
  if (kpi && kpi.numerator !== null && kpi.numerator !== undefined && kpi.denominator !== null && kpi.denominator !== undefined) {
    lines.push(`= ${fmtRaw(kpi.numerator)} / ${fmtRaw(kpi.denominator)}`);
  } else if (kpi && kpi.denominator !== null && kpi.denominator !== undefined) {
    lines.push(`(${kpi.denominator} samples)`);
  }
  return lines.join("\n");
}

function agentName(id) {
  const user = state.agents.get(id);
  return user ? user.display_name || user.username : `agent ${String(id).slice(0, 6)}`;
}

function queueName(id) {
  const queue = state.queues.get(id);
  return queue ? queue.name || queue.id : id;
}

function elapsed() {
  return state.receivedAt ? (performance.now() - state.receivedAt) / 1000 : 0;
}

// ------------------------------------------------------------------ REST

const api = createApi({
  token: () => state.token,
  onExpired: () => signOut("Your session has expired. Please sign in again."),
});

async function loadDirectory(force = false) {
  const now = performance.now();
  if (!force && now - state.directoryAt < 5000) return;
  state.directoryAt = now;
  try {
    const [agents, queues] = await Promise.all([api("GET", "/api/admin/agents"), api("GET", "/api/admin/queues")]);
    state.agents = new Map(agents.map((a) => [a.id, a]));
    state.queues = new Map(queues.map((q) => [q.id, q]));
    if (state.snapshot) render();
  } catch (_e) {
    /* names fall back to ids */
  }
}

// ------------------------------------------------------------------ sign in / out

signIn($("login-form"), {
  ...SUPERVISOR_SIGN_IN,
  onSignedIn: ({ token, user }) => {
    Object.assign(state, { token, user });
    start();
  },
});

function signOut(message) {
  state.loggingOut = true;
  if (state.ws) {
    try {
      state.ws.close(1000, "logout");
    } catch (_e) {
      /* already closed */
    }
  }
  state.ws = null;
  clearTimeout(state.reconnectTimer);
  clearInterval(state.pingTimer);
  clearInterval(state.tickTimer);
  clearSession(SESSION_KEY);
  state.token = "";
  state.user = null;
  state.snapshot = null;
  showLogin(message || "You have signed out.");
}

$("logout").addEventListener("click", () => signOut());

function start() {
  $("login-view").hidden = true;
  $("app").hidden = false;
  state.loggingOut = false;
  $("me-name").textContent = state.user ? state.user.display_name || state.user.username : "";
  $("me-role").textContent = state.user ? state.user.role : "";
  buildTiles();
  loadDirectory(true);
  connect();
  clearInterval(state.tickTimer);
  state.tickTimer = setInterval(tick, 250);
  initReports();
}

// ------------------------------------------------------------------ socket

function connect() {
  if (!state.token || state.loggingOut) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws/supervisor`);
  state.ws = ws;
  setLive("connecting");
  ws.addEventListener("open", () => {
    ws.send(JSON.stringify({ type: "hello", token: state.token }));
  });
  ws.addEventListener("message", (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch (_e) {
      return;
    }
    onEvent(event);
  });
  ws.addEventListener("close", (close) => {
    if (state.ws !== ws) return;
    state.ws = null;
    clearInterval(state.pingTimer);
    if (state.loggingOut) return;
    if (close.code === 4401) {
      signOut("Your session has expired. Please sign in again.");
      return;
    }
    if (close.code === 4403) {
      signOut(SUPERVISOR_SIGN_IN.deniedMessage);
      return;
    }
    setLive("down");
    state.attempt += 1;
    const delay = Math.min(10000, 500 * 2 ** Math.min(state.attempt, 5)) * (0.7 + Math.random() * 0.6);
    state.reconnectTimer = setTimeout(connect, delay);
  });
}

function send(frame) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(frame));
}

let frameIds = 0;
function newId(prefix) {
  frameIds += 1;
  return `${prefix}-${Date.now().toString(36)}-${frameIds}`;
}

function onEvent(event) {
  switch (event.type) {
    case "welcome":
      state.attempt = 0;
      clearInterval(state.pingTimer);
      state.pingTimer = setInterval(() => send({ type: "ping" }), 25000);
      if (state.watching) send({ type: "contact.watch", id: newId("watch"), contact_id: state.watching });
      break;
    case "dashboard.legend":
      state.legend = event.legend || {};
      state.rules = event.alert_rules || {};
      state.pushS = event.push_s || 1;
      state.staffingFormula = event.staffing_formula || "";
      buildTiles();
      break;
    case "dashboard.snapshot":
      onSnapshot(event);
      break;
    case "chat.message":
    case "contact.joined":
    case "contact.transferred":
    case "contact.ended":
    case "contact.rated":
      onConversationEvent(event);
      break;
    case "error":
      if (event.ref && String(event.ref).startsWith("watch")) {
        $("watch-sub").textContent = `Could not watch this chat: ${event.message}`;
      }
      break;
    default:
      break;
  }
}

function onSnapshot(event) {
  const snapshot = event.snapshot;
  state.snapshot = snapshot;
  state.receivedAt = performance.now();
  if (event.agent_table) state.byAgent = snapshot.by_agent;
  const unknown = Object.keys(snapshot.agents).some((id) => !state.agents.has(id)) || Object.keys(snapshot.by_queue).some((id) => !state.queues.has(id));
  if (unknown) loadDirectory();
  setLive("live");
  render();
}

// ------------------------------------------------------------------ live indicator and ticking

function setLive(mode) {
  const pill = $("live-pill");
  pill.classList.remove("live", "stale", "down");
  if (mode === "live") pill.classList.add("live");
  if (mode === "down") pill.classList.add("down");
  if (mode === "connecting") $("live-text").textContent = "Connecting…";
  if (mode === "down") $("live-text").textContent = "Reconnecting…";
}

function tick() {
  if (!state.snapshot) return;
  const dt = elapsed();
  const pill = $("live-pill");
  if (state.ws) {
    const stale = dt > Math.max(3, 3 * state.pushS);
    pill.classList.toggle("stale", stale);
    pill.classList.toggle("live", !stale);
    $("live-text").textContent = stale ? `No update for ${Math.round(dt)} s` : `Live · updated ${dt.toFixed(1)} s ago`;
  }
  for (const node of document.querySelectorAll("[data-clock]")) {
    const base = Number(node.dataset.clock);
    node.textContent = fmtClock(base + dt);
  }
}

// ------------------------------------------------------------------ tiles

const TILES = [
  { key: "contacts_waiting", label: "Contacts waiting" },
  { key: "longest_wait_s", label: "Longest wait", clock: true },
  { key: "asa_s", label: "ASA" },
  { key: "service_level", label: "Service level" },
  { key: "abandonment_rate", label: "Abandonment" },
  { key: "answered", label: "Answered" },
  { key: "aht_s", label: "AHT" },
  { key: "first_response_median_s", label: "Chat first response" },
  { key: "csat", label: "CSAT" },
  { key: "occupancy", label: "Occupancy" },
  { key: "answer_rate", label: "Offers" },
  { key: "agents", label: "Agents" },
];

function buildTiles() {
  const box = $("tiles");
  box.replaceChildren(
    ...TILES.map((tile) =>
      h(
        "div",
        { class: "tile", id: `tile-${tile.key}` },
        h("span", { class: "label", text: tile.label }),
        h("span", { class: "value", text: "–" }),
        tile.key === "agents" ? h("div", { class: "states" }) : null,
        h("span", { class: "sub" }),
      ),
    ),
  );
}

function setTile(key, value, sub, title, level) {
  const tile = $(`tile-${key}`);
  if (!tile) return;
  const valueNode = tile.querySelector(".value");
  valueNode.textContent = value;
  delete valueNode.dataset.clock;
  tile.querySelector(".sub").textContent = sub || "";
  tile.title = title || "";
  tile.classList.remove("good", "warn", "bad");
  if (level) tile.classList.add(level);
  return valueNode;
}

function renderTiles(s) {
  const t = s.totals;
  const rules = state.rules;
  const k = (name) => t[name] || { value: null, numerator: null, denominator: null };
  const queuesWaiting = Object.keys(s.waiting).length;
  setTile("contacts_waiting", fmtKpi("contacts_waiting", k("contacts_waiting")), queuesWaiting === 1 ? "in 1 queue" : `in ${queuesWaiting} queues`, kpiTitle("contacts_waiting", k("contacts_waiting")));
  const longest = k("longest_wait_s").value;
  let level = null;
  if (longest !== null) level = longest > (rules.longest_wait_critical_s || 180) ? "bad" : longest > (rules.longest_wait_warning_s || 60) ? "warn" : "good";
  const longestNode = setTile("longest_wait_s", fmtClock(longest), "oldest contact still waiting", kpiTitle("longest_wait_s", k("longest_wait_s")), level);
  if (longest !== null && longestNode) longestNode.dataset.clock = String(longest);
  else if (longestNode) longestNode.textContent = "–";
  setTile("asa_s", fmtKpi("asa_s", k("asa_s")), `${fmtCount(k("answered").value)} answered`, kpiTitle("asa_s", k("asa_s")));
  const sl = k("service_level");
  level = sl.value === null ? null : sl.value < (rules.service_level_critical || 0.6) ? "bad" : sl.value < (rules.service_level_target || 0.8) ? "warn" : "good";
  setTile("service_level", fmtPct(sl.value), sl.denominator ? `${fmtCount(sl.numerator)} of ${fmtCount(sl.denominator)} within T · target ${fmtPct(rules.service_level_target || 0.8)}` : "no contact answered yet", kpiTitle("service_level", sl), level);
  const abandoned = k("abandoned").value || 0;
  const short = k("short_abandons").value || 0;
  setTile(
    "abandonment_rate",
    fmtPct(k("abandonment_rate").value),
    `${fmtCount(abandoned - short)} abandoned · ${fmtCount(short)} short (≤ ${rules.short_abandon_s || 5} s) apart`,
    `${kpiTitle("abandonment_rate", k("abandonment_rate"))}\nshort abandons: ${formulaOf("short_abandons")}`,
  );
  setTile("answered", fmtCount(k("answered").value), `${fmtCount(k("handled").value)} handled · ${fmtCount(k("queued").value)} queued`, kpiTitle("answered", k("answered")));
  setTile("aht_s", fmtKpi("aht_s", k("aht_s")), `talk ${fmtSeconds(k("avg_talk_s").value)} · hold ${fmtSeconds(k("avg_hold_s").value)} · wrap ${fmtSeconds(k("avg_wrap_up_s").value)}`, kpiTitle("aht_s", k("aht_s")));
  setTile(
    "first_response_median_s",
    fmtSeconds(k("first_response_median_s").value),
    `median · p90 ${fmtSeconds(k("first_response_p90_s").value)}`,
    `${kpiTitle("first_response_median_s", k("first_response_median_s"))}\n${formulaOf("first_response_p90_s")}`,
  );
  setTile("csat", fmtPct(k("csat").value), k("csat").denominator ? `${fmtCount(k("csat").numerator)} of ${fmtCount(k("csat").denominator)} ratings 4-5` : "no rating yet", kpiTitle("csat", k("csat")));
  setTile("occupancy", fmtPct(k("occupancy").value), `chat slots ${fmtPct(k("slot_occupancy").value)}`, `${kpiTitle("occupancy", k("occupancy"))}\nslots: ${formulaOf("slot_occupancy")}`);
  setTile(
    "answer_rate",
    fmtPct(k("answer_rate").value),
    `${fmtCount(k("offers_accepted").value)} accepted · ${fmtCount(k("offers_declined").value)} declined · ${fmtCount(k("offers_expired").value)} expired`,
    `${kpiTitle("answer_rate", k("answer_rate"))}\naverage acceptance: ${fmtSeconds(k("avg_acceptance_s").value)}`,
  );
  const byState = s.agents_by_state || {};
  const signedIn = STATES.filter((st) => st !== "offline").reduce((sum, st) => sum + (byState[st] || 0), 0);
  setTile("agents", fmtCount(signedIn), STATES.map((st) => `${STATE_LABELS[st]} ${byState[st] || 0}`).join(" · "), "agents by state (available, busy, wrap-up, away, offline)");
  stackedBar(
    $("tile-agents").querySelector(".states"),
    STATES.map((st) => ({ value: byState[st] || 0, label: STATE_LABELS[st], className: `st-${st}` })),
  );
}

// ------------------------------------------------------------------ alerts

function alertText(alert) {
  const [kind, id] = alert.subject.split(/:(.*)/s);
  if (alert.code === "missed_offers" && kind === "agent") return `${agentName(id)} let ${alert.value} offers in a row expire`;
  if (alert.code === "longest_wait" && kind === "queue") return `${queueName(id)}: a contact has waited ${fmtClock(alert.value)} (over ${fmtClock(alert.threshold)})`;
  if (alert.code === "service_level" && kind === "queue") return `${queueName(id)}: service level ${fmtPct(alert.value)} is under the ${fmtPct(alert.threshold)} target`;
  return alert.message;
}

function renderAlerts(s) {
  $("alerts").replaceChildren(
    ...s.alerts.map((alert) =>
      h("div", { class: `banner ${alert.severity}`, role: "alert", "data-code": alert.code }, h("span", { class: "badge", text: alert.severity }), h("span", { text: alertText(alert) })),
    ),
  );
}

// ------------------------------------------------------------------ queues and staffing

function chip(kind, text) {
  return h("span", { class: `chip ${kind}`, text });
}

function renderQueues(s) {
  const ids = [...new Set([...Object.keys(s.by_queue), ...Object.keys(s.waiting), ...state.queues.keys()])].sort((a, b) => queueName(a).localeCompare(queueName(b)));
  const box = $("queues");
  if (!ids.length) {
    box.replaceChildren(h("p", { class: "empty", text: "No queue yet." }));
    return;
  }
  const longWarn = state.rules.longest_wait_warning_s || 60;
  box.replaceChildren(
    ...ids.map((id) => {
      const row = s.by_queue[id] || {};
      const waiting = s.waiting[id] || { count: 0, shown: 0, contacts: [] };
      const fig = (label, name) => h("span", { title: kpiTitle(name, row[name]) }, `${label} `, h("b", { text: fmtKpi(name, row[name]) }));
      const longest = row.longest_wait_s ? row.longest_wait_s.value : null;
      const longestNode = h("b", { text: fmtClock(longest) });
      if (longest !== null) longestNode.dataset.clock = String(longest);
      return h(
        "div",
        { class: "queue", "data-queue": id },
        h(
          "div",
          { class: "queue-head" },
          h("strong", { text: queueName(id) }),
          h(
            "div",
            { class: "queue-figures" },
            h("span", { title: kpiTitle("contacts_waiting", row.contacts_waiting) }, "waiting ", h("b", { class: "q-waiting", text: fmtCount(waiting.count) })),
            h("span", { title: kpiTitle("longest_wait_s", row.longest_wait_s) }, "longest ", longestNode),
            fig("SL", "service_level"),
            fig("ASA", "asa_s"),
            fig("answered", "answered"),
            fig("abandoned", "abandoned"),
          ),
        ),
        waiting.contacts.length
          ? h(
              "ol",
              { class: "waiting", "aria-label": `Waiting in ${queueName(id)}` },
              waiting.contacts.map((c) => {
                const clock = h("span", { class: `wait${c.wait_s > longWarn ? " long" : ""}`, title: "now - enqueued_at", "data-clock": String(c.wait_s), text: fmtClock(c.wait_s) });
                return h(
                  "li",
                  { "data-contact": c.contact_id },
                  clock,
                  h("span", { class: "who", text: `#${c.contact_id.slice(0, 8)}` }),
                  chip("stage", STAGE_LABELS[c.stage] || c.stage),
                  chip("channel", c.channel),
                  h("button", { type: "button", class: "btn ghost small", text: "Reassign", onclick: () => openReassign(id, c) }),
                );
              }),
            )
          : null,
        waiting.count > waiting.shown ? h("p", { class: "muted small", text: `showing the ${waiting.shown} longest of ${waiting.count} waiting` }) : null,
      );
    }),
  );
}

function renderStaffing(s) {
  const table = $("staffing");
  const ids = Object.keys(s.staffing).sort((a, b) => queueName(a).localeCompare(queueName(b)));
  $("staffing-formula").title = state.staffingFormula;
  const head = h(
    "thead",
    {},
    h(
      "tr",
      {},
      h("th", { text: "Queue" }),
      h("th", { text: "Arrivals", title: "contacts queued in the window (30 min, or since start-up)" }),
      h("th", { text: "AHT", title: formulaOf("aht_s") }),
      h("th", { text: "Load", title: "A = arrival rate × AHT (Erlangs)" }),
      h("th", { text: "Needed", title: state.staffingFormula }),
      h("th", { text: "Staffed", title: "agents available, busy or in wrap-up serving the queue" }),
      h("th", { text: "Available" }),
      h("th", { text: "SL forecast", title: "1 - P(wait) × exp(-(N - A) × T / AHT) with N = agents staffed" }),
    ),
  );
  const body = h(
    "tbody",
    {},
    ids.map((id) => {
      const r = s.staffing[id];
      const short = r.agents_needed > r.agents_staffed;
      return h(
        "tr",
        { "data-queue": id },
        h("td", { text: queueName(id) }),
        h("td", { text: fmtCount(r.arrivals) }),
        h("td", { text: fmtSeconds(r.aht_s), title: r.aht_source === "default" ? "no contact handled yet: default AHT" : "observed today" }),
        h("td", { text: r.load_erlangs.toFixed(2) }),
        h("td", { class: short ? "bad" : "", text: fmtCount(r.agents_needed), title: `${r.formula}\nT = ${r.sl_target_s} s, target ${fmtPct(r.target_level)}` }),
        h("td", { text: fmtCount(r.agents_staffed) }),
        h("td", { text: fmtCount(r.agents_available) }),
        h("td", { text: fmtPct(r.predicted_service_level) }),
      );
    }),
  );
  table.replaceChildren(head, body);
  if (!ids.length) table.replaceChildren(h("caption", { class: "empty", text: "Staffing appears once contacts arrive." }));
}

// ------------------------------------------------------------------ agents

const AGENT_COLUMNS = [
  ["handled", "Handled"],
  ["aht_s", "AHT"],
  ["first_response_median_s", "FR median"],
  ["first_response_p90_s", "FR p90"],
  ["offers", "Offers a/d/e"],
  ["answer_rate", "Answer rate"],
  ["csat", "CSAT"],
  ["occupancy", "Occupancy"],
];

function renderAgents(s) {
  const ids = [...new Set([...Object.keys(s.agents), ...Object.keys(state.byAgent)])];
  const order = (id) => STATES.indexOf((s.agents[id] || {}).state || "offline");
  ids.sort((a, b) => order(a) - order(b) || agentName(a).localeCompare(agentName(b)));
  const missedLimit = state.rules.missed_offers_in_a_row || 3;
  const head = h(
    "thead",
    {},
    h(
      "tr",
      {},
      h("th", { text: "Agent" }),
      h("th", { class: "left", text: "State" }),
      h("th", { text: "In state", title: "now - time of the last state change" }),
      h("th", { text: "Active", title: "contacts held now / chat slots" }),
      AGENT_COLUMNS.map(([key, label]) => h("th", { text: label, title: key === "offers" ? "offers accepted / declined / expired" : formulaOf(key) })),
      h("th", { class: "left", text: "Actions" }),
    ),
  );
  const body = h(
    "tbody",
    {},
    ids.map((id) => {
      const live = s.agents[id] || { state: null, time_in_state_s: null, active: 0, slots: 0, missed_offers_in_a_row: 0 };
      const kpis = state.byAgent[id] || {};
      const stateName = live.state || "offline";
      const inState = h("td", { class: "num", text: fmtClock(live.time_in_state_s) });
      if (live.time_in_state_s !== null && live.time_in_state_s !== undefined) inState.dataset.clock = String(live.time_in_state_s);
      const cells = AGENT_COLUMNS.map(([key]) => {
        if (key === "offers") {
          const missed = live.missed_offers_in_a_row >= missedLimit;
          const said = live.last_decline_reason || "";
          return h(
            "td",
            {
              class: missed ? "bad" : "",
              title: missed ? `${live.missed_offers_in_a_row} offers in a row expired` : "accepted / declined / expired",
            },
            `${fmtCount((kpis.offers_accepted || {}).value)} / ${fmtCount((kpis.offers_declined || {}).value)} / ${fmtCount((kpis.offers_expired || {}).value)}`,
            said ? h("div", { class: "decline-reason", title: "the reason given for the last decline", text: `declined: “${said}”` }) : null,
          );
        }
        return h("td", { text: fmtKpi(key, kpis[key]), title: kpiTitle(key, kpis[key]) });
      });
      const select = h(
        "select",
        { class: "mini", "aria-label": `Set ${agentName(id)}'s status` },
        h("option", { value: "", text: "Set status…" }),
        h("option", { value: "available", text: "Available" }),
        h("option", { value: "away", text: "Away" }),
        h("option", { value: "offline", text: "Sign out" }),
      );
      select.addEventListener("change", () => setAgentStatus(id, select));
      return h(
        "tr",
        { "data-agent": id },
        h("td", { text: agentName(id) }),
        h("td", { class: "left" }, h("span", { class: `chip state st-${stateName}`, text: STATE_LABELS[stateName] || stateName })),
        inState,
        h("td", { text: `${live.active} / ${live.slots}` }),
        cells,
        h("td", { class: "left" }, select, " ", h("button", { type: "button", class: "btn ghost small", text: "Watch", disabled: live.active ? false : true, onclick: () => openWatch(id) })),
      );
    }),
  );
  $("agents-table").replaceChildren(head, body);
  const every = s.agents && Object.keys(s.agents).length;
  $("agents-note").textContent = every ? `${every} signed in today` : "nobody has signed in yet";
}

async function setAgentStatus(id, select) {
  const status = select.value;
  if (!status) return;
  select.disabled = true;
  try {
    await api("POST", `/api/supervisor/agents/${encodeURIComponent(id)}/status`, { status });
  } catch (err) {
    $("agents-note").textContent = `Could not set ${agentName(id)}'s status: ${err.message}`;
  } finally {
    select.disabled = false;
    select.value = "";
  }
}

// ------------------------------------------------------------------ journey grid, calls, cuts

function renderGrid(s) {
  const grid = s.stage_x_channel;
  const table = $("journey-grid");
  if (!grid.channels.length) {
    table.replaceChildren(h("caption", { class: "empty", text: "No contact today yet." }));
    return;
  }
  const max = Math.max(1, ...grid.stages.flatMap((st) => grid.channels.map((ch) => grid.cells[st][ch].queued)));
  table.replaceChildren(
    h("thead", {}, h("tr", {}, h("th", { text: "Stage" }), grid.channels.map((ch) => h("th", { text: ch })))),
    h(
      "tbody",
      {},
      grid.stages.map((st) =>
        h(
          "tr",
          { "data-stage": st },
          h("td", { text: STAGE_LABELS[st] || st }),
          grid.channels.map((ch) => {
            const c = grid.cells[st][ch];
            const abandonRate = c.queued ? c.abandoned / c.queued : 0;
            const hot = c.queued >= 3 && abandonRate >= 0.25;
            const heat = c.queued ? Math.min(3, 1 + Math.floor((c.queued / max) * 3)) : 0;
            return h("td", {
              class: hot ? "hot" : heat ? `heat-${heat}` : "",
              text: c.waiting ? `${c.queued} (${c.waiting})` : String(c.queued),
              title: `${STAGE_LABELS[st] || st} × ${ch}\nqueued ${c.queued} · answered ${c.answered} · abandoned ${c.abandoned} · waiting now ${c.waiting}`,
            });
          }),
        ),
      ),
    ),
  );
}

function renderCalls(s) {
  const q = s.call_quality;
  const mos = s.totals.mean_mos;
  $("calls").replaceChildren(
    h(
      "div",
      { class: "calls-figures" },
      h("div", {}, h("b", { text: fmtCount(q.live_calls) }), h("span", { class: "muted small", text: "live calls" })),
      h("div", { title: "calls whose latest quality sample warns" }, h("b", { text: fmtCount(q.with_warnings) }), h("span", { class: "muted small", text: "with warnings" })),
      h("div", { title: kpiTitle("mean_mos", mos) }, h("b", { text: fmtMos(mos ? mos.value : null) }), h("span", { class: "muted small", text: "mean MOS today" })),
      h("div", { title: kpiTitle("quality_warnings", s.totals.quality_warnings) }, h("b", { text: fmtCount(s.totals.quality_warnings ? s.totals.quality_warnings.value : 0) }), h("span", { class: "muted small", text: "warnings today" })),
    ),
    q.calls.length
      ? h(
          "table",
          { class: "data" },
          h("thead", {}, h("tr", {}, h("th", { text: "Call" }), h("th", { class: "left", text: "Agent" }), h("th", { text: "Latest MOS" }), h("th", { text: "Mean MOS" }), h("th", { class: "left", text: "Warning" }))),
          h(
            "tbody",
            {},
            q.calls.map((c) =>
              h(
                "tr",
                {},
                h("td", { text: `${c.channel} #${c.call_id.slice(0, 6)}` }),
                h("td", { class: "left", text: c.agent ? agentName(c.agent) : "–" }),
                h("td", { class: c.latest_mos < 3.5 ? "bad" : "", text: fmtMos(c.latest_mos) }),
                h("td", { text: fmtMos(c.mean_mos) }),
                h("td", { class: `left${c.warning ? " warn" : ""}`, text: c.warning || "ok" }),
              ),
            ),
          ),
        )
      : h("p", { class: "empty", text: "No live call." }),
  );
}

const CUT_COLUMNS = [
  ["contacts_waiting", "Waiting"],
  ["longest_wait_s", "Longest wait"],
  ["queued", "Queued"],
  ["answered", "Answered"],
  ["asa_s", "ASA"],
  ["service_level", "SL"],
  ["abandoned", "Abandoned"],
  ["short_abandons", "Short"],
  ["abandonment_rate", "Aband. rate"],
  ["aht_s", "AHT"],
  ["first_response_median_s", "FR median"],
  ["csat", "CSAT"],
];

function cutLabel(cut, key) {
  if (cut === "by_queue") return queueName(key);
  if (cut === "by_stage") return STAGE_LABELS[key] || key;
  return key;
}

function renderCut(s) {
  const cut = state.cut;
  const rows = s[cut] || {};
  const keys = Object.keys(rows);
  $("cut-table").replaceChildren(
    h("thead", {}, h("tr", {}, h("th", { text: cut.slice(3) }), CUT_COLUMNS.map(([key, label]) => h("th", { text: label, title: formulaOf(key) })))),
    h(
      "tbody",
      {},
      keys.map((key) =>
        h(
          "tr",
          { "data-key": key },
          h("td", { text: cutLabel(cut, key) }),
          CUT_COLUMNS.map(([name]) => h("td", { text: fmtKpi(name, rows[key][name]), title: kpiTitle(name, rows[key][name]) })),
        ),
      ),
    ),
  );
}

for (const button of document.querySelectorAll("[data-cut]")) {
  button.addEventListener("click", () => {
    state.cut = button.dataset.cut;
    for (const b of document.querySelectorAll("[data-cut]")) b.setAttribute("aria-pressed", String(b === button));
    if (state.snapshot) renderCut(state.snapshot);
  });
}

function render() {
  const s = state.snapshot;
  if (!s) return;
  const since = new Date(s.since * 1000);
  $("since").textContent = `Today: every figure counts since ${since.toISOString().slice(11, 16)} UTC (${since.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })} your time). Hover a figure for its formula.`;
  renderTiles(s);
  renderAlerts(s);
  renderQueues(s);
  renderStaffing(s);
  renderAgents(s);
  renderGrid(s);
  renderCalls(s);
  renderCut(s);
  tick();
}

// ------------------------------------------------------------------ watch a live chat

async function openWatch(agentId) {
  state.watchAgent = agentId;
  $("watch").hidden = false;
  $("watch-title").textContent = `Live chats of ${agentName(agentId)}`;
  $("watch-sub").textContent = "Read-only: the visitor and the agent do not see you.";
  const list = $("watch-list");
  list.replaceChildren(h("li", { class: "muted", text: "Loading…" }));
  try {
    const data = await api("GET", `/api/contacts?status=active&agent_id=${encodeURIComponent(agentId)}&limit=50`);
    const contacts = data.contacts;
    list.replaceChildren(
      ...(contacts.length
        ? contacts.map((c) =>
            h(
              "li",
              { "data-contact": c.id, class: c.id === state.watching ? "current" : "" },
              h("span", { text: `${c.name || "Visitor"} · ${queueName(c.queue_id)} · ${STAGE_LABELS[c.stage] || c.stage}` }),
              h("button", { type: "button", class: "btn ghost small", text: "Watch", onclick: () => watch(c.id) }),
            ),
          )
        : [h("li", { class: "muted", text: "No live chat right now." })]),
    );
    if (contacts.length && !contacts.some((c) => c.id === state.watching)) watch(contacts[0].id);
  } catch (err) {
    list.replaceChildren(h("li", { class: "muted", text: `Could not load the chats: ${err.message}` }));
  }
}

function watch(contactId) {
  if (state.watching && state.watching !== contactId) send({ type: "contact.unwatch", id: newId("unwatch"), contact_id: state.watching });
  state.watching = contactId;
  state.transcriptSeqs = new Set();
  $("transcript").replaceChildren();
  for (const li of $("watch-list").children) li.classList.toggle("current", li.dataset.contact === contactId);
  send({ type: "contact.watch", id: newId("watch"), contact_id: contactId });
}

function onConversationEvent(event) {
  if (event.contact_id !== state.watching || state.transcriptSeqs.has(event.seq)) return;
  state.transcriptSeqs.add(event.seq);
  const time = new Date(event.at * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  let item;
  if (event.type === "chat.message") {
    const who = event.sender.kind === "agent" ? event.sender.name || "Agent" : event.sender.kind === "visitor" ? event.sender.name || "Visitor" : "System";
    item = h("li", { class: event.sender.kind }, h("span", { class: "meta", text: `${who} · ${time}` }), h("span", { text: event.body }));
  } else {
    const text = {
      "contact.joined": `${event.agent_name || "An agent"} joined`,
      "contact.transferred": `Transferred${event.to_queue ? ` to ${queueName(event.to_queue)}` : ""}${event.to_agent ? ` to ${agentName(event.to_agent)}` : ""}`,
      "contact.ended": `Ended by ${event.by || "someone"}`,
      "contact.rated": `Rated ${event.rating}/5`,
    }[event.type];
    item = h("li", { class: "system", text: `${text} · ${time}` });
  }
  const list = $("transcript");
  const items = [...list.children];
  const after = items.findLast ? items.findLast((li) => Number(li.dataset.seq) < event.seq) : null;
  item.dataset.seq = String(event.seq);
  if (after) after.after(item);
  else if (items.length && Number(items[0].dataset.seq) > event.seq) list.prepend(item);
  else list.append(item);
  list.scrollTop = list.scrollHeight;
}

$("watch-close").addEventListener("click", () => {
  if (state.watching) send({ type: "contact.unwatch", id: newId("unwatch"), contact_id: state.watching });
  state.watching = null;
  state.watchAgent = null;
  $("watch").hidden = true;
});

// ------------------------------------------------------------------ reassign a waiting contact

function openReassign(queueId, contact) {
  state.reassigning = contact.contact_id;
  $("reassign-who").textContent = `#${contact.contact_id.slice(0, 8)} · waiting ${fmtClock(contact.wait_s + elapsed())} in ${queueName(queueId)} · ${STAGE_LABELS[contact.stage] || contact.stage} · ${contact.channel}`;
  const queues = [...state.queues.values()].sort((a, b) => (a.name || a.id).localeCompare(b.name || b.id));
  $("reassign-queue").replaceChildren(...queues.map((q) => h("option", { value: q.id, text: q.name || q.id, selected: q.id === queueId })));
  const agents = [...state.agents.values()].filter((a) => !a.disabled).sort((a, b) => (a.display_name || a.username).localeCompare(b.display_name || b.username));
  $("reassign-agent").replaceChildren(h("option", { value: "", text: "Anyone in the queue" }), ...agents.map((a) => h("option", { value: a.id, text: `${a.display_name || a.username} (${STATE_LABELS[(state.snapshot && state.snapshot.agents[a.id] || {}).state] || "not signed in"})` })));
  $("reassign-note").value = "";
  $("reassign-error").textContent = "";
  $("reassign-dialog").showModal();
}

$("reassign-cancel").addEventListener("click", () => $("reassign-dialog").close());

$("reassign-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { note: $("reassign-note").value };
  const queueId = $("reassign-queue").value;
  const agentId = $("reassign-agent").value;
  if (queueId) body.to_queue = queueId;
  if (agentId) body.to_agent = agentId;
  $("reassign-submit").disabled = true;
  try {
    await api("POST", `/api/supervisor/contacts/${encodeURIComponent(state.reassigning)}/reassign`, body);
    $("reassign-dialog").close();
  } catch (err) {
    $("reassign-error").textContent = err.status === 409 ? "This contact is no longer waiting." : `Could not reassign: ${err.message}`;
  } finally {
    $("reassign-submit").disabled = false;
  }
});

// ------------------------------------------------------------------ tabs

function showTab(tab) {
  state.tab = tab;
  $("tab-live").setAttribute("aria-selected", String(tab === "live"));
  $("tab-reports").setAttribute("aria-selected", String(tab === "reports"));
  $("pane-live").hidden = tab !== "live";
  $("pane-reports").hidden = tab !== "reports";
  if (tab === "reports" && !state.report) runReport();
}

$("tab-live").addEventListener("click", () => showTab("live"));
$("tab-reports").addEventListener("click", () => showTab("reports"));

// ------------------------------------------------------------------ reports

function localDate(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function initReports() {
  if (!$("report-from").value) $("report-from").value = localDate(new Date());
  if (!$("report-to").value) $("report-to").value = localDate(new Date());
  if (!$("report-tz").value) {
    let tz = "UTC";
    try {
      tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    } catch (_e) {
      /* keep UTC */
    }
    $("report-tz").value = tz;
  }
}

function reportQuery(extra) {
  const params = new URLSearchParams({
    from: $("report-from").value,
    to: $("report-to").value,
    interval: $("report-interval").value,
    tz: $("report-tz").value.trim() || "UTC",
    ...extra,
  });
  return `/api/reports?${params.toString()}`;
}

function intervalLabel(iso, interval, multiDay) {
  // The ISO string is already local to the report's time zone.
  const day = iso.slice(5, 10);
  const time = iso.slice(11, 16);
  if (interval === "day") return iso.slice(0, 10);
  return multiDay ? `${day} ${time}` : time;
}

function keyLabel(by, key) {
  if (by === "agent") return agentName(key);
  if (by === "queue") return queueName(key);
  if (by === "stage") return STAGE_LABELS[key] || key;
  return key;
}

function sumByKey(rows) {
  const out = new Map();
  for (const r of rows) {
    const a = out.get(r.key) || { queued: 0, answered: 0, within: 0, abandoned: 0, short: 0, handled: 0, wait: 0, handle: 0 };
    a.queued += r.queued;
    a.answered += r.answered;
    a.within += r.answered_within_target;
    a.abandoned += r.abandoned;
    a.short += r.short_abandons;
    a.handled += r.handled;
    a.wait += (r.asa_s || 0) * r.answered;
    a.handle += (r.aht_s || 0) * r.handled;
    out.set(r.key, a);
  }
  return out;
}

async function runReport() {
  const error = $("report-error");
  error.textContent = "";
  const by = $("report-by").value;
  $("report-run").disabled = true;
  try {
    const [series, cut] = await Promise.all([api("GET", reportQuery({})), api("GET", reportQuery({ by: by || "stage" }))]);
    state.report = { series, cut, by };
    renderReport();
  } catch (err) {
    error.textContent = `Could not run the report: ${err.message}`;
  } finally {
    $("report-run").disabled = false;
  }
}

function renderReport() {
  const { series, cut, by } = state.report;
  const totals = series.totals;
  const interval = series.interval;
  const multiDay = series.rows.length && series.rows[0].interval_start.slice(0, 10) !== series.rows[series.rows.length - 1].interval_start.slice(0, 10);
  const labels = series.rows.map((r) => intervalLabel(r.interval_start, interval, multiDay));
  const tiles = [
    ["Queued", fmtCount(totals.queued), formulaOf("queued")],
    ["Answered", fmtCount(totals.answered), formulaOf("answered")],
    ["ASA", fmtSeconds(totals.asa_s), formulaOf("asa_s")],
    ["Service level", fmtPct(totals.service_level), formulaOf("service_level")],
    ["Abandonment", fmtPct(totals.abandonment_rate), `${formulaOf("abandonment_rate")}\n${totals.abandoned} abandoned, ${totals.short_abandons} short`],
    ["AHT", fmtSeconds(totals.aht_s), formulaOf("aht_s")],
    ["First response", fmtSeconds(totals.first_response_median_s), `${formulaOf("first_response_median_s")}\np90 ${fmtSeconds(totals.first_response_p90_s)}`],
    ["CSAT", fmtPct(totals.csat), `${formulaOf("csat")}\n${totals.ratings} ratings`],
  ];
  $("report-tiles").replaceChildren(...tiles.map(([label, value, title]) => h("div", { class: "tile", title }, h("span", { class: "label", text: label }), h("span", { class: "value", text: value }))));
  lineChart($("chart-volume"), {
    labels,
    series: [
      { name: "Queued", values: series.rows.map((r) => r.queued) },
      { name: "Answered", values: series.rows.map((r) => r.answered) },
      { name: "Abandoned", values: series.rows.map((r) => r.abandoned) },
    ],
    format: (v) => fmtCount(v),
    integer: true,
    emptyText: "No contact in this range",
  });
  lineChart($("chart-asa"), {
    labels,
    series: [
      { name: "ASA", values: series.rows.map((r) => r.asa_s) },
      { name: "First response (median)", values: series.rows.map((r) => r.first_response_median_s) },
    ],
    format: fmtSeconds,
    emptyText: "No contact answered in this range",
  });
  lineChart($("chart-sl"), {
    labels,
    series: [{ name: "Service level", values: series.rows.map((r) => r.service_level) }],
    format: fmtPct,
    max: 1,
    target: state.rules.service_level_target || 0.8,
    emptyText: "No contact answered or abandoned in this range",
  });
  const cutBy = cut.by;
  const sums = sumByKey(cut.rows);
  const keys = [...sums.keys()].sort((a, b) => sums.get(b).queued - sums.get(a).queued || a.localeCompare(b)).slice(0, 12);
  $("bars-title").textContent = `By ${cutBy === "stage" ? "stage of origin" : cutBy}`;
  barChart($("chart-bars"), {
    categories: keys.map((k) => keyLabel(cutBy, k)),
    series: [
      { name: "Queued", values: keys.map((k) => (cutBy === "agent" ? null : sums.get(k).queued)) },
      { name: "Answered", values: keys.map((k) => sums.get(k).answered) },
      { name: "Abandoned", values: keys.map((k) => (cutBy === "agent" ? null : sums.get(k).abandoned)) },
    ],
    format: (v) => fmtCount(v),
    integer: true,
  });
  const rows = by ? cut.rows : series.rows;
  const columns = ["queued", "answered", "abandoned", "short_abandons", "asa_s", "service_level", "abandonment_rate", "aht_s", "first_response_median_s", "csat"];
  const fmt = (name, v) => (name.endsWith("_s") ? fmtSeconds(v) : ["service_level", "abandonment_rate", "csat"].includes(name) ? fmtPct(v) : fmtCount(v));
  $("report-table").replaceChildren(
    h("thead", {}, h("tr", {}, h("th", { text: "Interval" }), by ? h("th", { class: "left", text: by }) : null, columns.map((c) => h("th", { text: c.replace(/_s$/, "").replaceAll("_", " "), title: formulaOf(c) })))),
    h(
      "tbody",
      {},
      rows
        .filter((r) => by || r.queued || rows.length <= 96)
        .map((r) => h("tr", {}, h("td", { text: intervalLabel(r.interval_start, interval, multiDay) }), by ? h("td", { class: "left", text: keyLabel(by, r.key) }) : null, columns.map((c) => h("td", { text: fmt(c, r[c]) })))),
    ),
  );
  $("report-note").textContent = `${series.contacts} contacts · ${series.start.slice(0, 16)} to ${series.end.slice(0, 16)} (${series.tz})`;
}

$("report-form").addEventListener("submit", (event) => {
  event.preventDefault();
  runReport();
});

$("report-csv").addEventListener("click", async () => {
  const by = $("report-by").value;
  const error = $("report-error");
  error.textContent = "";
  try {
    const filename = `report-${by || "all"}-${$("report-interval").value}-${$("report-from").value}-${$("report-to").value}.csv`;
    await downloadFile(reportQuery({ format: "csv", ...(by ? { by } : {}) }), filename, state.token);
  } catch (err) {
    error.textContent = `Could not download the CSV: ${err.message}`;
  }
});

// ------------------------------------------------------------------ go

if (state.token && state.user) start();
else showLogin();
