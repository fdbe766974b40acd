/*
 * Agent console.
 *
 * Signs in over REST (token kept in sessionStorage), then speaks the agent side of the
 * WebSocket protocol (contact_center/protocol.py): status, offers with their expiry
 * (corrected for clock skew), several chats at once, receipts, typing, transfer, end
 * with a disposition, the live queue view, a history of past contacts, and voice and
 * video calls (call-engine.js does the WebRTC; the call UI is below).  Every
 * piece of visitor-provided text is put into the DOM as text, never parsed as HTML;
 * links built from visitor URLs are http(s) only.
 */

import { $, clearSession, createApi, fmtClock, h, loadSession, saveSession, showLogin, signIn } from "/static/common/staff.js";
import { followUserLocale, loadI18n, localePicker } from "/static/common/i18n.js";
import { CallEngine, callsSupported, claimDeviceId } from "./call-engine.js";
import { attachSavedReplies } from "./saved-replies.js";

// The page's language first: nothing is drawn before its texts are here.
const t = await loadI18n();

const SESSION_KEY = "nwcc.agent"; // sessionStorage: nwcc.agent.token, nwcc.agent.user
const CONVERSATION_TYPES = new Set([
  "chat.message",
  "contact.joined",
  "contact.transferred",
  "contact.ended",
  "contact.rated",
]);
// Labels by code: the catalogue's "label.*" keys (shared by the staff pages) and the
// console's own.  A code the catalogue does not know shows as itself.
const label = (prefix, code) => (t.has(`${prefix}.${code}`) ? t(`${prefix}.${code}`) : String(code || "").replace(/_/g, " "));
const DISPOSITION = (code) => label("label.disposition", code);
const STAGE = (code) => label("label.stage", code);
const STATE_LABEL = (code) => label("label.agent_state", code);
// Why the state changed (agent.state reason); "requested" needs no word.
const REASON = (code) => (code === "requested" ? "" : t.has(`console.reason.${code}`) ? t(`console.reason.${code}`) : undefined);
const REFUSAL = (code) => label("console.refusal", code);
// Reasons an agent picks when going away (agent.status reason), shown in the status pill.
const AWAY_REASONS = new Set(["break", "lunch", "meeting", "training", "admin", "logout"]);
const AWAY_REASON = (code) => (AWAY_REASONS.has(code) ? t(`console.away_reason.${code}`) : "");

// ------------------------------------------------------------------ helpers

/** Only http(s) URLs become links; anything else (javascript:, data:) stays text. */
function safeHref(url) {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch (_e) {
    return null;
  }
}

function linkOrText(url, text) {
  const href = safeHref(url);
  if (!href) return h("bdi", { class: "break" }, text || url || "—");
  return h("a", { href, target: "_blank", rel: "noopener noreferrer nofollow", class: "break", dir: "ltr" }, text || url);
}

let idCounter = 0;
function newId(prefix) {
  idCounter += 1;
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}${idCounter}`;
}

/** Time of day of an epoch-seconds instant ("14:05"); "" for none. */
function fmtTime(at) {
  return at ? t.time(at) : "";
}

/** Day and time, in the locale's calendar (Jalali in fa). */
function fmtDate(at) {
  return at ? t.date(at, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }) : "";
}

function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
  return ((parts[0] || "?")[0] + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

function stageBadge(stage) {
  const key = t.has(`label.stage.${stage}`) ? stage : "unknown";
  return h("span", { class: `badge stage stage-${key}`, "data-stage": key }, STAGE(key));
}

function statusBadge(status) {
  const code = String(status).replace(/[^a-z_]/g, "");
  return h("span", { class: `badge status status-${code}`, "data-status": code }, label("label.status", code));
}

function stars(n) {
  if (!n) return h("span", { class: "muted" }, "—");
  return h("span", { class: "stars", "aria-label": t("console.stars", { rating: n, best: 5 }) }, "★".repeat(n) + "☆".repeat(5 - n));
}

// ------------------------------------------------------------------ state

const state = {
  ...loadSession(SESSION_KEY), // token, user
  ws: null,
  welcomed: false,
  attempt: 0,
  reconnectTimer: null,
  pingTimer: null,
  loggingOut: false,
  skew: 0, // server clock minus ours, in seconds
  agentState: "offline",
  stateReason: "",
  wrapUntil: null,
  offers: new Map(),
  chats: new Map(),
  closed: new Set(),
  active: null,
  tab: "chats",
  queues: [],
  // Colleagues to transfer to (GET /api/agents), loaded when the dialog first opens.
  colleagues: [],
  queueView: null,
  history: [],
  historyDetail: null,
  mode: "chat", // chat | history
  unacked: new Map(),
  declining: null,
  // Chats this agent asked for (accept, take): shown as soon as they are assigned.
  wanted: new Set(),
  // Names/stages of waiting contacts that queue.view sent without them (looked up).
  waitingMeta: new Map(),
  typingOn: false,
  typingSentAt: 0,
  typingTimer: null,
  typingFor: null,
  // Calls: this tab's device id (hello.device_id; a duplicated tab takes a new one).
  deviceId: claimDeviceId(sessionStorage, "nwcc.agent.device"),
  // Ids of frames whose errors are not worth a toast (call.stats samples).
  quiet: new Set(),
  // The calls of the contact open in History (GET /api/calls?contact_id=).
  historyCalls: [],
  callsKey: "",
  // contact id -> the element the journey panel draws the visitor's path into (drawn
  // once per contact; re-renders of the context move the same element).
  journeyBoxes: new Map(),
};

function serverNow() {
  return Date.now() / 1000 + state.skew;
}

function newChat(summary) {
  return {
    id: summary.id,
    summary,
    events: new Map(),
    contig: 0,
    status: summary.status === "active" ? "active" : summary.status,
    unread: 0,
    seenSeq: 0,
    visitorTyping: false,
    typingTimer: null,
    visitorReadSeq: summary.visitor_read_seq || 0,
    visitorDeliveredSeq: summary.visitor_read_seq || 0,
    sentDelivered: summary.agent_read_seq || 0,
    sentRead: summary.agent_read_seq || 0,
    pending: new Map(),
    draft: "",
    detail: null,
    detailAt: 0,
    endedBy: "",
    disposition: "",
    rating: summary.csat || null,
  };
}

// ------------------------------------------------------------------ REST

const api = createApi({
  token: () => state.token,
  onExpired: () => signOut(t("staff.session_expired")),
});

// ------------------------------------------------------------------ sign in / out

signIn($("login-form"), {
  storageKey: SESSION_KEY,
  onSignedIn: ({ token, user }) => {
    Object.assign(state, { token, user });
    if (followUserLocale(user, t)) return; // reloads in the user's language
    startConsole();
  },
});
localePicker($("login-locale"), t, null, "login-locale-select");

function signOut(message) {
  if (calls.live) calls.hangup();
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
  clearSession(SESSION_KEY);
  state.token = "";
  state.user = null;
  state.chats.clear();
  state.offers.clear();
  state.active = null;
  showLogin(message || t("staff.signed_out"));
}

$("logout").addEventListener("click", () => {
  // Go away first so no new chat is offered while the socket's grace period runs.
  if (state.welcomed) {
    rawSend({ type: "agent.status", id: newId("status"), status: "away", reason: "logout" });
    setTimeout(() => signOut(), 150);
  } else {
    signOut();
  }
});

async function startConsole() {
  $("login-view").hidden = true;
  $("app").hidden = false;
  state.loggingOut = false;
  $("me-name").textContent = state.user ? state.user.display_name || state.user.username : "";
  $("me-avatar").textContent = initials(state.user && (state.user.display_name || state.user.username));
  localePicker($("locale-slot"), t, api);
  loadQueues();
  loadColleagues();
  connect();
  render();
}

async function loadQueues() {
  try {
    state.queues = await api("GET", "/api/admin/queues");
    render();
  } catch (_e) {
    /* the queue view still works from queue.view events */
  }
}

// ------------------------------------------------------------------ socket

function connect() {
  if (!state.token || state.loggingOut) return;
  clearTimeout(state.reconnectTimer);
  state.reconnectTimer = null;
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/agent`;
  const ws = new WebSocket(url);
  state.ws = ws;
  state.welcomed = false;
  setConn("connecting");
  ws.addEventListener("open", () => {
    const resume = [];
    for (const chat of state.chats.values()) {
      if (chat.status === "active") resume.push({ contact_id: chat.id, after_seq: contig(chat) });
    }
    ws.send(JSON.stringify({ type: "hello", token: state.token, resume, device_id: state.deviceId, locale: t.locale }));
  });
  ws.addEventListener("message", (msg) => {
    if (ws !== state.ws) return;
    let event;
    try {
      event = JSON.parse(msg.data);
    } catch (_e) {
      return;
    }
    onEvent(event);
  });
  ws.addEventListener("close", (ev) => {
    if (ws !== state.ws) return;
    state.ws = null;
    state.welcomed = false;
    clearInterval(state.pingTimer);
    if (state.loggingOut) return;
    if (ev.code === 4401) {
      signOut(t("staff.session_expired"));
      return;
    }
    if (ev.code === 4403) {
      signOut(t("console.not_allowed"));
      return;
    }
    setConn("offline");
    scheduleReconnect(ev.code === 4429 ? 4 : 0);
  });
}

function scheduleReconnect(extra) {
  if (state.reconnectTimer || state.loggingOut) return;
  state.attempt = Math.min(10, state.attempt + 1 + (extra || 0));
  const delay = Math.min(15000, 400 * 2 ** (state.attempt - 1)) * (0.75 + Math.random() * 0.5);
  setConn("offline", Math.round(delay / 1000));
  state.reconnectTimer = setTimeout(() => {
    state.reconnectTimer = null;
    connect();
  }, delay);
}

function rawSend(frame) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN && state.welcomed) {
    state.ws.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

/** Frames with an id are kept until acknowledged and resent with the same id. */
function request(frame) {
  if (!frame.id) frame.id = newId(frame.type.replace(".", ""));
  state.unacked.set(frame.id, frame);
  rawSend(frame);
  return frame.id;
}

function setConn(kind, retryIn) {
  const el = $("conn");
  el.className = `conn conn-${kind}`;
  el.dataset.state = kind;
  $("conn-text").textContent =
    kind === "online" ? t("console.conn.online") : kind === "connecting" ? t("staff.connecting") : retryIn ? t("console.conn.retry_in", { seconds: retryIn }) : t("call.reconnecting");
}

window.addEventListener("online", () => {
  if (!state.ws && state.token) connect();
});

// ------------------------------------------------------------------ events

function onEvent(event) {
  if (calls.onEvent(event)) return;
  switch (event.type) {
    case "welcome":
      onWelcome(event);
      break;
    case "ack":
      onAck(event);
      break;
    case "error":
      onError(event);
      break;
    case "pong":
      if (event.server_time) state.skew = event.server_time - Date.now() / 1000;
      break;
    case "agent.state":
      state.agentState = event.state;
      state.stateReason = event.reason || "";
      state.wrapUntil = event.state === "wrap_up" ? event.until || null : null;
      render();
      break;
    case "offer":
      onOffer(event);
      break;
    case "offer.revoked":
      onOfferRevoked(event);
      break;
    case "refused":
      state.offers.delete(event.contact_id);
      toast(t(`console.refused.${event.action === "take" ? "take" : "accept"}`, { why: REFUSAL(event.reason) }), "warn");
      render();
      break;
    case "contact.assigned":
      onAssigned(event.contact);
      break;
    case "contact.released":
      onReleased(event);
      break;
    case "chat.typing":
      if (event.by === "visitor") onVisitorTyping(event);
      break;
    case "chat.receipt":
      if (event.by === "visitor") {
        const chat = state.chats.get(event.contact_id);
        if (!chat) break;
        chat.visitorDeliveredSeq = Math.max(chat.visitorDeliveredSeq, event.seq);
        if (event.state === "read") chat.visitorReadSeq = Math.max(chat.visitorReadSeq, event.seq);
        render();
      }
      break;
    case "visitor.page": {
      // The visitor moved to another page while the chat is open.
      const chat = state.chats.get(event.contact_id);
      if (!chat) break;
      chat.summary = { ...chat.summary, current_page_url: event.url, current_page_title: event.title || "" };
      render();
      break;
    }
    case "queue.view":
      state.queueView = { ...event, receivedAt: Date.now() / 1000 };
      state.skew = event.server_time - Date.now() / 1000;
      render();
      break;
    default:
      if (CONVERSATION_TYPES.has(event.type) && typeof event.seq === "number") onConversationEvent(event);
  }
}

function onWelcome(event) {
  state.welcomed = true;
  state.attempt = 0;
  state.skew = event.server_time - Date.now() / 1000;
  if (event.state) state.agentState = event.state;
  setConn("online");
  const listed = new Set();
  for (const summary of event.contacts || []) {
    listed.add(summary.id);
    let chat = state.chats.get(summary.id);
    if (!chat) {
      chat = newChat(summary);
      state.chats.set(summary.id, chat);
      loadDetail(chat);
    }
    chat.summary = { ...chat.summary, ...summary };
    chat.status = "active";
  }
  // Chats we thought active but the server no longer gives us were taken away while we
  // were disconnected (re-queued after the grace period).
  for (const chat of state.chats.values()) {
    if (chat.status === "active" && !listed.has(chat.id)) {
      chat.status = "released";
      chat.releasedReason = "requeued";
    }
  }
  for (const offer of event.offers || []) onOffer(offer);
  if (!state.active) {
    const first = Array.from(state.chats.values()).find((c) => c.status === "active");
    if (first) state.active = first.id;
  }
  for (const frame of state.unacked.values()) rawSend(frame);
  clearInterval(state.pingTimer);
  state.pingTimer = setInterval(() => rawSend({ type: "ping", id: newId("ping") }), 25000);
  state.quiet.clear();
  calls.partyId = event.party_id || "";
  calls.socketUp();
  render();
}

function onAck(event) {
  state.quiet.delete(event.id);
  const frame = state.unacked.get(event.id);
  state.unacked.delete(event.id);
  if (!frame) return;
  if (frame.type.startsWith("call.")) {
    calls.acked(frame, event);
    return;
  }
  switch (frame.type) {
    case "chat.message": {
      // The ack carries the seq and stands for the message: the server does not echo
      // it back to this socket (an echo from another bus is dropped by seq).
      const chat = state.chats.get(frame.contact_id);
      const pending = chat && chat.pending.get(frame.id);
      if (chat) chat.pending.delete(frame.id);
      if (chat && typeof event.seq === "number") {
        onConversationEvent({
          type: "chat.message",
          contact_id: frame.contact_id,
          seq: event.seq,
          at: pending ? pending.at : serverNow(),
          sender: { kind: "agent", id: state.user ? state.user.id : "", name: state.user ? state.user.display_name : "" },
          body: frame.body,
          client_id: frame.id,
        });
      }
      break;
    }
    case "contact.end": {
      const chat = state.chats.get(frame.contact_id);
      if (chat) {
        chat.disposition = frame.disposition;
        if (chat.status === "active") chat.status = "ended";
      }
      break;
    }
    case "contact.transfer": {
      const chat = state.chats.get(frame.contact_id);
      if (chat) {
        chat.status = "released";
        chat.releasedReason = "transferred";
      }
      toast(t("console.transferred_to", { target: frame.to_agent ? colleagueName(frame.to_agent) : queueName(frame.to_queue) }), "ok");
      closeChat(frame.contact_id);
      break;
    }
    case "offer.decline":
      state.offers.delete(frame.contact_id);
      break;
    default:
      break;
  }
  render();
}

function onError(event) {
  if (event.ref && state.quiet.delete(event.ref)) return;
  const frame = event.ref ? state.unacked.get(event.ref) : null;
  if (frame && frame.type.startsWith("call.")) {
    state.unacked.delete(event.ref);
    calls.refused(frame, event);
    if (frame.type === "call.invite") toast(t("console.call_not_placed", { why: event.message || event.code }), "error");
    render();
    return;
  }
  if (frame) {
    state.unacked.delete(event.ref);
    if (frame.type === "chat.message") {
      const chat = state.chats.get(frame.contact_id);
      const pending = chat && chat.pending.get(frame.id);
      if (pending) pending.failed = event.code;
    }
  }
  toast(event.message ? `${event.message}` : t("console.error_code", { code: event.code }), "error");
  render();
}

function onOffer(event) {
  const skew = event.server_time ? event.server_time - Date.now() / 1000 : state.skew;
  const existing = state.offers.get(event.contact.id);
  state.offers.set(event.contact.id, {
    contact: event.contact,
    expiresAt: event.expires_at,
    skew,
    total: Math.max(1, event.expires_at - (event.server_time || serverNow())),
    accepting: existing ? existing.accepting : false,
  });
  if (!existing) {
    const channel = ["voice", "video"].includes(event.contact.channel) ? event.contact.channel : "chat";
    notify(t(`console.new_offer.${channel}`, { name: event.contact.name || t("console.a_visitor") }));
  }
  render();
}

function onOfferRevoked(event) {
  const offer = state.offers.get(event.contact_id);
  state.offers.delete(event.contact_id);
  if (offer && event.reason !== "declined" && event.reason !== "accepted") {
    const why = ["expired", "abandoned", "transferred", "agent_unavailable"].includes(event.reason) ? t(`console.revoked.${event.reason}`) : event.reason;
    const channel = ["voice", "video"].includes(offer.contact.channel) ? offer.contact.channel : "chat";
    toast(t(`console.withdrawn.${channel}`, { name: offer.contact.name || t("console.visitor"), why }), "warn");
  }
  render();
}

function onAssigned(summary) {
  state.offers.delete(summary.id);
  state.closed.delete(summary.id);
  let chat = state.chats.get(summary.id);
  if (!chat) {
    chat = newChat(summary);
    state.chats.set(summary.id, chat);
  }
  chat.summary = { ...chat.summary, ...summary };
  chat.status = "active";
  const current = state.active ? state.chats.get(state.active) : null;
  if (state.wanted.delete(summary.id) || !current || current.status !== "active" || state.mode === "history") {
    selectChat(summary.id);
  }
  loadDetail(chat);
  render();
}

function onReleased(event) {
  const chat = state.chats.get(event.contact_id);
  if (!chat) return;
  if (chat.status === "active") {
    chat.status = event.reason === "transferred" ? "released" : "ended";
    chat.releasedReason = event.reason;
  }
  chat.visitorTyping = false;
  render();
}

function onVisitorTyping(event) {
  const chat = state.chats.get(event.contact_id);
  if (!chat) return;
  chat.visitorTyping = !!event.typing;
  clearTimeout(chat.typingTimer);
  if (chat.visitorTyping) {
    chat.typingTimer = setTimeout(() => {
      chat.visitorTyping = false;
      render();
    }, 8000);
  }
  render();
}

function contig(chat) {
  while (chat.events.has(chat.contig + 1)) chat.contig += 1;
  return chat.contig;
}

function onConversationEvent(event) {
  let chat = state.chats.get(event.contact_id);
  if (!chat) {
    if (state.closed.has(event.contact_id)) return;
    return; // not ours (yet): contact.assigned creates the chat before its history arrives
  }
  if (chat.events.has(event.seq)) return; // deduplicate replay vs live
  const expected = contig(chat) + 1;
  chat.events.set(event.seq, event);
  if (event.seq > expected && chat.status === "active") {
    rawSend({ type: "sync", contact_id: chat.id, after_seq: expected - 1, id: newId("sync") });
  }
  switch (event.type) {
    case "chat.message":
      if (event.sender && event.sender.kind === "agent" && event.client_id) chat.pending.delete(event.client_id);
      if (event.sender && event.sender.kind === "visitor") {
        chat.visitorTyping = false;
        scheduleReceipts();
      }
      break;
    case "contact.ended":
      if (chat.status === "active") chat.status = "ended";
      chat.endedBy = event.by;
      chat.visitorTyping = false;
      break;
    case "contact.rated":
      chat.rating = event.rating;
      break;
    case "contact.transferred":
      break;
    default:
      break;
  }
  render();
}

// ------------------------------------------------------------------ receipts & typing

let receiptTimer = null;
function scheduleReceipts() {
  if (receiptTimer) return;
  receiptTimer = setTimeout(() => {
    receiptTimer = null;
    flushReceipts();
  }, 60);
}

function lastVisitorSeq(chat) {
  let seq = 0;
  for (const ev of chat.events.values()) {
    if (ev.type === "chat.message" && ev.sender && ev.sender.kind === "visitor" && ev.seq > seq) seq = ev.seq;
  }
  return seq;
}

function chatVisible(chat) {
  return state.mode === "chat" && state.active === chat.id && document.visibilityState === "visible";
}

function flushReceipts() {
  for (const chat of state.chats.values()) {
    if (chat.status !== "active") continue;
    const seq = lastVisitorSeq(chat);
    if (!seq) continue;
    if (seq > chat.sentDelivered && rawSend({ type: "chat.receipt", contact_id: chat.id, seq, state: "delivered" })) {
      chat.sentDelivered = seq;
    }
    if (chatVisible(chat) && seq > chat.sentRead && rawSend({ type: "chat.receipt", contact_id: chat.id, seq, state: "read" })) {
      chat.sentRead = seq;
    }
  }
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    flushReceipts();
    render();
    if (!state.ws && state.token && !state.loggingOut) connect();
  }
});

function typingInput() {
  const chat = activeChat();
  if (!chat || chat.status !== "active") return;
  const now = Date.now();
  if (!state.typingOn || state.typingFor !== chat.id || now - state.typingSentAt > 4000) {
    if (rawSend({ type: "chat.typing", contact_id: chat.id, typing: true })) {
      state.typingOn = true;
      state.typingFor = chat.id;
      state.typingSentAt = now;
    }
  }
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(stopTyping, 3000);
}

function stopTyping() {
  clearTimeout(state.typingTimer);
  if (!state.typingOn) return;
  state.typingOn = false;
  const chat = state.chats.get(state.typingFor);
  if (chat && chat.status === "active") rawSend({ type: "chat.typing", contact_id: chat.id, typing: false });
}

// ------------------------------------------------------------------ actions

function activeChat() {
  return state.mode === "chat" && state.active ? state.chats.get(state.active) || null : null;
}

function selectChat(id) {
  const previous = activeChat();
  if (previous) previous.draft = $("composer-input").value;
  stopTyping();
  state.mode = "chat";
  state.active = id;
  state.tab = "chats";
  const chat = state.chats.get(id);
  $("composer-input").value = chat ? chat.draft : "";
  autosize();
  if (chat && Date.now() - chat.detailAt > 30000) loadDetail(chat);
  render();
  flushReceipts();
  requestAnimationFrame(() => {
    const scroller = $("scroller");
    scroller.scrollTop = scroller.scrollHeight;
    if (chat && chat.status === "active") $("composer-input").focus();
  });
}

function closeChat(id) {
  state.chats.delete(id);
  state.closed.add(id);
  if (state.active === id) {
    const next = Array.from(state.chats.values()).find((c) => c.status === "active") || state.chats.values().next().value;
    state.active = next ? next.id : null;
  }
  render();
}

function acceptOffer(id) {
  const offer = state.offers.get(id);
  if (!offer) return;
  offer.accepting = true;
  state.wanted.add(id);
  request({ type: "offer.accept", contact_id: id });
  render();
}

function declineOffer(id) {
  state.declining = id;
  $("decline-reason").value = "";
  $("decline-dialog").showModal();
}

$("decline-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const id = state.declining;
  $("decline-dialog").close();
  if (!id || !state.offers.has(id)) return;
  const frame = { type: "offer.decline", contact_id: id };
  const reason = $("decline-reason").value.trim();
  if (reason) frame.reason = reason.slice(0, 256);
  request(frame);
  state.offers.delete(id);
  render();
});

function sendMessage(body) {
  const chat = activeChat();
  if (!chat || chat.status !== "active") return;
  stopTyping();
  const id = newId("msg");
  chat.pending.set(id, { id, body, at: serverNow() });
  request({ type: "chat.message", id, contact_id: chat.id, body });
  render();
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("composer-input");
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  autosize();
  sendMessage(text.slice(0, 4000));
  input.focus();
});

// Saved replies: "/" in the composer opens the picker (saved-replies.js); the
// variables are the open chat's.
attachSavedReplies({
  t,
  api,
  toast,
  input: $("composer-input"),
  form: $("composer"),
  openButton: $("sr-open"),
  dialog: $("sr-dialog"),
  user: () => state.user,
  context: () => {
    const chat = activeChat();
    const queueId = chat ? chat.summary.queue_id : "";
    const me = state.user || {};
    const queue = queueId ? queueName(queueId) : "";
    return {
      queueId,
      queueName: queue,
      values: {
        "visitor.name": (chat && chat.summary.name) || t("console.visitor"),
        "agent.name": me.display_name || me.username || "",
        "queue.name": queue,
      },
    };
  },
});

$("composer-input").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("composer").requestSubmit();
  }
});

$("composer-input").addEventListener("input", () => {
  autosize();
  if ($("composer-input").value.trim()) typingInput();
  else stopTyping();
});
$("composer-input").addEventListener("blur", stopTyping);

function autosize() {
  const input = $("composer-input");
  input.style.height = "auto";
  input.style.height = Math.min(input.scrollHeight, 160) + "px";
}

$("end-btn").addEventListener("click", () => {
  if (!activeChat()) return;
  $("end-disposition").value = "resolved";
  $("end-dialog").showModal();
});

$("end-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const chat = activeChat();
  $("end-dialog").close();
  if (!chat || chat.status !== "active") return;
  stopTyping();
  request({ type: "contact.end", contact_id: chat.id, disposition: $("end-disposition").value });
});

async function loadColleagues() {
  try {
    state.colleagues = await api("GET", "/api/agents");
    render();
  } catch (_e) {
    /* the dialog still offers the queues */
  }
}

function colleagueName(id) {
  const c = state.colleagues.find((x) => x.id === id);
  return c ? c.display_name || c.id : t("console.a_colleague");
}

$("transfer-btn").addEventListener("click", async () => {
  const chat = activeChat();
  if (!chat) return;
  await Promise.all([state.queues.length ? null : loadQueues(), loadColleagues()]);
  const select = $("transfer-target");
  const me = state.user ? state.user.id : null;
  const queues = h(
    "optgroup",
    { label: t("console.transfer.queues") },
    ...state.queues.map((q) => {
      const status = q.status;
      const name = queueLabel(q);
      const text = !status
        ? name
        : status.open
          ? t("console.transfer.queue_open", { name, available: status.agents_available, waiting: status.waiting })
          : t("console.transfer.queue_closed", { name });
      return h("option", { value: `queue:${q.id}` }, text);
    }),
  );
  const people = state.colleagues.filter((c) => c.id !== me);
  const colleagues = people.length
    ? h(
        "optgroup",
        { label: t("console.transfer.colleagues") },
        ...people.map((c) =>
          h("option", { value: `agent:${c.id}` }, c.role === "agent" ? c.display_name || c.id : t("console.transfer.colleague_role", { name: c.display_name || c.id, role: label("label.role", c.role) })),
        ),
      )
    : null;
  select.replaceChildren(queues, ...(colleagues ? [colleagues] : []));
  const other = state.queues.find((q) => q.id !== chat.summary.queue_id);
  if (other) select.value = `queue:${other.id}`;
  $("transfer-note").value = "";
  $("transfer-dialog").showModal();
});

$("transfer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const chat = activeChat();
  $("transfer-dialog").close();
  if (!chat || chat.status !== "active") return;
  const [kind, ...rest] = $("transfer-target").value.split(":");
  const target = rest.join(":");
  if (!target) return;
  stopTyping();
  const frame = { type: "contact.transfer", contact_id: chat.id, note: $("transfer-note").value.trim().slice(0, 2000) };
  if (kind === "agent") frame.to_agent = target;
  else frame.to_queue = target;
  request(frame);
});

for (const dialog of document.querySelectorAll("dialog")) {
  dialog.addEventListener("click", (event) => {
    if (event.target.closest("[data-close]")) dialog.close();
    if (event.target === dialog) dialog.close(); // click on the backdrop
  });
}

$("close-chat").addEventListener("click", () => {
  if (state.mode === "history") {
    state.mode = "chat";
    state.historyDetail = null;
    render();
    return;
  }
  if (state.active) closeChat(state.active);
});

$("status-available").addEventListener("click", () => request({ type: "agent.status", status: "available" }));

// Away asks why (the reason goes with agent.status and shows in the status pill).
function setAwayMenu(open) {
  const menu = $("away-menu");
  const button = $("status-away");
  menu.hidden = !open;
  button.setAttribute("aria-expanded", open ? "true" : "false");
  if (!open) return;
  const box = button.getBoundingClientRect();
  // The menu opens under its button, from the button's start edge (right in RTL).
  if (t.dir === "rtl") menu.style.right = `${Math.round(window.innerWidth - box.right)}px`;
  else menu.style.left = `${Math.round(box.left)}px`;
  menu.style.top = `${Math.round(box.bottom + 6)}px`;
  const first = menu.querySelector("button");
  if (first) first.focus();
}
$("status-away").addEventListener("click", () => setAwayMenu($("away-menu").hidden));
$("away-menu").addEventListener("click", (event) => {
  const item = event.target.closest("[data-reason]");
  if (!item) return;
  setAwayMenu(false);
  request({ type: "agent.status", status: "away", reason: item.dataset.reason });
  $("status-away").focus();
});
$("away-menu").addEventListener("keydown", (event) => {
  const items = Array.from($("away-menu").querySelectorAll("button"));
  const at = items.indexOf(document.activeElement);
  if (event.key === "Escape") {
    setAwayMenu(false);
    $("status-away").focus();
  } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    items[(at + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length].focus();
  }
});
document.addEventListener("click", (event) => {
  if (!$("away-menu").hidden && !event.target.closest("#away-menu, #status-away")) setAwayMenu(false);
});
$("wrapup-end").addEventListener("click", () => request({ type: "wrapup.end" }));

$("toggle-context").addEventListener("click", () => {
  const open = !document.body.classList.contains("context-open");
  document.body.classList.toggle("context-open", open);
  document.body.classList.toggle("context-closed", !open);
  $("toggle-context").setAttribute("aria-expanded", open ? "true" : "false");
});

for (const tab of ["chats", "queue", "history"]) {
  $(`tab-${tab}`).addEventListener("click", () => {
    state.tab = tab;
    if (tab === "history") loadHistory();
    if (tab === "queue" && !state.queues.length) loadQueues();
    render();
  });
}
$("tab-chats").parentElement.addEventListener("keydown", (event) => {
  if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
  const order = ["chats", "queue", "history"];
  // Tabs run with the text: the arrow towards its end moves on.
  const forward = (event.key === "ArrowRight") === (t.dir !== "rtl");
  const next = order[(order.indexOf(state.tab) + (forward ? 1 : 2)) % 3];
  $(`tab-${next}`).click();
  $(`tab-${next}`).focus();
});

$("history-refresh").addEventListener("click", loadHistory);

function takeContact(id) {
  state.wanted.add(id);
  request({ type: "contact.take", contact_id: id });
}

// ------------------------------------------------------------------ REST-backed details

async function loadDetail(chat) {
  chat.detailAt = Date.now();
  try {
    const detail = await api("GET", `/api/contacts/${encodeURIComponent(chat.id)}`);
    chat.detail = detail;
    if (detail.contact) chat.summary = { ...chat.summary, ...detail.contact };
    render();
  } catch (_e) {
    /* shown without the extra context */
  }
}

async function loadHistory() {
  try {
    const data = await api("GET", "/api/contacts?limit=100");
    const mine = state.user ? state.user.id : null;
    state.history = (data.contacts || [])
      .filter((c) => !mine || c.agent_id === mine)
      .sort((a, b) => (b.enqueued_at || 0) - (a.enqueued_at || 0));
    state.historyLoaded = true;
    render();
  } catch (_e) {
    toast(t("console.history_failed"), "error");
  }
}

async function openHistory(id) {
  const previous = activeChat();
  if (previous) previous.draft = $("composer-input").value;
  stopTyping();
  try {
    state.historyDetail = await api("GET", `/api/contacts/${encodeURIComponent(id)}`);
    state.historyCalls = [];
    api("GET", `/api/calls?contact_id=${encodeURIComponent(id)}`)
      .then((data) => {
        if (state.historyDetail && state.historyDetail.contact.id === id) {
          state.historyCalls = data.calls || [];
          render();
        }
      })
      .catch(() => {});
    state.mode = "history";
    render();
    requestAnimationFrame(() => {
      $("scroller").scrollTop = 0;
    });
  } catch (_e) {
    toast(t("console.conversation_failed"), "error");
  }
}

// ------------------------------------------------------------------ notifications

let toastSeq = 0;
function toast(text, kind) {
  toastSeq += 1;
  const el = h("div", { class: `toast toast-${kind || "info"}`, "data-toast": toastSeq }, text);
  $("toasts").append(el);
  setTimeout(() => el.remove(), 5000);
}

function notify(text) {
  if (document.visibilityState !== "visible") {
    toast(text, "info");
  }
}

// ------------------------------------------------------------------ calls
// Voice and video calls (docs/protocol.md, "Calls"): a call from a queue rings here as
// its routing offer, a visitor may turn a chat into a call, and the agent may call the
// visitor of an open chat.  call-engine.js does the WebRTC (perfect negotiation with the
// agent polite, ICE restart, stats); this part draws the ringing cards and the call.

const CALL_CHANNELS = new Set(["voice", "video"]);
const QUALITY_WARNINGS = new Set(["high_rtt", "high_jitter", "high_loss", "low_mos"]);
const SVG_NS = "http://www.w3.org/2000/svg";
const ICONS = {
  phone: "M6.5 3.5h2.6l1.6 4.3-2.1 1.3a11.5 11.5 0 0 0 6.3 6.3l1.3-2.1 4.3 1.6v2.6a2 2 0 0 1-2.2 2A16.5 16.5 0 0 1 4.5 5.7a2 2 0 0 1 2-2.2z",
  video: "M3.5 7.5a2 2 0 0 1 2-2h8a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2h-8a2 2 0 0 1-2-2zM15.5 10.5l5-3v9l-5-3",
  "video-off": "M3.5 7.5a2 2 0 0 1 2-2h8a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2h-8a2 2 0 0 1-2-2zM15.5 10.5l5-3v9l-5-3M3 3l18 18",
  mic: "M12 3.5a3 3 0 0 1 3 3v5a3 3 0 0 1-6 0v-5a3 3 0 0 1 3-3zM5.5 11a6.5 6.5 0 0 0 13 0M12 17.5v3",
  "mic-off": "M12 3.5a3 3 0 0 1 3 3v5a3 3 0 0 1-6 0v-5a3 3 0 0 1 3-3zM5.5 11a6.5 6.5 0 0 0 13 0M12 17.5v3M4 4l16 16",
  hangup: "M2.6 13.9c5.2-4.6 13.6-4.6 18.8 0 .5.5.5 1.2 0 1.7l-1.9 1.9c-.4.4-1.1.5-1.6.1l-2.1-1.6c-.3-.3-.5-.7-.5-1.1v-1.6a11 11 0 0 0-6.6 0v1.6c0 .4-.2.8-.5 1.1l-2.1 1.6c-.5.4-1.2.3-1.6-.1l-1.9-1.9c-.5-.5-.5-1.2 0-1.7z",
};

function icon(name) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", `icon icon-${name}`);
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}

const calls = new CallEngine({
  t,
  send(frame, reliable) {
    if (reliable) {
      request(frame);
      return;
    }
    frame.id = newId("q");
    if (rawSend(frame)) state.quiet.add(frame.id);
  },
  changed(call) {
    onCallChanged(call);
  },
  // A console whose microphone fails declines a call from a queue (it goes to the next
  // agent) instead of hanging it up.
  declineOnly(call) {
    return state.offers.has(call.contactId);
  },
});

function onCallChanged(call) {
  if (call.phase === "incoming" && !call.announced) {
    call.announced = true;
    notify(t(call.media === "video" ? "console.incoming_video_from" : "console.incoming_call_from", { name: callPeerName(call) }));
  }
  if (call.phase === "ended" && call.reason === "answered_elsewhere" && !call.told) {
    call.told = true;
    toast(t("console.answered_elsewhere", { name: callPeerName(call) }), "info");
  }
  if (call.phase === "connecting" && !call.opened) {
    call.opened = true;
    if (state.chats.has(call.contactId) && state.active !== call.contactId) selectChat(call.contactId);
  }
  // A step of a call redraws the console; a detail (a stats sample, the visitor muted)
  // only the call, so the conversation is not rebuilt (nor a selection lost) every few
  // seconds.
  const key = Array.from(calls.calls.values(), (c) => `${c.id}:${c.phase}:${c.serverState}:${c.contactId}:${c.error}`).join("|");
  if (key !== state.callsKey) {
    state.callsKey = key;
    render();
  } else {
    renderCall();
  }
}

function callPeerName(call) {
  const chat = call.contactId ? state.chats.get(call.contactId) : null;
  const offer = call.contactId ? state.offers.get(call.contactId) : null;
  return (chat && chat.summary.name) || (offer && offer.contact.name) || call.peerName || t("console.visitor");
}

function callVisitor(media) {
  const chat = activeChat();
  if (!chat || chat.status !== "active" || calls.live) return;
  calls.place({ media, contactId: chat.id, peerName: chat.summary.name || t("console.visitor") });
}

// Leaving the page ends the call it is on (its media goes with the page).
window.addEventListener("pagehide", () => {
  if (calls.live) calls.hangup();
});

$("call-audio-btn").prepend(icon("phone"));
$("call-video-btn").prepend(icon("video"));
$("call-audio-btn").addEventListener("click", () => callVisitor("audio"));
$("call-video-btn").addEventListener("click", () => callVisitor("video"));

function fmtTimer(ms) {
  return fmtClock(ms / 1000);
}

function callStatus(call) {
  switch (call.phase) {
    case "outgoing":
      if (!call.inviteSent) return t(call.media === "video" ? "call.starting_camera" : "call.starting_microphone");
      return t(call.serverState === "ringing" ? "call.ringing" : "call.calling");
    case "answering":
    case "connecting":
      return t("call.connecting");
    case "active":
      return fmtTimer(Date.now() - call.activeAt);
    case "reconnecting":
      return t("call.reconnecting");
    default:
      return callEndText(call);
  }
}

function callEndText(call) {
  const duration = call.activeAt ? fmtTimer(call.endedAt - call.activeAt) : "";
  const ended = duration ? t("call.ended_after", { duration }) : t("call.ended");
  const caller = call.role === "caller";
  const why = {
    completed: ended,
    canceled: t("call.canceled"),
    rejected: t(caller ? "console.call.visitor_declined" : "call.declined"),
    missed: t(caller ? "console.call.no_answer" : "call.missed"),
    busy: t("console.call.visitor_busy"),
    failed: t("call.could_not_connect"),
    dropped: duration ? t("console.call.lost_after", { duration }) : t("console.call.lost"),
    user_media_failed: t("console.call.media_failed"),
  }[call.reason];
  return why || ended;
}

/** The call's quality band from its MOS (a CSS class and a label). */
function qualityBand(mos) {
  if (mos >= 4) return "good";
  if (mos >= 3.5) return "fair";
  return "poor";
}

/** The call shown above the conversation: the live one, or the one that just ended
 *  (a call that only rang here ends on its card, not here). */
function stageCall() {
  if (calls.live) return calls.live;
  let ended = null;
  for (const call of calls.calls.values()) {
    const wasHere = call.role === "caller" || call.local || call.error;
    if (call.phase === "ended" && wasHere && (!ended || call.endedAt > ended.endedAt)) ended = call;
  }
  return ended;
}

function playInto(video, stream) {
  if (video.srcObject === stream) return;
  video.srcObject = stream;
  if (stream) video.play().catch(() => {}); // autoplay may wait for a click
}

let callDom = null;
function buildCallDom() {
  const remote = h("video", { class: "call-remote", autoplay: true, playsinline: true });
  const local = h("video", { class: "call-local", autoplay: true, playsinline: true, "aria-label": t("call.your_camera") });
  local.muted = true;
  const avatar = h("div", { class: "call-avatar", "aria-hidden": "true" });
  const peerState = h("span", { class: "call-pill call-peer-state" });
  const quality = h("span", { class: "call-pill call-quality", role: "status" });
  const name = h("button", {
    type: "button",
    class: "call-name",
    title: t("console.open_conversation"),
    onclick: () => {
      const call = stageCall();
      if (call && state.chats.has(call.contactId)) selectChat(call.contactId);
    },
  });
  const kind = h("span", { class: "call-kind" });
  const status = h("span", { class: "call-status", role: "status", "aria-live": "polite" });
  const stats = h("span", { class: "call-stats" });
  const button = (cls, label, onclick, ...icons) => h("button", { type: "button", class: `call-btn ${cls}`, "aria-label": label, title: label, onclick }, ...icons);
  const mute = button("mute", t("call.mute"), () => calls.live && calls.setMuted(!calls.live.muted), icon("mic"), icon("mic-off"));
  const camera = button("camera", t("call.camera_off"), () => calls.live && calls.setCameraOff(!calls.live.cameraOff), icon("video"), icon("video-off"));
  const hangup = button("hangup", t("call.hang_up"), () => calls.hangup(), icon("hangup"));
  const notice = h("p", { class: "call-notice" });
  const error = h("p", { class: "call-error", role: "alert" });
  const dismiss = h("button", { type: "button", class: "btn ghost small", onclick: () => { const c = stageCall(); if (c) calls.dismiss(c.id); } }, t("console.dismiss"));
  const stage = h("div", { class: "call-stage" }, remote, avatar, local, h("div", { class: "call-pills" }, peerState, quality));
  const bar = h(
    "div",
    { class: "call-bar" },
    h("div", { class: "call-who" }, name, h("div", { class: "call-sub" }, kind, status)),
    stats,
    h("div", { class: "call-controls" }, mute, camera, hangup),
  );
  const foot = h("div", { class: "call-foot" }, notice, error, dismiss);
  return { stage, bar, foot, remote, local, avatar, peerState, quality, name, kind, status, stats, mute, camera, hangup, notice, error, dismiss, controls: hangup.parentElement };
}

function renderCall() {
  const box = $("call");
  if (!callDom) {
    callDom = buildCallDom();
    box.append(callDom.stage, callDom.bar, callDom.foot);
  }
  const d = callDom;
  const call = stageCall();
  box.hidden = !call;
  if (!call) {
    playInto(d.remote, null);
    playInto(d.local, null);
    return;
  }
  const peer = callPeerName(call);
  const live = call.phase !== "ended";
  const video = call.media === "video";
  const remoteVideo =
    live && video && !!call.remote && !call.peer.cameraOff && call.remote.getVideoTracks().some((t) => t.readyState === "live" && !t.muted);
  const localVideo = live && video && !!call.local && !call.cameraOff && call.local.getVideoTracks().length > 0;
  box.className =
    `call phase-${call.phase} ${video ? "is-video" : "is-audio"}` +
    `${live && video ? " video-layout" : ""}${remoteVideo ? " has-remote-video" : ""}${localVideo ? " has-local-video" : ""}`;
  box.dataset.callId = call.id;
  playInto(d.remote, live ? call.remote : null);
  playInto(d.local, localVideo ? call.local : null);
  d.avatar.textContent = initials(peer);
  d.name.textContent = peer;
  d.kind.replaceChildren(icon(video ? "video" : "phone"), t(video ? "console.video_call" : "console.voice_call"));
  d.status.textContent = callStatus(call);
  const first = peer.split(" ")[0];
  const peerBits = [];
  if (live && call.peer.onHold) peerBits.push(t("call.peer_on_hold", { name: first }));
  else {
    if (live && call.peer.muted) peerBits.push(t("console.peer_muted", { name: first }));
    if (live && video && call.peer.cameraOff) peerBits.push(t("console.peer_camera_off", { name: first }));
  }
  d.peerState.hidden = !peerBits.length;
  d.peerState.textContent = peerBits.join(" · ");
  const warning = live ? call.quality.theirs || call.quality.mine : "";
  d.quality.hidden = !warning;
  const what = warning && QUALITY_WARNINGS.has(warning) ? t(`console.quality.${warning}`) : String(warning || "").replace(/_/g, " ");
  d.quality.textContent = warning
    ? call.quality.theirs
      ? t("console.quality.theirs", { name: first, what })
      : t("console.quality.yours", { what })
    : "";
  const sample = live ? call.stats : null;
  d.stats.hidden = !sample;
  if (sample) {
    const band = qualityBand(sample.mos);
    d.stats.replaceChildren(
      h("span", { class: `quality-dot quality-${band}` }),
      t("console.quality.summary", { band: t(`console.quality_band.${band}`), mos: t.num(sample.mos, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) }),
    );
    const one = { minimumFractionDigits: 1, maximumFractionDigits: 1 };
    const facts = [
      t("console.stats.rtt", { ms: Math.round(sample.rtt_ms) }),
      t("console.stats.jitter", { ms: t.num(sample.jitter_ms, one) }),
      t("console.stats.loss", { pct: t.num(sample.loss_pct, one) }),
    ];
    if (sample.bitrate_kbps !== undefined) facts.push(t("console.stats.bitrate", { kbps: Math.round(sample.bitrate_kbps) }));
    if (sample.codec) facts.push(sample.codec);
    facts.push(t(sample.relayed ? "console.stats.relayed" : "console.stats.direct"));
    d.stats.title = facts.join(t("console.list_separator"));
  }
  d.controls.hidden = !live;
  d.camera.hidden = !video || call.noCamera;
  d.mute.setAttribute("aria-pressed", call.muted ? "true" : "false");
  d.mute.setAttribute("aria-label", t(call.muted ? "call.unmute" : "call.mute"));
  d.mute.title = t(call.muted ? "call.unmute" : "call.mute");
  d.camera.setAttribute("aria-pressed", call.cameraOff ? "true" : "false");
  d.camera.setAttribute("aria-label", t(call.cameraOff ? "call.camera_on" : "call.camera_off"));
  d.camera.title = d.camera.getAttribute("aria-label");
  d.notice.hidden = !(live && call.notice);
  d.notice.textContent = call.notice;
  d.error.hidden = !call.error;
  d.error.textContent = call.error;
  d.dismiss.hidden = !(call.phase === "ended" && call.error);
  d.foot.hidden = d.notice.hidden && d.error.hidden;
}

/** History: the calls of the contact (GET /api/calls?contact_id=), with their outcome. */
function historyCallsSection(list) {
  return h(
    "section",
    { class: "context-section" },
    h("h4", null, t("console.history_calls", { count: list.length })),
    h(
      "ul",
      { class: "earlier call-history" },
      ...list.map((c) => {
        const quality = c.quality || {};
        const facts = [
          c.talk_s ? t("console.call_fact.talked", { duration: fmtClock(c.talk_s) }) : t("console.call_fact.not_answered"),
          c.ring_s !== null && c.ring_s !== undefined ? t("console.call_fact.rang", { seconds: Math.round(c.ring_s) }) : "",
          typeof quality.mos_mean === "number" ? t("console.call_fact.mos", { mos: t.num(quality.mos_mean, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) }) : "",
          c.reconnects ? t("console.call_fact.reconnects", { count: c.reconnects }) : "",
        ].filter(Boolean);
        return h(
          "li",
          { "data-call-id": c.id },
          h("div", { class: "earlier-top" }, h("strong", null, t(c.channel === "video" ? "console.video_call_at" : "console.voice_call_at", { when: fmtDate(c.invited_at) })), statusBadge(c.end_reason || c.state)),
          h("div", { class: "earlier-meta muted" }, facts.join(" · ")),
        );
      }),
    ),
  );
}

function tickCall() {
  const call = calls.live;
  if (call && call.phase === "active" && callDom) callDom.status.textContent = callStatus(call);
}

// ------------------------------------------------------------------ rendering

let renderQueued = false;
function render() {
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(() => {
    renderQueued = false;
    renderNow();
  });
}

function renderNow() {
  if ($("app").hidden) return;
  renderTopbar();
  renderTabs();
  renderOffers();
  renderCall();
  renderChatList();
  renderQueue();
  renderHistory();
  renderConversation();
  renderContext();
  renderTitle();
}

function renderTopbar() {
  const s = state.agentState;
  const pill = $("state-pill");
  pill.className = `state-pill state-${s}`;
  const active = Array.from(state.chats.values()).filter((c) => c.status === "active").length;
  pill.dataset.state = s;
  $("state-text").textContent = STATE_LABEL(s);
  if ((s === "busy" || s === "available") && active) $("state-text").textContent = t("console.state_with_chats", { state: STATE_LABEL(s), count: active });
  if (s === "away" && AWAY_REASON(state.stateReason)) $("state-text").textContent = t("console.state_with_reason", { state: STATE_LABEL(s), reason: AWAY_REASON(state.stateReason) });
  const onCall = calls.live;
  if (onCall && (s === "busy" || s === "available")) {
    $("state-text").textContent = t(onCall.media === "video" ? "console.state_on_video_call" : "console.state_on_call", { state: STATE_LABEL(s) });
  }
  const wantsWork = s === "available" || s === "busy" || s === "wrap_up";
  $("status-available").setAttribute("aria-pressed", wantsWork ? "true" : "false");
  $("status-away").setAttribute("aria-pressed", wantsWork ? "false" : "true");
  $("wrapup").hidden = s !== "wrap_up";
  tickWrapUp();
  const banner = $("state-banner");
  const reason = REASON(state.stateReason);
  const chosen = s === "away" && AWAY_REASON(state.stateReason);
  const explain = (s === "away" || s === "offline") && state.welcomed && !chosen ? reason ?? (state.stateReason ? t("console.reason_code", { reason: state.stateReason.replace(/_/g, " ") }) : "") : "";
  banner.hidden = !explain;
  banner.textContent = explain || "";
  banner.className = `banner ${state.stateReason === "missed_offers" || state.stateReason === "disconnected" ? "warn" : "info"}`;
}

function tickWrapUp() {
  if (state.agentState !== "wrap_up") return;
  $("state-text").textContent = state.wrapUntil
    ? t("console.wrap_up_left", { state: STATE_LABEL("wrap_up"), left: fmtClock(state.wrapUntil - serverNow()) })
    : STATE_LABEL("wrap_up");
}

function renderTabs() {
  for (const tab of ["chats", "queue", "history"]) {
    const selected = state.tab === tab;
    $(`tab-${tab}`).setAttribute("aria-selected", selected ? "true" : "false");
    $(`tab-${tab}`).tabIndex = selected ? 0 : -1;
    $(`pane-${tab}`).hidden = !selected;
  }
  const unread = Array.from(state.chats.values()).reduce((n, c) => n + unreadOf(c), 0);
  const chatsCount = $("chats-count");
  chatsCount.hidden = unread === 0;
  chatsCount.textContent = t.num(unread);
  const waiting = visibleWaiting().length;
  $("queue-count").hidden = waiting === 0;
  $("queue-count").textContent = t.num(waiting);
}

function unreadOf(chat) {
  if (chatVisible(chat)) {
    chat.seenSeq = Math.max(chat.seenSeq, lastVisitorSeq(chat));
    return 0;
  }
  let n = 0;
  for (const ev of chat.events.values()) {
    if (ev.type === "chat.message" && ev.sender && ev.sender.kind === "visitor" && ev.seq > chat.seenSeq) n += 1;
  }
  return n;
}

/** The cards in the offers box: chats offered by routing, and calls ringing here (a
 *  call from a queue is an offer *and* a ringing call: one card). */
function offerCards() {
  const ringing = new Map();
  for (const call of calls.calls.values()) {
    if (call.phase === "incoming" || call.phase === "answering") ringing.set(call.contactId || call.id, call);
  }
  const cards = [];
  for (const [id, offer] of state.offers) {
    const isCall = CALL_CHANNELS.has(offer.contact.channel);
    cards.push({ key: id, offer, call: isCall ? ringing.get(id) || null : null, isCall });
    ringing.delete(id);
  }
  for (const call of ringing.values()) cards.push({ key: call.contactId || `call:${call.id}`, offer: null, call, isCall: true });
  return cards;
}

function renderOffers() {
  const box = $("offers");
  const cards = offerCards();
  const keys = new Set(cards.map((c) => c.key));
  // Keep cards that still exist (their buttons keep focus); add new ones.
  for (const el of Array.from(box.children)) {
    if (!keys.has(el.dataset.key)) el.remove();
  }
  for (const card of cards) {
    let el = Array.from(box.children).find((x) => x.dataset.key === card.key);
    if (!el) {
      el = card.isCall ? buildCallCard(card) : buildOfferCard(card.key, card.offer);
      box.append(el);
      const accept = el.querySelector(".accept");
      if (accept && !document.querySelector("dialog[open]")) accept.focus({ preventScroll: true });
    }
    const accept = el.querySelector(".accept");
    const decline = el.querySelector(".decline");
    if (card.isCall) {
      const answering = card.call && card.call.phase === "answering";
      // A call from a queue is answered with call.accept once its invite is here.
      accept.disabled = !card.call || answering || !!calls.live;
      decline.disabled = answering;
      accept.lastChild.textContent = t(answering ? "call.connecting" : "call.accept");
    } else {
      accept.disabled = card.offer.accepting;
      decline.disabled = card.offer.accepting;
      accept.textContent = t(card.offer.accepting ? "console.accepting" : "call.accept");
    }
  }
  box.hidden = cards.length === 0;
  // The offer being declined went away (expired, taken, visitor left): drop the dialog.
  if (state.declining && !state.offers.has(state.declining) && $("decline-dialog").open) {
    $("decline-dialog").close();
    state.declining = null;
  }
  tickOffers();
}

function buildOfferCard(id, offer) {
  const c = offer.contact;
  const queue = state.queues.find((q) => q.id === c.queue_id);
  return h(
    "article",
    { class: "offer", "data-key": id, "data-contact-id": id, "aria-label": t("console.incoming_chat_from", { name: c.name || t("console.visitor") }) },
    h(
      "div",
      { class: "offer-head" },
      h("span", { class: "avatar" }, initials(c.name)),
      h("div", { class: "offer-who" }, h("strong", null, h("bdi", null, c.name || t("console.visitor"))), h("span", { class: "muted" }, (queue && queueLabel(queue)) || c.topic || c.queue_id)),
      h("span", { class: "offer-left", "aria-label": t("console.seconds_left") }),
    ),
    h("div", { class: "offer-meta" }, stageBadge(c.stage), c.page_title ? h("span", { class: "muted ellipsis" }, c.page_title) : null),
    c.transfer_note ? h("p", { class: "offer-note" }, h("strong", null, t("console.transfer_note")), " ", h("bdi", null, c.transfer_note)) : null,
    h("div", { class: "offer-bar", "aria-hidden": "true" }, h("span", { class: "offer-fill" })),
    h(
      "div",
      { class: "offer-actions" },
      h("button", { type: "button", class: "btn primary small accept", onclick: () => acceptOffer(id) }, t("call.accept")),
      h("button", { type: "button", class: "btn ghost small decline", onclick: () => declineOffer(id) }, t("call.decline")),
    ),
  );
}

/** A ringing call: from a queue (with its routing offer) or on a conversation. */
function buildCallCard(card) {
  const call = card.call;
  const contact = card.offer ? card.offer.contact : null;
  const chat = call && call.contactId ? state.chats.get(call.contactId) : null;
  const name = (contact && contact.name) || (chat && chat.summary.name) || (call && call.peerName) || t("console.visitor");
  const media = contact ? (contact.channel === "video" ? "video" : "audio") : call.media;
  const queue = contact ? state.queues.find((q) => q.id === contact.queue_id) : null;
  const where = contact ? (queue && queueLabel(queue)) || contact.queue_id : t("console.from_your_chat");
  const keyFor = () => offerCards().find((c) => c.key === card.key);
  return h(
    "article",
    {
      class: "offer call-offer",
      "data-key": card.key,
      "data-contact-id": contact ? contact.id : null,
      "data-call-id": call ? call.id : null,
      "data-total": call ? Math.max(1, (call.expiresAt - Date.now()) / 1000) : null,
      "aria-label": t(media === "video" ? "console.incoming_video_from" : "console.incoming_call_from", { name }),
    },
    h(
      "div",
      { class: "offer-head" },
      h("span", { class: "avatar ringing" }, initials(name)),
      h(
        "div",
        { class: "offer-who" },
        h("strong", null, name),
        h("span", { class: "call-offer-kind" }, icon(media === "video" ? "video" : "phone"), t(media === "video" ? "console.incoming_video_where" : "console.incoming_call_where", { where })),
      ),
      h("span", { class: "offer-left", "aria-label": t("console.seconds_left") }),
    ),
    contact ? h("div", { class: "offer-meta" }, stageBadge(contact.stage), contact.page_title ? h("span", { class: "muted ellipsis" }, contact.page_title) : null) : null,
    h("div", { class: "offer-bar", "aria-hidden": "true" }, h("span", { class: "offer-fill" })),
    h(
      "div",
      { class: "offer-actions" },
      h(
        "button",
        {
          type: "button",
          class: "btn small accept call-accept",
          onclick: () => {
            const now = keyFor();
            if (!now || !now.call) return;
            if (now.offer) state.wanted.add(now.offer.contact.id); // show the contact once assigned
            calls.accept(now.call.id);
          },
        },
        icon(media === "video" ? "video" : "phone"),
        h("span", null, t("call.accept")),
      ),
      h(
        "button",
        {
          type: "button",
          class: "btn ghost small decline",
          onclick: () => {
            const now = keyFor();
            if (now && now.call) calls.reject(now.call.id);
            else if (now && now.offer) request({ type: "offer.decline", contact_id: now.offer.contact.id });
          },
        },
        t("call.decline"),
      ),
    ),
  );
}

function tickOffers() {
  for (const card of $("offers").children) {
    const offer = state.offers.get(card.dataset.contactId);
    let left;
    let total;
    if (offer) {
      // expires_at is on the server's clock: convert with the skew measured on receipt.
      left = Math.max(0, offer.expiresAt - (Date.now() / 1000 + offer.skew));
      total = offer.total;
    } else {
      const call = calls.calls.get(card.dataset.callId);
      if (!call) continue;
      left = Math.max(0, (call.expiresAt - Date.now()) / 1000);
      total = Number(card.dataset.total) || 45;
    }
    card.querySelector(".offer-left").textContent = t("console.offer_left", { seconds: Math.ceil(left) });
    card.querySelector(".offer-fill").style.width = `${Math.min(100, (left / total) * 100)}%`;
    card.classList.toggle("urgent", left < 6);
  }
}

function renderChatList() {
  const list = $("chat-list");
  const chats = Array.from(state.chats.values());
  $("chats-empty").hidden = chats.length > 0;
  list.replaceChildren(
    ...chats.map((chat) => {
      const last = lastMessage(chat);
      const unread = unreadOf(chat);
      const selected = state.mode === "chat" && state.active === chat.id;
      return h(
        "li",
        null,
        h(
          "button",
          {
            type: "button",
            class: `chat-item${selected ? " selected" : ""}${chat.status !== "active" ? " inactive" : ""}`,
            "aria-current": selected ? "true" : null,
            "data-contact-id": chat.id,
            onclick: () => selectChat(chat.id),
          },
          h("span", { class: "avatar" }, initials(chat.summary.name)),
          h(
            "span",
            { class: "chat-item-body" },
            h("span", { class: "chat-item-top" }, h("strong", { class: "ellipsis" }, h("bdi", null, chat.summary.name || t("console.visitor"))), h("time", { class: "muted" }, last ? fmtTime(last.at) : "")),
            h(
              "span",
              { class: "chat-item-bottom" },
              h(
                "span",
                { class: "ellipsis muted" },
                chat.visitorTyping
                  ? t("console.typing_short")
                  : last
                    ? last.sender && last.sender.kind === "agent"
                      ? t("console.you_wrote", { body: last.body })
                      : last.body
                    : CALL_CHANNELS.has(chat.summary.channel)
                      ? t(chat.summary.channel === "video" ? "console.video_call" : "console.voice_call")
                      : t("console.no_messages"),
              ),
              calls.live && calls.live.contactId === chat.id ? h("span", { class: "on-call", title: t("console.on_call"), "aria-label": t("console.on_call") }, icon(calls.live.media === "video" ? "video" : "phone")) : null,
              chat.status !== "active" ? statusBadge(chat.status === "released" ? "transferred" : "ended") : null,
              unread ? h("span", { class: "unread", "aria-label": t("console.unread", { count: unread }) }, t.num(unread)) : null,
            ),
          ),
        ),
      );
    }),
  );
}

function lastMessage(chat) {
  let last = null;
  for (const ev of chat.events.values()) {
    if (ev.type === "chat.message" && (!last || ev.seq > last.seq)) last = ev;
  }
  return last;
}

function myQueues() {
  const mine = state.user && state.user.queues && state.user.queues.length ? new Set(state.user.queues) : null;
  return (id) => !mine || mine.has(id);
}

function visibleWaiting() {
  if (!state.queueView) return [];
  const mine = myQueues();
  return state.queueView.waiting
    .filter((w) => mine(w.queue_id))
    .map((w) => {
      if (w.name) return w;
      const meta = state.waitingMeta.get(w.contact_id);
      if (meta === undefined) lookUpWaiting(w.contact_id);
      return meta ? { ...w, name: meta.name, stage: w.stage || meta.stage } : w;
    });
}

/** queue.view may list a contact before the router knows its name: ask REST. */
function lookUpWaiting(id) {
  state.waitingMeta.set(id, null);
  api("GET", `/api/contacts/${encodeURIComponent(id)}`)
    .then((d) => {
      state.waitingMeta.set(id, { name: d.contact.name, stage: d.contact.stage });
      render();
    })
    .catch(() => {});
}

function renderQueue() {
  if (state.tab !== "queue") return;
  const stats = $("queue-stats");
  const mine = myQueues();
  const statuses = state.queueView ? state.queueView.queues.filter((q) => mine(q.queue_id)) : [];
  stats.replaceChildren(
    ...statuses.map((q) => {
      const conf = state.queues.find((c) => c.id === q.queue_id);
      return h(
        "div",
        { class: "queue-card" },
        h("div", { class: "queue-card-top" }, h("strong", null, conf ? queueLabel(conf) : q.name || q.queue_id), q.open ? h("span", { class: "badge status status-active" }, t("console.queue_open")) : h("span", { class: "badge status status-ended" }, t("console.queue_closed"))),
        h(
          "div",
          { class: "queue-nums" },
          h("span", null, h("b", null, t.num(q.waiting)), " ", t("console.queue.waiting")),
          h("span", null, h("b", null, t.num(q.agents_available)), " ", t("console.queue.free")),
          h("span", null, h("b", null, t.num(q.agents_online || 0)), " ", t("console.queue.online")),
        ),
        conf ? h("div", { class: "muted small" }, t("console.routing", { strategy: label("label.strategy", conf.strategy) })) : null,
      );
    }),
  );
  const waiting = visibleWaiting();
  $("waiting-empty").hidden = waiting.length > 0;
  const list = $("waiting-list");
  list.replaceChildren(
    ...waiting.map((w) => {
      const conf = state.queues.find((c) => c.id === w.queue_id);
      const manual = conf && conf.strategy === "manual";
      return h(
        "li",
        { class: "waiting-item", "data-contact-id": w.contact_id },
        h("span", { class: "avatar small" }, initials(w.name)),
        h(
          "div",
          { class: "waiting-body" },
          h(
            "div",
            { class: "waiting-top" },
            h("strong", { class: "ellipsis" }, h("bdi", null, w.name || t("console.visitor"))),
            h("span", { class: "wait-time", "data-enqueued": w.enqueued_at, title: t("console.waiting_for") }, fmtClock(serverNow() - w.enqueued_at)),
          ),
          h("div", { class: "waiting-meta" }, h("span", { class: "muted ellipsis" }, t("console.queue_position", { position: w.position, queue: (conf && queueLabel(conf)) || w.queue_id })), stageBadge(w.stage || "unknown")),
        ),
        manual ? h("button", { type: "button", class: "btn primary small", "data-action": "take", onclick: () => takeContact(w.contact_id) }, t("console.take")) : null,
      );
    }),
  );
}

function tickQueue() {
  for (const el of document.querySelectorAll(".wait-time[data-enqueued]")) {
    el.textContent = fmtClock(serverNow() - Number(el.dataset.enqueued));
  }
}

function renderHistory() {
  if (state.tab !== "history") return;
  $("history-empty").hidden = !state.historyLoaded || state.history.length > 0;
  const selectedId = state.mode === "history" && state.historyDetail ? state.historyDetail.contact.id : null;
  $("history-list").replaceChildren(
    ...state.history.map((c) =>
      h(
        "li",
        null,
        h(
          "button",
          { type: "button", class: `history-item${selectedId === c.id ? " selected" : ""}`, "data-contact-id": c.id, onclick: () => openHistory(c.id) },
          h("span", { class: "history-top" }, h("strong", { class: "ellipsis" }, h("bdi", null, c.name || t("console.visitor"))), h("time", { class: "muted" }, fmtDate(c.enqueued_at))),
          h(
            "span",
            { class: "history-bottom" },
            statusBadge(c.status),
            CALL_CHANNELS.has(c.channel) ? h("span", { class: `badge channel channel-${c.channel}` }, icon(c.channel === "video" ? "video" : "phone"), t(c.channel === "video" ? "console.badge.video" : "console.badge.voice")) : null,
            h("span", { class: "muted ellipsis" }, c.topic || c.queue_id),
            c.disposition ? h("span", { class: "badge disposition", title: t("console.disposition") }, DISPOSITION(c.disposition)) : null,
            stars(c.csat),
          ),
        ),
      ),
    ),
  );
}

function renderConversation() {
  const history = state.mode === "history" ? state.historyDetail : null;
  const chat = activeChat();
  $("conv-empty").hidden = !!(history || chat);
  $("conv").hidden = !(history || chat);
  if (!history && !chat) return;
  const summary = history ? history.contact : chat.summary;
  $("conv-avatar").textContent = initials(summary.name);
  $("conv-name").textContent = summary.name || t("console.visitor");
  const queue = state.queues.find((q) => q.id === summary.queue_id);
  $("conv-meta").replaceChildren(
    h("span", null, (queue && queueLabel(queue)) || summary.queue_id),
    stageBadge(summary.stage),
    history ? statusBadge(summary.status) : chat.status !== "active" ? statusBadge(chat.status === "released" ? "transferred" : "ended") : h("span", { class: "live" }, t("console.live")),
  );
  const live = chat && chat.status === "active";
  const callContact = CALL_CHANNELS.has(summary.channel);
  $("transfer-btn").hidden = !live || callContact;
  $("end-btn").hidden = !live;
  $("end-btn").textContent = t(callContact ? "console.end_call" : "console.end_chat");
  const canCall = live && !callContact && callsSupported() && !calls.live;
  $("call-audio-btn").hidden = !canCall;
  $("call-video-btn").hidden = !canCall;

  // Banner: the transfer note, if the chat was handed over with one.
  const note = summary.transfer_note;
  $("conv-banner").hidden = !note;
  if (note) $("conv-banner").replaceChildren(h("strong", null, t("console.transfer_note")), " ", h("bdi", null, note));

  const scroller = $("scroller");
  const nearBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  const items = history ? history.transcript.map((e) => renderTranscriptEntry(e)) : renderChatEvents(chat);
  $("messages").replaceChildren(...items);
  if (!history && nearBottom) scroller.scrollTop = scroller.scrollHeight;

  const typing = !history && chat.visitorTyping && live;
  $("typing").hidden = !typing;
  if (typing) {
    $("typing").replaceChildren(h("span", { class: "dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")), t("console.typing", { name: summary.name || t("console.visitor") }));
  }
  $("composer").hidden = !live;
  $("closed-bar").hidden = live;
  if (!live) {
    let text;
    if (history) text = t("console.transcript", { disposition: history.disposition ? DISPOSITION(history.disposition) : t("console.no_disposition") });
    else if (chat.status === "released") text = t(chat.releasedReason === "requeued" ? "console.requeued" : "console.you_transferred");
    else {
      const parts = [t(`console.ended.${chat.endedBy === "visitor" ? "by_visitor" : "plain"}.${callContact ? "call" : "chat"}`)];
      if (chat.disposition) parts.push(DISPOSITION(chat.disposition));
      if (chat.rating) parts.push(t("console.rated", { rating: chat.rating, best: 5 }));
      text = parts.join(" · ");
    }
    $("closed-text").textContent = text;
    $("close-chat").textContent = t(history ? "console.back" : "console.close_chat");
  }
  if (chat) flushReceipts();
}

function renderChatEvents(chat) {
  const events = Array.from(chat.events.values()).sort((a, b) => a.seq - b.seq);
  const items = [];
  let lastDay = "";
  for (const ev of events) {
    const day = new Date(ev.at * 1000).toDateString();
    if (day !== lastDay) {
      lastDay = day;
      items.push(h("li", { class: "day" }, t.date(ev.at, { weekday: "long", day: "numeric", month: "long" })));
    }
    items.push(renderEvent(chat, ev));
  }
  for (const p of chat.pending.values()) {
    items.push(
      h(
        "li",
        { class: "msg mine pending", "data-client-id": p.id },
        h("div", { class: "text", dir: "auto" }, p.body),
        h("div", { class: "meta" }, fmtTime(p.at), " · ", p.failed ? h("span", { class: "failed" }, t("console.receipt.not_sent")) : t(p.seq ? "console.receipt.sent" : "console.receipt.sending")),
      ),
    );
  }
  return items;
}

function renderEvent(chat, ev) {
  if (ev.type === "chat.message") {
    const kind = ev.sender ? ev.sender.kind : "system";
    if (kind === "system") return h("li", { class: "event", dir: "auto" }, ev.body);
    const mine = kind === "agent";
    const meta = [fmtTime(ev.at)];
    if (mine) {
      const own = state.user && ev.sender.id === state.user.id;
      if (!own && ev.sender.name) meta.unshift(h("bdi", null, ev.sender.name), " · ");
      const receipt = ev.seq <= chat.visitorReadSeq ? "seen" : ev.seq <= chat.visitorDeliveredSeq ? "delivered" : "sent";
      meta.push(" · ", h("span", { class: `receipt receipt-${receipt}`, "data-receipt": receipt }, t(`console.receipt.${receipt}`)));
    }
    return h(
      "li",
      { class: `msg ${mine ? "mine" : "theirs"}`, "data-seq": ev.seq },
      h("div", { class: "text", dir: "auto" }, ev.body),
      h("div", { class: "meta" }, ...meta),
    );
  }
  return h("li", { class: "event" }, eventText(ev));
}

function eventText(ev) {
  switch (ev.type) {
    case "contact.joined":
      return t("console.event.joined", { name: ev.agent_name || t("console.an_agent"), time: fmtTime(ev.at) });
    case "contact.transferred":
      if (ev.to_agent || ev.to_queue) {
        return t("console.event.transferred_to", { target: ev.to_agent ? colleagueName(ev.to_agent) : queueName(ev.to_queue), time: fmtTime(ev.at) });
      }
      return t("console.event.transferred", { time: fmtTime(ev.at) });
    case "contact.ended":
      return t(`console.event.ended_by.${ev.by === "visitor" ? "visitor" : ev.by === "agent" ? "agent" : "system"}`, { time: fmtTime(ev.at) });
    case "contact.rated":
      return t("console.event.rated", { rating: ev.rating, best: 5 });
    default:
      return ev.type;
  }
}

/** A queue's name in the page's language (its labels), else its name. */
function queueLabel(q) {
  return (q.labels && q.labels[t.locale]) || q.name || q.id;
}

function queueName(id) {
  const q = state.queues.find((x) => x.id === id);
  return q ? queueLabel(q) : id;
}

function renderTranscriptEntry(e) {
  if (e.kind === "chat.message") {
    const mine = e.sender_kind === "agent";
    return h(
      "li",
      { class: `msg ${mine ? "mine" : "theirs"}`, "data-seq": e.seq },
      h("div", { class: "text", dir: "auto" }, e.body),
      h("div", { class: "meta" }, h("bdi", null, e.sender_name || t(mine ? "console.agent" : "console.visitor")), " · ", fmtDate(e.at)),
    );
  }
  const data = e.data || {};
  const ev = { type: e.kind, at: e.at, agent_name: e.sender_name, by: data.by, rating: data.rating, to_queue: data.to_queue, to_agent: data.to_agent };
  return h("li", { class: "event" }, eventText(ev));
}

function renderContext() {
  const box = $("context-body");
  const history = state.mode === "history" ? state.historyDetail : null;
  const chat = activeChat();
  if (!history && !chat) {
    box.replaceChildren(h("p", { class: "muted empty" }, t("console.visitor_details_appear_here")));
    return;
  }
  const detail = history || chat.detail;
  const s = history ? history.contact : chat.summary;
  const visitor = detail && detail.visitor;
  const rows = [];
  const row = (key, value) => {
    if (value === null || value === undefined || value === "") return;
    rows.push(h("div", { class: "kv" }, h("dt", null, t(key)), h("dd", null, value)));
  };
  row("console.ctx.email", s.email ? h("bdi", { class: "break" }, s.email) : h("span", { class: "muted" }, t("console.ctx.not_given")));
  row("console.ctx.topic", s.topic ? h("bdi", null, s.topic) : null);
  row("console.ctx.stage", stageBadge(s.stage));
  row("console.ctx.channel", s.channel ? label("label.channel", s.channel) : null);
  row("console.ctx.queue", queueName(s.queue_id));
  if (s.answered_at && s.enqueued_at) row("console.ctx.waited", fmtClock(s.answered_at - s.enqueued_at));
  else if (s.enqueued_at) row("console.ctx.started", fmtDate(s.enqueued_at));

  const page = [];
  const pageRow = (key, value) => {
    if (value) page.push(h("div", { class: "kv" }, h("dt", null, t(key)), h("dd", null, value)));
  };
  // Where the visitor is now, when it is not where the chat started (visitor.page).
  if (s.current_page_url && s.current_page_url !== s.page_url) {
    pageRow("console.ctx.now_on", h("div", { class: "now-on" }, h("div", { class: "page-title", dir: "auto" }, s.current_page_title || t("console.ctx.untitled")), linkOrText(s.current_page_url, prettyUrl(s.current_page_url))));
  }
  pageRow(s.current_page_url && s.current_page_url !== s.page_url ? "console.ctx.started_on" : "console.ctx.page", s.page_url ? h("div", null, h("div", { class: "page-title", dir: "auto" }, s.page_title || t("console.ctx.untitled")), linkOrText(s.page_url, prettyUrl(s.page_url))) : null);
  pageRow("console.ctx.referrer", s.referrer ? linkOrText(s.referrer, prettyUrl(s.referrer)) : null);
  const utm = [
    ["source", s.utm_source],
    ["medium", s.utm_medium],
    ["campaign", s.utm_campaign],
  ].filter(([, v]) => v);
  pageRow("console.ctx.campaign", utm.length ? h("div", { class: "utm" }, ...utm.map(([k, v]) => h("span", { class: "chip" }, t(`console.utm.${k}`, { value: v })))) : null);
  if (visitor) {
    pageRow("console.ctx.first_visit", visitor.created_at ? fmtDate(visitor.created_at) : null);
    pageRow("console.ctx.landed_on", visitor.first_landing_url ? linkOrText(visitor.first_landing_url, prettyUrl(visitor.first_landing_url)) : null);
    pageRow("console.ctx.first_referrer", visitor.first_referrer ? linkOrText(visitor.first_referrer, prettyUrl(visitor.first_referrer)) : null);
    const firstUtm = [visitor.first_utm_source, visitor.first_utm_medium, visitor.first_utm_campaign].filter(Boolean).join(" / ");
    pageRow("console.ctx.first_campaign", firstUtm ? h("bdi", null, firstUtm) : null);
  }

  const earlier = detail ? detail.earlier_contacts || [] : [];
  const earlierList = earlier.length
    ? h(
        "ul",
        { class: "earlier" },
        ...earlier.map((c) => {
          const disp = c.disposition;
          return h(
            "li",
            null,
            h("div", { class: "earlier-top" }, h("strong", null, fmtDate(c.enqueued_at)), statusBadge(c.status)),
            h(
              "div",
              { class: "earlier-meta muted" },
              [c.topic || queueName(c.queue_id), c.agent_name ? t("console.with_agent", { name: c.agent_name }) : "", disp ? DISPOSITION(disp) : ""].filter(Boolean).join(" · "),
            ),
            h("div", { class: "earlier-csat" }, t("console.csat"), " ", stars(c.csat)),
          );
        }),
      )
    : h("p", { class: "muted" }, t(detail ? "console.first_contact" : "console.loading"));

  const sections = [
    h("div", { class: "context-head" }, h("span", { class: "avatar large" }, initials(s.name)), h("div", null, h("h3", null, h("bdi", null, s.name || t("console.visitor"))), h("span", { class: "muted small" }, t("console.visitor_id", { id: String(s.visitor_id || "").slice(0, 8) })))),
    h("section", { class: "context-section" }, h("h4", null, t("console.ctx.contact")), h("dl", null, ...rows)),
    h("section", { class: "context-section" }, h("h4", null, t("console.ctx.came_from")), page.length ? h("dl", null, ...page) : h("p", { class: "muted" }, t("console.ctx.no_page"))),
    h("section", { class: "context-section" }, h("h4", null, earlier.length ? t("console.ctx.earlier_count", { count: earlier.length }) : t("console.ctx.earlier")), earlierList),
    journeySection(s),
  ];
  if (history) {
    sections.splice(2, 0, h("section", { class: "context-section" }, h("h4", null, t("console.ctx.outcome")), h("dl", null,
      h("div", { class: "kv" }, h("dt", null, t("console.disposition")), h("dd", null, history.disposition ? DISPOSITION(history.disposition) : "—")),
      h("div", { class: "kv" }, h("dt", null, t("console.ctx.ended_by")), h("dd", null, history.ended_by ? label("label.party", history.ended_by) : "—")),
      h("div", { class: "kv" }, h("dt", null, t("console.csat")), h("dd", null, stars(s.csat))),
      history.csat_comment ? h("div", { class: "kv" }, h("dt", null, t("console.ctx.comment")), h("dd", { dir: "auto" }, history.csat_comment)) : null,
    )));
    if (state.historyCalls.length) sections.splice(3, 0, historyCallsSection(state.historyCalls));
  }
  box.replaceChildren(...sections);
}

/** The visitor's path to this conversation (pages, earlier contacts, conversions),
 * drawn by journey-panel.js from GET /api/visitors/{id}/journey. */
function journeySection(s) {
  let box = state.journeyBoxes.get(s.id);
  if (!box) {
    box = h("div", { class: "journey-box" });
    state.journeyBoxes.set(s.id, box);
    if (window.JourneyPanel && s.visitor_id) {
      window.JourneyPanel.render(box, s.visitor_id, state.token, { currentContactId: s.id, t });
    }
  }
  return h("section", { class: "context-section" }, h("h4", null, t("console.ctx.journey")), box);
}

function prettyUrl(url) {
  try {
    const u = new URL(url);
    return u.host + (u.pathname === "/" ? "" : u.pathname);
  } catch (_e) {
    return url;
  }
}

function renderTitle() {
  const offers = state.offers.size;
  const unread = Array.from(state.chats.values()).reduce((n, c) => n + unreadOf(c), 0);
  const n = offers + unread;
  document.title = n ? t("console.title_count", { count: n, title: t("console.agent_console_northwind_support") }) : t("console.agent_console_northwind_support");
}

// One clock for every countdown on the page.
setInterval(() => {
  tickOffers();
  tickWrapUp();
  tickQueue();
  tickCall();
}, 250);

// ------------------------------------------------------------------ boot

(async function boot() {
  if (!state.token) {
    showLogin();
    return;
  }
  try {
    state.user = await api("GET", "/api/me");
    saveSession(SESSION_KEY, state);
    if (followUserLocale(state.user, t)) return;
    startConsole();
  } catch (_e) {
    if (state.token) signOut(t("staff.please_sign_in"));
  }
})();
