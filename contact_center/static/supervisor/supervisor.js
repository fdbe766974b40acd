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
import { followUserLocale, loadI18n, localePicker } from "/static/common/i18n.js";
import { barChart, lineChart, stackedBar } from "/static/supervisor/charts.js";

// The page's language first: the tiles below are labelled from its catalogue.
const t = await loadI18n();

const SESSION_KEY = SUPERVISOR_SIGN_IN.storageKey; // shared with the journey page
const STATES = ["available", "busy", "wrap_up", "away", "offline"];
const label = (prefix, code) => (t.has(`${prefix}.${code}`) ? t(`${prefix}.${code}`) : String(code || "").replace(/_/g, " "));
const STATE_LABEL = (code) => label("label.agent_state", code);
const STAGE_LABEL = (code) => label("label.stage", code);
const CHANNEL_LABEL = (code) => label("label.channel", code);

// ------------------------------------------------------------------ formatting

function fmtSeconds(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  if (v < 1) return t("supervisor.unit.ms", { n: Math.round(v * 1000) });
  if (v < 10) return t("supervisor.unit.s", { n: t.num(v, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) });
  if (v < 60) return t("supervisor.unit.s", { n: Math.round(v) });
  return fmtClock(v);
}

function fmtPct(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  const pct = Math.round(v * 1000) / 10;
  return t("supervisor.unit.pct", { n: t.num(pct, { maximumFractionDigits: Number.isInteger(pct) ? 0 : 1, minimumFractionDigits: Number.isInteger(pct) ? 0 : 1 }) });
}

function fmtMos(v) {
  return v === null || v === undefined || !Number.isFinite(v) ? "–" : t.num(v, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function fmtRaw(v) {
  if (v === null || v === undefined) return "–";
  return Number.isInteger(v) ? t.num(v) : t.num(v, { minimumFractionDigits: 3, maximumFractionDigits: 3 });
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

/** A figure's definition in the reader's language (the catalogue's kpi.formula.*);
 * the server's legend text for a figure the catalogue does not know yet. */
function formulaOf(name) {
  const key = `kpi.formula.${name}`;
  if (t.has(key)) return t(key);
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
    lines.push(t("supervisor.samples", { count: kpi.denominator }));
  }
  return lines.join("\n");
}

function agentName(id) {
  const user = state.agents.get(id);
  return user ? user.display_name || user.username : t("supervisor.agent_id", { id: String(id).slice(0, 6) });
}

function queueName(id) {
  const queue = state.queues.get(id);
  return queue ? (queue.labels && queue.labels[t.locale]) || queue.name || queue.id : id;
}

function elapsed() {
  return state.receivedAt ? (performance.now() - state.receivedAt) / 1000 : 0;
}

// ------------------------------------------------------------------ REST

const api = createApi({
  token: () => state.token,
  onExpired: () => signOut(t("staff.session_expired")),
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
    if (followUserLocale(user, t)) return; // reloads in the user's language
    start();
  },
});
localePicker($("login-locale"), t, null, "login-locale-select");

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
  showLogin(message || t("staff.signed_out"));
}

$("logout").addEventListener("click", () => signOut());

function start() {
  $("login-view").hidden = true;
  $("app").hidden = false;
  state.loggingOut = false;
  $("me-name").textContent = state.user ? state.user.display_name || state.user.username : "";
  $("me-role").textContent = state.user ? label("label.role", state.user.role) : "";
  localePicker($("locale-slot"), t, api);
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
    ws.send(JSON.stringify({ type: "hello", token: state.token, locale: t.locale }));
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
      signOut(t("staff.session_expired"));
      return;
    }
    if (close.code === 4403) {
      signOut(t(SUPERVISOR_SIGN_IN.deniedKey));
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
        $("watch-sub").textContent = t("supervisor.watch_failed", { why: event.message });
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
  if (mode === "connecting") $("live-text").textContent = t("staff.connecting");
  if (mode === "down") $("live-text").textContent = t("call.reconnecting");
}

function tick() {
  if (!state.snapshot) return;
  const dt = elapsed();
  const pill = $("live-pill");
  if (state.ws) {
    const stale = dt > Math.max(3, 3 * state.pushS);
    pill.classList.toggle("stale", stale);
    pill.classList.toggle("live", !stale);
    $("live-text").textContent = stale
      ? t("supervisor.stale", { seconds: Math.round(dt) })
      : t("supervisor.updated_ago", { seconds: t.num(dt, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) });
  }
  for (const node of document.querySelectorAll("[data-clock]")) {
    const base = Number(node.dataset.clock);
    node.textContent = fmtClock(base + dt);
  }
}

// ------------------------------------------------------------------ tiles

const TILES = [
  { key: "contacts_waiting", label: t("supervisor.contacts_waiting") },
  { key: "longest_wait_s", label: t("supervisor.longest_wait"), clock: true },
  { key: "asa_s", label: t("supervisor.asa") },
  { key: "service_level", label: t("supervisor.service_level") },
  { key: "abandonment_rate", label: t("supervisor.abandonment") },
  { key: "answered", label: t("supervisor.answered") },
  { key: "aht_s", label: t("supervisor.aht") },
  { key: "first_response_median_s", label: t("supervisor.chat_first_response") },
  { key: "csat", label: t("supervisor.csat") },
  { key: "occupancy", label: t("supervisor.occupancy") },
  { key: "answer_rate", label: t("supervisor.offers") },
  { key: "agents", label: t("supervisor.agents") },
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
  const totals = s.totals;
  const rules = state.rules;
  const k = (name) => totals[name] || { value: null, numerator: null, denominator: null };
  const queuesWaiting = Object.keys(s.waiting).length;
  setTile("contacts_waiting", fmtKpi("contacts_waiting", k("contacts_waiting")), t("supervisor.in_queues", { count: queuesWaiting }), kpiTitle("contacts_waiting", k("contacts_waiting")));
  const longest = k("longest_wait_s").value;
  let level = null;
  if (longest !== null) level = longest > (rules.longest_wait_critical_s || 180) ? "bad" : longest > (rules.longest_wait_warning_s || 60) ? "warn" : "good";
  const longestNode = setTile("longest_wait_s", fmtClock(longest), t("supervisor.oldest_waiting"), kpiTitle("longest_wait_s", k("longest_wait_s")), level);
  if (longest !== null && longestNode) longestNode.dataset.clock = String(longest);
  else if (longestNode) longestNode.textContent = "–";
  setTile("asa_s", fmtKpi("asa_s", k("asa_s")), t("supervisor.n_answered", { n: fmtCount(k("answered").value) }), kpiTitle("asa_s", k("asa_s")));
  const sl = k("service_level");
  level = sl.value === null ? null : sl.value < (rules.service_level_critical || 0.6) ? "bad" : sl.value < (rules.service_level_target || 0.8) ? "warn" : "good";
  setTile("service_level", fmtPct(sl.value), sl.denominator ? t("supervisor.sl_sub", { within: fmtCount(sl.numerator), of: fmtCount(sl.denominator), target: fmtPct(rules.service_level_target || 0.8) }) : t("supervisor.none_answered"), kpiTitle("service_level", sl), level);
  const abandoned = k("abandoned").value || 0;
  const short = k("short_abandons").value || 0;
  setTile(
    "abandonment_rate",
    fmtPct(k("abandonment_rate").value),
    t("supervisor.abandoned_sub", { abandoned: fmtCount(abandoned - short), short: fmtCount(short), seconds: rules.short_abandon_s || 5 }),
    `${kpiTitle("abandonment_rate", k("abandonment_rate"))}\n${t("supervisor.short_abandons_formula", { formula: formulaOf("short_abandons") })}`,
  );
  setTile("answered", fmtCount(k("answered").value), t("supervisor.answered_sub", { handled: fmtCount(k("handled").value), queued: fmtCount(k("queued").value) }), kpiTitle("answered", k("answered")));
  setTile("aht_s", fmtKpi("aht_s", k("aht_s")), t("supervisor.aht_sub", { talk: fmtSeconds(k("avg_talk_s").value), hold: fmtSeconds(k("avg_hold_s").value), wrap: fmtSeconds(k("avg_wrap_up_s").value) }), kpiTitle("aht_s", k("aht_s")));
  setTile(
    "first_response_median_s",
    fmtSeconds(k("first_response_median_s").value),
    t("supervisor.fr_sub", { p90: fmtSeconds(k("first_response_p90_s").value) }),
    `${kpiTitle("first_response_median_s", k("first_response_median_s"))}\n${formulaOf("first_response_p90_s")}`,
  );
  setTile("csat", fmtPct(k("csat").value), k("csat").denominator ? t("supervisor.csat_sub", { good: fmtCount(k("csat").numerator), of: fmtCount(k("csat").denominator) }) : t("supervisor.no_rating"), kpiTitle("csat", k("csat")));
  setTile("occupancy", fmtPct(k("occupancy").value), t("supervisor.slots_sub", { pct: fmtPct(k("slot_occupancy").value) }), `${kpiTitle("occupancy", k("occupancy"))}\n${t("supervisor.slots_formula", { formula: formulaOf("slot_occupancy") })}`);
  setTile(
    "answer_rate",
    fmtPct(k("answer_rate").value),
    t("supervisor.offers_sub", { accepted: fmtCount(k("offers_accepted").value), declined: fmtCount(k("offers_declined").value), expired: fmtCount(k("offers_expired").value) }),
    `${kpiTitle("answer_rate", k("answer_rate"))}\n${t("supervisor.avg_acceptance", { seconds: fmtSeconds(k("avg_acceptance_s").value) })}`,
  );
  const byState = s.agents_by_state || {};
  const signedIn = STATES.filter((st) => st !== "offline").reduce((sum, st) => sum + (byState[st] || 0), 0);
  setTile("agents", fmtCount(signedIn), STATES.map((st) => t("supervisor.state_count", { state: STATE_LABEL(st), count: byState[st] || 0 })).join(" · "), t("supervisor.agents_by_state"));
  stackedBar(
    $("tile-agents").querySelector(".states"),
    STATES.map((st) => ({ value: byState[st] || 0, label: STATE_LABEL(st), className: `st-${st}` })),
  );
}

// ------------------------------------------------------------------ alerts

function alertText(alert) {
  const [kind, id] = alert.subject.split(/:(.*)/s);
  if (alert.code === "missed_offers" && kind === "agent") return t("supervisor.alert.missed_offers", { name: agentName(id), count: alert.value });
  if (alert.code === "longest_wait" && kind === "queue") return t("supervisor.alert.longest_wait", { queue: queueName(id), waited: fmtClock(alert.value), limit: fmtClock(alert.threshold) });
  if (alert.code === "service_level" && kind === "queue") return t("supervisor.alert.service_level", { queue: queueName(id), level: fmtPct(alert.value), target: fmtPct(alert.threshold) });
  return alert.message;
}

function renderAlerts(s) {
  $("alerts").replaceChildren(
    ...s.alerts.map((alert) =>
      h("div", { class: `banner ${alert.severity}`, role: "alert", "data-code": alert.code }, h("span", { class: "badge", text: label("supervisor.severity", alert.severity) }), h("span", { text: alertText(alert) })),
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
    box.replaceChildren(h("p", { class: "empty", text: t("supervisor.no_queue_yet") }));
    return;
  }
  const longWarn = state.rules.longest_wait_warning_s || 60;
  box.replaceChildren(
    ...ids.map((id) => {
      const row = s.by_queue[id] || {};
      const waiting = s.waiting[id] || { count: 0, shown: 0, contacts: [] };
      const fig = (text, name) => h("span", { title: kpiTitle(name, row[name]) }, `${text} `, h("b", { text: fmtKpi(name, row[name]) }));
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
            h("span", { title: kpiTitle("contacts_waiting", row.contacts_waiting) }, `${t("supervisor.q.waiting")} `, h("b", { class: "q-waiting", text: fmtCount(waiting.count) })),
            h("span", { title: kpiTitle("longest_wait_s", row.longest_wait_s) }, `${t("supervisor.q.longest")} `, longestNode),
            fig(t("supervisor.sl"), "service_level"),
            fig(t("supervisor.asa"), "asa_s"),
            fig(t("supervisor.q.answered"), "answered"),
            fig(t("supervisor.q.abandoned"), "abandoned"),
          ),
        ),
        waiting.contacts.length
          ? h(
              "ol",
              { class: "waiting", "aria-label": t("supervisor.waiting_in", { queue: queueName(id) }) },
              waiting.contacts.map((c) => {
                const clock = h("span", { class: `wait${c.wait_s > longWarn ? " long" : ""}`, title: t("supervisor.now_enqueued"), "data-clock": String(c.wait_s), text: fmtClock(c.wait_s) });
                return h(
                  "li",
                  { "data-contact": c.contact_id },
                  clock,
                  h("bdi", { class: "who", text: `#${c.contact_id.slice(0, 8)}` }),
                  chip("stage", STAGE_LABEL(c.stage)),
                  chip("channel", CHANNEL_LABEL(c.channel)),
                  h("button", { type: "button", class: "btn ghost small", text: t("supervisor.reassign"), onclick: () => openReassign(id, c) }),
                );
              }),
            )
          : null,
        waiting.count > waiting.shown ? h("p", { class: "muted small", text: t("supervisor.showing_longest", { shown: waiting.shown, count: waiting.count }) }) : null,
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
      h("th", { text: t("supervisor.queue") }),
      h("th", { text: t("supervisor.arrivals"), title: t("supervisor.contacts_queued_window_30_min") }),
      h("th", { text: t("supervisor.aht"), title: formulaOf("aht_s") }),
      h("th", { text: t("supervisor.load"), title: t("supervisor.arrival_rate_aht_erlangs") }),
      h("th", { text: t("supervisor.needed"), title: state.staffingFormula }),
      h("th", { text: t("supervisor.staffed"), title: t("supervisor.agents_available_busy_wrap_up") }),
      h("th", { text: t("supervisor.available") }),
      h("th", { text: t("supervisor.sl_forecast"), title: t("supervisor.1_p_wait_exp_n") }),
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
        h("td", { text: fmtSeconds(r.aht_s), title: t(r.aht_source === "default" ? "supervisor.aht_default" : "supervisor.aht_observed") }),
        h("td", { text: t.num(r.load_erlangs, { minimumFractionDigits: 2, maximumFractionDigits: 2 }) }),
        h("td", { class: short ? "bad" : "", text: fmtCount(r.agents_needed), title: `${r.formula}\n${t("supervisor.staffing_target", { seconds: r.sl_target_s, target: fmtPct(r.target_level) })}` }),
        h("td", { text: fmtCount(r.agents_staffed) }),
        h("td", { text: fmtCount(r.agents_available) }),
        h("td", { text: fmtPct(r.predicted_service_level) }),
      );
    }),
  );
  table.replaceChildren(head, body);
  if (!ids.length) table.replaceChildren(h("caption", { class: "empty", text: t("supervisor.staffing_appears_once_contacts_arrive") }));
}

// ------------------------------------------------------------------ agents

const AGENT_COLUMNS = [
  ["handled", t("supervisor.handled")],
  ["aht_s", t("supervisor.aht")],
  ["first_response_median_s", t("supervisor.fr_median")],
  ["first_response_p90_s", t("supervisor.fr_p90")],
  ["offers", t("supervisor.offers_d_e")],
  ["answer_rate", t("supervisor.answer_rate")],
  ["csat", t("supervisor.csat")],
  ["occupancy", t("supervisor.occupancy")],
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
      h("th", { text: t("supervisor.agent") }),
      h("th", { class: "left", text: t("supervisor.state") }),
      h("th", { text: t("supervisor.state_2"), title: t("supervisor.now_time_last_state_change") }),
      h("th", { text: t("supervisor.active"), title: t("supervisor.contacts_held_now_chat_slots") }),
      AGENT_COLUMNS.map(([key, text]) => h("th", { text, title: key === "offers" ? t("supervisor.offers_ade") : formulaOf(key) })),
      h("th", { class: "left", text: t("supervisor.actions") }),
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
              title: missed ? t("supervisor.missed_in_row", { count: live.missed_offers_in_a_row }) : t("supervisor.ade"),
            },
            `${fmtCount((kpis.offers_accepted || {}).value)} / ${fmtCount((kpis.offers_declined || {}).value)} / ${fmtCount((kpis.offers_expired || {}).value)}`,
            said ? h("div", { class: "decline-reason", title: t("supervisor.reason_given_last_decline"), text: t("supervisor.declined_said", { said }) }) : null,
          );
        }
        return h("td", { text: fmtKpi(key, kpis[key]), title: kpiTitle(key, kpis[key]) });
      });
      const select = h(
        "select",
        { class: "mini", "aria-label": t("supervisor.set_status_of", { name: agentName(id) }) },
        h("option", { value: "", text: t("supervisor.set_status") }),
        h("option", { value: "available", text: t("supervisor.available") }),
        h("option", { value: "away", text: t("supervisor.away") }),
        h("option", { value: "offline", text: t("supervisor.sign_out") }),
      );
      select.addEventListener("change", () => setAgentStatus(id, select));
      return h(
        "tr",
        { "data-agent": id },
        h("td", { text: agentName(id) }),
        h("td", { class: "left" }, h("span", { class: `chip state st-${stateName}`, "data-state": stateName, text: STATE_LABEL(stateName) })),
        inState,
        h("td", { text: `${t.num(live.active)} / ${t.num(live.slots)}` }),
        cells,
        h("td", { class: "left" }, select, " ", h("button", { type: "button", class: "btn ghost small", text: t("supervisor.watch"), disabled: live.active ? false : true, onclick: () => openWatch(id) })),
      );
    }),
  );
  $("agents-table").replaceChildren(head, body);
  const every = s.agents && Object.keys(s.agents).length;
  $("agents-note").textContent = every ? t("supervisor.signed_in_today", { count: every }) : t("supervisor.nobody_signed_in");
}

async function setAgentStatus(id, select) {
  const status = select.value;
  if (!status) return;
  select.disabled = true;
  try {
    await api("POST", `/api/supervisor/agents/${encodeURIComponent(id)}/status`, { status });
  } catch (err) {
    $("agents-note").textContent = t("supervisor.set_status_failed", { name: agentName(id), why: err.message });
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
    table.replaceChildren(h("caption", { class: "empty", text: t("supervisor.no_contact_today_yet") }));
    return;
  }
  const max = Math.max(1, ...grid.stages.flatMap((st) => grid.channels.map((ch) => grid.cells[st][ch].queued)));
  table.replaceChildren(
    h("thead", {}, h("tr", {}, h("th", { text: t("supervisor.stage") }), grid.channels.map((ch) => h("th", { text: CHANNEL_LABEL(ch) })))),
    h(
      "tbody",
      {},
      grid.stages.map((st) =>
        h(
          "tr",
          { "data-stage": st },
          h("td", { text: STAGE_LABEL(st) }),
          grid.channels.map((ch) => {
            const c = grid.cells[st][ch];
            const abandonRate = c.queued ? c.abandoned / c.queued : 0;
            const hot = c.queued >= 3 && abandonRate >= 0.25;
            const heat = c.queued ? Math.min(3, 1 + Math.floor((c.queued / max) * 3)) : 0;
            return h("td", {
              class: hot ? "hot" : heat ? `heat-${heat}` : "",
              text: c.waiting ? `${t.num(c.queued)} (${t.num(c.waiting)})` : t.num(c.queued),
              title: `${STAGE_LABEL(st)} × ${CHANNEL_LABEL(ch)}\n${t("supervisor.grid_cell", { queued: c.queued, answered: c.answered, abandoned: c.abandoned, waiting: c.waiting })}`,
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
      h("div", {}, h("b", { text: fmtCount(q.live_calls) }), h("span", { class: "muted small", text: t("supervisor.live_calls") })),
      h("div", { title: t("supervisor.calls_whose_latest_quality_sample") }, h("b", { text: fmtCount(q.with_warnings) }), h("span", { class: "muted small", text: t("supervisor.warnings") })),
      h("div", { title: kpiTitle("mean_mos", mos) }, h("b", { text: fmtMos(mos ? mos.value : null) }), h("span", { class: "muted small", text: t("supervisor.mean_mos_today") })),
      h("div", { title: kpiTitle("quality_warnings", s.totals.quality_warnings) }, h("b", { text: fmtCount(s.totals.quality_warnings ? s.totals.quality_warnings.value : 0) }), h("span", { class: "muted small", text: t("supervisor.warnings_today") })),
    ),
    q.calls.length
      ? h(
          "table",
          { class: "data" },
          h("thead", {}, h("tr", {}, h("th", { text: t("supervisor.call") }), h("th", { class: "left", text: t("supervisor.agent") }), h("th", { text: t("supervisor.latest_mos") }), h("th", { text: t("supervisor.mean_mos") }), h("th", { class: "left", text: t("supervisor.warning") }))),
          h(
            "tbody",
            {},
            q.calls.map((c) =>
              h(
                "tr",
                {},
                h("td", {}, CHANNEL_LABEL(c.channel), " ", h("bdi", { text: `#${c.call_id.slice(0, 6)}` })),
                h("td", { class: "left", text: c.agent ? agentName(c.agent) : "–" }),
                h("td", { class: c.latest_mos < 3.5 ? "bad" : "", text: fmtMos(c.latest_mos) }),
                h("td", { text: fmtMos(c.mean_mos) }),
                h("td", { class: `left${c.warning ? " warn" : ""}`, text: c.warning ? label("console.quality", c.warning) : t("supervisor.ok") }),
              ),
            ),
          ),
        )
      : h("p", { class: "empty", text: t("supervisor.no_live_call") }),
  );
}

const CUT_COLUMNS = [
  ["contacts_waiting", t("supervisor.waiting")],
  ["longest_wait_s", t("supervisor.longest_wait")],
  ["queued", t("supervisor.queued")],
  ["answered", t("supervisor.answered")],
  ["asa_s", t("supervisor.asa")],
  ["service_level", t("supervisor.sl")],
  ["abandoned", t("supervisor.abandoned")],
  ["short_abandons", t("supervisor.short")],
  ["abandonment_rate", t("supervisor.aband_rate")],
  ["aht_s", t("supervisor.aht")],
  ["first_response_median_s", t("supervisor.fr_median")],
  ["csat", t("supervisor.csat")],
];

function cutLabel(cut, key) {
  if (cut === "by_queue") return queueName(key);
  if (cut === "by_stage") return STAGE_LABEL(key);
  if (cut === "by_channel") return CHANNEL_LABEL(key);
  return key;
}

function renderCut(s) {
  const cut = state.cut;
  const rows = s[cut] || {};
  const keys = Object.keys(rows);
  $("cut-table").replaceChildren(
    h("thead", {}, h("tr", {}, h("th", { text: t(`supervisor.cut.${cut.slice(3)}`) }), CUT_COLUMNS.map(([key, text]) => h("th", { text, title: formulaOf(key) })))),
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
  // The day in the locale's calendar (Jalali in fa), the start in UTC and in local time.
  const since = $("since");
  since.dataset.since = String(s.since);
  since.textContent = t("supervisor.since", {
    day: t.date(s.since, { weekday: "long", year: "numeric", month: "long", day: "numeric" }),
    utc: t.date(s.since, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "UTC" }),
    local: t.time(s.since),
  });
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
  $("watch-title").textContent = t("supervisor.live_chats_of", { name: agentName(agentId) });
  $("watch-sub").textContent = t("supervisor.read_only_visitor_agent");
  const list = $("watch-list");
  list.replaceChildren(h("li", { class: "muted", text: t("supervisor.loading") }));
  try {
    const data = await api("GET", `/api/contacts?status=active&agent_id=${encodeURIComponent(agentId)}&limit=50`);
    const contacts = data.contacts;
    list.replaceChildren(
      ...(contacts.length
        ? contacts.map((c) =>
            h(
              "li",
              { "data-contact": c.id, class: c.id === state.watching ? "current" : "" },
              h("span", { text: t("supervisor.watch_item", { name: c.name || t("console.visitor"), queue: queueName(c.queue_id), stage: STAGE_LABEL(c.stage) }) }),
              h("button", { type: "button", class: "btn ghost small", text: t("supervisor.watch"), onclick: () => watch(c.id) }),
            ),
          )
        : [h("li", { class: "muted", text: t("supervisor.no_live_chat_right_now") })]),
    );
    if (contacts.length && !contacts.some((c) => c.id === state.watching)) watch(contacts[0].id);
  } catch (err) {
    list.replaceChildren(h("li", { class: "muted", text: t("supervisor.chats_failed", { why: err.message }) }));
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
  const time = t.date(event.at, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  let item;
  if (event.type === "chat.message") {
    const who = event.sender.kind === "agent" ? event.sender.name || t("console.agent") : event.sender.kind === "visitor" ? event.sender.name || t("console.visitor") : t("supervisor.system");
    item = h("li", { class: event.sender.kind }, h("span", { class: "meta" }, h("bdi", { text: who }), ` · ${time}`), h("span", { text: event.body, dir: "auto" }));
  } else {
    const target = event.to_agent ? agentName(event.to_agent) : event.to_queue ? queueName(event.to_queue) : "";
    const text = {
      "contact.joined": t("supervisor.ev.joined", { name: event.agent_name || t("console.an_agent") }),
      "contact.transferred": target ? t("supervisor.ev.transferred_to", { target }) : t("supervisor.ev.transferred"),
      "contact.ended": t("supervisor.ev.ended_by", { who: event.by ? label("label.party", event.by) : t("supervisor.someone") }),
      "contact.rated": t("supervisor.ev.rated", { rating: event.rating, best: 5 }),
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
  $("reassign-who").textContent = t("supervisor.reassign_who", {
    id: `#${contact.contact_id.slice(0, 8)}`,
    waited: fmtClock(contact.wait_s + elapsed()),
    queue: queueName(queueId),
    stage: STAGE_LABEL(contact.stage),
    channel: CHANNEL_LABEL(contact.channel),
  });
  const queues = [...state.queues.values()].sort((a, b) => (a.name || a.id).localeCompare(b.name || b.id));
  $("reassign-queue").replaceChildren(...queues.map((q) => h("option", { value: q.id, text: q.name || q.id, selected: q.id === queueId })));
  const agents = [...state.agents.values()].filter((a) => !a.disabled).sort((a, b) => (a.display_name || a.username).localeCompare(b.display_name || b.username));
  $("reassign-agent").replaceChildren(h("option", { value: "", text: t("supervisor.anyone_queue") }), ...agents.map((a) => h("option", { value: a.id, text: t("supervisor.agent_option", { name: a.display_name || a.username, state: ((state.snapshot && state.snapshot.agents[a.id]) || {}).state ? STATE_LABEL(state.snapshot.agents[a.id].state) : t("supervisor.not_signed_in") }) })));
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
    $("reassign-error").textContent = err.status === 409 ? t("supervisor.no_longer_waiting") : t("supervisor.reassign_failed", { why: err.message });
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

/** An interval's start as people read it, in the report's time zone and the locale's
 * calendar (Jalali in fa, Gregorian in en): the day, or the time, or both. */
function intervalLabel(iso, interval, multiDay) {
  const at = Date.parse(iso) / 1000;
  const zone = state.report && state.report.series ? state.report.series.tz : "UTC";
  const options = interval === "day" ? { year: "numeric", month: "2-digit", day: "2-digit" } : multiDay ? { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" } : { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  try {
    return t.date(at, { ...options, timeZone: zone });
  } catch (_e) {
    return t.date(at, options); // a zone this browser does not know
  }
}

/** A report range end ("2025-01-05T00:00:00+03:30") as a date and time in its zone. */
function rangeLabel(iso, zone) {
  const at = Date.parse(iso) / 1000;
  const options = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  try {
    return t.date(at, { ...options, timeZone: zone });
  } catch (_e) {
    return t.date(at, options);
  }
}

function keyLabel(by, key) {
  if (by === "agent") return agentName(key);
  if (by === "queue") return queueName(key);
  if (by === "stage") return STAGE_LABEL(key);
  if (by === "channel") return CHANNEL_LABEL(key);
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
    error.textContent = t("supervisor.report_failed", { why: err.message });
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
    [t("supervisor.queued"), fmtCount(totals.queued), formulaOf("queued")],
    [t("supervisor.answered"), fmtCount(totals.answered), formulaOf("answered")],
    ["ASA", fmtSeconds(totals.asa_s), formulaOf("asa_s")],
    [t("supervisor.service_level"), fmtPct(totals.service_level), formulaOf("service_level")],
    [t("supervisor.abandonment"), fmtPct(totals.abandonment_rate), `${formulaOf("abandonment_rate")}\n${t("supervisor.abandoned_short", { abandoned: totals.abandoned, short: totals.short_abandons })}`],
    ["AHT", fmtSeconds(totals.aht_s), formulaOf("aht_s")],
    [t("supervisor.first_response"), fmtSeconds(totals.first_response_median_s), `${formulaOf("first_response_median_s")}\n${t("supervisor.p90", { value: fmtSeconds(totals.first_response_p90_s) })}`],
    ["CSAT", fmtPct(totals.csat), `${formulaOf("csat")}\n${t("supervisor.ratings", { count: totals.ratings })}`],
  ];
  $("report-tiles").replaceChildren(...tiles.map(([label, value, title]) => h("div", { class: "tile", title }, h("span", { class: "label", text: label }), h("span", { class: "value", text: value }))));
  lineChart($("chart-volume"), {
    labels,
    series: [
      { name: t("supervisor.queued"), values: series.rows.map((r) => r.queued) },
      { name: t("supervisor.answered"), values: series.rows.map((r) => r.answered) },
      { name: t("supervisor.abandoned"), values: series.rows.map((r) => r.abandoned) },
    ],
    format: (v) => fmtCount(v),
    integer: true,
    emptyText: t("supervisor.no_contact_range"),
  });
  lineChart($("chart-asa"), {
    labels,
    series: [
      { name: t("supervisor.asa"), values: series.rows.map((r) => r.asa_s) },
      { name: t("supervisor.first_response_median"), values: series.rows.map((r) => r.first_response_median_s) },
    ],
    format: fmtSeconds,
    emptyText: t("supervisor.no_contact_answered_range"),
  });
  lineChart($("chart-sl"), {
    labels,
    series: [{ name: t("supervisor.service_level"), values: series.rows.map((r) => r.service_level) }],
    format: fmtPct,
    max: 1,
    target: state.rules.service_level_target || 0.8,
    emptyText: t("supervisor.no_contact_answered_abandoned_range"),
  });
  const cutBy = cut.by;
  const sums = sumByKey(cut.rows);
  const keys = [...sums.keys()].sort((a, b) => sums.get(b).queued - sums.get(a).queued || a.localeCompare(b)).slice(0, 12);
  $("bars-title").textContent = t(`supervisor.bars_by.${cutBy}`);
  barChart($("chart-bars"), {
    categories: keys.map((k) => keyLabel(cutBy, k)),
    series: [
      { name: t("supervisor.queued"), values: keys.map((k) => (cutBy === "agent" ? null : sums.get(k).queued)) },
      { name: t("supervisor.answered"), values: keys.map((k) => sums.get(k).answered) },
      { name: t("supervisor.abandoned"), values: keys.map((k) => (cutBy === "agent" ? null : sums.get(k).abandoned)) },
    ],
    format: (v) => fmtCount(v),
    integer: true,
    emptyText: t("supervisor.no_contact_range"),
  });
  const rows = by ? cut.rows : series.rows;
  const columns = ["queued", "answered", "abandoned", "short_abandons", "asa_s", "service_level", "abandonment_rate", "aht_s", "first_response_median_s", "csat"];
  const fmt = (name, v) => (name.endsWith("_s") ? fmtSeconds(v) : ["service_level", "abandonment_rate", "csat"].includes(name) ? fmtPct(v) : fmtCount(v));
  $("report-table").replaceChildren(
    h("thead", {}, h("tr", {}, h("th", { text: t("supervisor.interval") }), by ? h("th", { class: "left", text: t(`supervisor.cut.${by}`) }) : null, columns.map((c) => h("th", { text: t(`supervisor.col.${c}`), title: formulaOf(c) })))),
    h(
      "tbody",
      {},
      rows
        .filter((r) => by || r.queued || rows.length <= 96)
        .map((r) => h("tr", {}, h("td", { text: intervalLabel(r.interval_start, interval, multiDay) }), by ? h("td", { class: "left", text: keyLabel(by, r.key) }) : null, columns.map((c) => h("td", { text: fmt(c, r[c]) })))),
    ),
  );
  $("report-note").textContent = t("supervisor.report_note", { count: series.contacts, start: rangeLabel(series.start, series.tz), end: rangeLabel(series.end, series.tz), zone: series.tz });
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
    // A CSV for people: headers and dates in the page's language (Jalali dates in fa).
    await downloadFile(reportQuery({ format: "csv", locale: t.locale, ...(by ? { by } : {}) }), filename, state.token);
  } catch (err) {
    error.textContent = t("supervisor.csv_failed", { why: err.message });
  }
});

// ------------------------------------------------------------------ go

if (state.token && state.user) start();
else showLogin();
