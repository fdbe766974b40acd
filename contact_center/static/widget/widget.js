/*
 * Northwind contact-centre chat widget.
 *
 * Embed with one tag (on any origin listed in the server's allowed origins):
 *
 *   <script src="https://support.example.com/widget.js" data-stage="consideration" async></script>
 *
 * The server origin is taken from this script's own src, so the widget talks to the
 * server it was loaded from (REST over fetch, the socket over ws(s)://).  Everything
 * renders inside a Shadow DOM root whose stylesheet is loaded from the same server, so
 * the host page's CSS cannot reach in and ours cannot leak out.
 *
 * Protocol (contact_center/protocol.py): hello(+resume) -> welcome, then replayed
 * conversation events (deduplicated and ordered by seq), acks for frames with an id,
 * and live events.  Unacked frames are resent with the SAME id after a reconnect (the
 * server applies a repeated id once).  All user-provided text goes into the DOM as
 * text nodes, never as markup.
 */
(function () {
  "use strict";

  if (window.__northwindChatWidget) return; // included twice: keep the first
  window.__northwindChatWidget = true;

  // ------------------------------------------------------------------ where we come from
  const clip = (s, n) => (typeof s === "string" ? s.slice(0, n) : "");
  const script =
    document.currentScript ||
    Array.from(document.getElementsByTagName("script")).find((s) => /\/widget\.js(\?|$)/.test(s.src));
  if (!script || !script.src) return;
  const ORIGIN = new URL(script.src, location.href).origin;
  const WS_URL = ORIGIN.replace(/^http/, "ws") + "/ws/visitor";
  const STAGES = ["awareness", "consideration", "decision", "purchase", "retention"];
  const STAGE = STAGES.includes(script.dataset.stage) ? script.dataset.stage : "";
  // The site's name in the header; the catalogue's (widget.brand) when the tag gives none.
  const TITLE = script.dataset.title || "";
  // The site (its id, for its languages) and the languages this page would like, best
  // first: the host page's lang, the tag's data-locale, then the browser's.
  const SITE = clip(script.dataset.site || "", 32);
  const WANTED = [document.documentElement.lang, script.dataset.locale, ...(navigator.languages || [navigator.language])]
    .filter((tag) => typeof tag === "string" && /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$/.test(tag))
    .slice(0, 8);
  const STORE_KEY = "nwcc.widget.v1";
  const OPEN_KEY = "nwcc.widget.open";
  const MAX_CACHED_EVENTS = 300;
  const CONVERSATION_TYPES = new Set([
    "chat.message",
    "contact.joined",
    "contact.transferred",
    "contact.ended",
    "contact.rated",
  ]);

  // ------------------------------------------------------------------ small helpers
  let idCounter = 0;
  function newId(prefix) {
    idCounter += 1;
    const rnd = Math.random().toString(36).slice(2, 10);
    return `${prefix}-${Date.now().toString(36)}-${rnd}${idCounter}`;
  }

  function safeStorage(kind) {
    try {
      const s = window[kind];
      const probe = "__nwcc_probe";
      s.setItem(probe, "1");
      s.removeItem(probe);
      return s;
    } catch (_e) {
      const mem = new Map();
      return {
        getItem: (k) => (mem.has(k) ? mem.get(k) : null),
        setItem: (k, v) => mem.set(k, String(v)),
        removeItem: (k) => mem.delete(k),
      };
    }
  }
  const local = safeStorage("localStorage");
  const session = safeStorage("sessionStorage");

  function readJSON(storage, key, fallback) {
    try {
      const raw = storage.getItem(key);
      return raw ? JSON.parse(raw) : fallback;
    } catch (_e) {
      return fallback;
    }
  }

  /** Now on the server's clock (the skew is measured from welcome.server_time). */
  function serverNow() {
    return Date.now() / 1000 + (state.skew || 0);
  }

  // ---- i18n: include ----
  // The server puts the translator (static/common/i18n-core.js, between its markers)
  // here when it serves /widget.js.  Until the visitor's catalogue arrives nothing is
  // drawn (the widget stays hidden, as it does until its stylesheet is there).
  let t = createTranslator(null);
  let localeReady = false;

  function brand() {
    return TITLE || t("widget.brand");
  }

  function fmtTime(at) {
    return at ? t.time(at) : "";
  }

  function fmtOpening(at) {
    if (!at) return "";
    const d = new Date(at * 1000);
    const sameDay = t.date(d, { year: "numeric", month: "numeric", day: "numeric" }) === t.date(new Date(), { year: "numeric", month: "numeric", day: "numeric" });
    const time = t.time(at);
    if (sameDay) return t("widget.opening.today", { time });
    return t("widget.opening.day", { day: t.date(d, { weekday: "long" }), time });
  }

  /** DOM builder: text children become text nodes, so data is never parsed as HTML. */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === null || value === undefined || value === false) continue;
        if (key === "class") el.className = value;
        else if (key === "text") el.textContent = value;
        else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
        else if (key === "value" || key === "checked" || key === "disabled" || key === "selected") el[key] = value;
        else el.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : String(child));
    }
    return el;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  const ICONS = {
    chat: "M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.2 3.6A.5.5 0 0 1 5 19.2V16h0A2.5 2.5 0 0 1 4 13.5z",
    close: "M6 6l12 12M18 6L6 18",
    minus: "M5 12h14",
    send: "M4 12l16-8-6 16-2.5-6.5z",
    star: "M12 3.5l2.6 5.3 5.9.9-4.3 4.1 1 5.8L12 16.9l-5.2 2.7 1-5.8-4.3-4.1 5.9-.9z",
    check: "M5 12.5l4.5 4.5L19 7.5",
    mail: "M4 6h16v12H4zM4 7l8 6 8-6",
    phone: "M6.5 3.5h2.6l1.6 4.3-2.1 1.3a11.5 11.5 0 0 0 6.3 6.3l1.3-2.1 4.3 1.6v2.6a2 2 0 0 1-2.2 2A16.5 16.5 0 0 1 4.5 5.7a2 2 0 0 1 2-2.2z",
    video: "M3.5 7.5a2 2 0 0 1 2-2h8a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2h-8a2 2 0 0 1-2-2zM15.5 10.5l5-3v9l-5-3",
    "video-off": "M3.5 7.5a2 2 0 0 1 2-2h8a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2h-8a2 2 0 0 1-2-2zM15.5 10.5l5-3v9l-5-3M3 3l18 18",
    mic: "M12 3.5a3 3 0 0 1 3 3v5a3 3 0 0 1-6 0v-5a3 3 0 0 1 3-3zM5.5 11a6.5 6.5 0 0 0 13 0M12 17.5v3",
    "mic-off": "M12 3.5a3 3 0 0 1 3 3v5a3 3 0 0 1-6 0v-5a3 3 0 0 1 3-3zM5.5 11a6.5 6.5 0 0 0 13 0M12 17.5v3M4 4l16 16",
    hangup: "M2.6 13.9c5.2-4.6 13.6-4.6 18.8 0 .5.5.5 1.2 0 1.7l-1.9 1.9c-.4.4-1.1.5-1.6.1l-2.1-1.6c-.3-.3-.5-.7-.5-1.1v-1.6a11 11 0 0 0-6.6 0v1.6c0 .4-.2.8-.5 1.1l-2.1 1.6c-.5.4-1.2.3-1.6-.1l-1.9-1.9c-.5-.5-.5-1.2 0-1.7z",
  };
  function icon(name, cls) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "icon " + (cls || "icon-" + name));
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS[name]);
    svg.append(path);
    return svg;
  }

  // ---- call engine: include ----
  // The server puts the call engine (static/agent/call-engine.js, between its markers)
  // here when it serves /widget.js, so the widget stays one file to embed while the
  // engine has one source.

  // ------------------------------------------------------------------ state
  const saved = readJSON(local, STORE_KEY, {});
  const state = {
    token: local.getItem(STORE_KEY + ".token") || "",
    visitorId: "",
    skew: 0,
    config: null,
    configError: false,
    ws: null,
    socketState: "idle", // idle | connecting | open | closed
    welcomed: false,
    attempt: 0,
    reconnectTimer: null,
    pageViewSent: false,
    stopped: false,
    convs: new Map(),
    current: saved.current || null,
    name: saved.name || "",
    email: saved.email || "",
    dismissed: new Set(saved.dismissed || []),
    // Frames with an id that the server has not acknowledged yet (resent on reconnect).
    unacked: new Map(),
    // Visitor messages not yet seen back from the server, by frame id (persisted).
    outbox: new Map((saved.outbox || []).map((m) => [m.id, m])),
    startPending: null, // the chat.start frame while waiting for its ack
    offline: null, // {reason, nextOpen, prefill} when the offline form is forced
    offlineSent: null, // {name} after an offline message was stored
    open: session.getItem(OPEN_KEY) === "1",
    notice: "",
    typingSentAt: 0,
    typingOn: false,
    typingTimer: null,
    agentTypingTimer: null,
    confirmEnd: false,
    rating: 0,
    ratingSent: new Set(),
    // Calls: this tab's device id (hello.device_id), its party id (welcome.party_id),
    // and the call being placed from the pre-chat form until the server acks it.
    deviceId: "",
    callStart: null,
    callsKey: "",
    // Ids of frames whose errors are not worth a toast (call.stats samples).
    quiet: new Set(),
  };

  function convFromCache(id, cached) {
    const conv = newConv(id);
    for (const ev of cached.events || []) conv.events.set(ev.seq, ev);
    conv.lastSeq = cached.lastSeq || 0;
    conv.contig = cached.contig || 0;
    conv.seenSeq = cached.seenSeq || 0;
    conv.agentDeliveredSeq = cached.agentDeliveredSeq || 0;
    conv.agentReadSeq = cached.agentReadSeq || 0;
    conv.summary = cached.summary || null;
    conv.status = (cached.summary && cached.summary.status) || "queued";
    return conv;
  }

  function newConv(id) {
    return {
      id,
      events: new Map(),
      lastSeq: 0,
      contig: 0,
      seenSeq: 0,
      receiptSentDelivered: 0,
      receiptSentRead: 0,
      agentDeliveredSeq: 0,
      agentReadSeq: 0,
      summary: null,
      status: "queued",
      position: null,
      eta: null,
      agentTyping: false,
      agentName: "",
      rated: null,
      syncing: false,
    };
  }

  for (const [id, cached] of Object.entries(saved.convs || {})) {
    state.convs.set(id, convFromCache(id, cached));
  }

  let saveTimer = null;
  function save() {
    if (saveTimer) return;
    saveTimer = setTimeout(() => {
      saveTimer = null;
      const convs = {};
      for (const conv of state.convs.values()) {
        const events = sortedEvents(conv).slice(-MAX_CACHED_EVENTS);
        convs[conv.id] = {
          events,
          lastSeq: conv.lastSeq,
          contig: contiguousSeq(conv),
          seenSeq: conv.seenSeq,
          agentDeliveredSeq: conv.agentDeliveredSeq,
          agentReadSeq: conv.agentReadSeq,
          summary: conv.summary,
        };
      }
      try {
        local.setItem(
          STORE_KEY,
          JSON.stringify({
            current: state.current,
            name: state.name,
            email: state.email,
            dismissed: Array.from(state.dismissed).slice(-50),
            outbox: Array.from(state.outbox.values()),
            convs,
          }),
        );
      } catch (_e) {
        /* storage full or blocked: the server still has the history */
      }
    }, 50);
  }

  function sortedEvents(conv) {
    return Array.from(conv.events.values()).sort((a, b) => a.seq - b.seq);
  }

  // ------------------------------------------------------------------ page info
  function pageInfo() {
    const params = new URLSearchParams(location.search);
    const info = {
      url: clip(location.href, 2048),
      title: clip(document.title, 256),
      referrer: clip(document.referrer, 2048),
    };
    if (STAGE) info.stage = STAGE;
    for (const key of ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"]) {
      const value = params.get(key);
      if (value) info[key] = clip(value, 256);
    }
    return info;
  }

  // ------------------------------------------------------------------ REST
  async function api(method, path, body) {
    const response = await fetch(ORIGIN + path, {
      method,
      headers: body ? { "content-type": "application/json" } : undefined,
      body: body ? JSON.stringify(body) : undefined,
      credentials: "omit",
      mode: "cors",
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status}`);
    return response.status === 204 ? null : response.json();
  }

  function localeQuery() {
    const query = new URLSearchParams({ want: WANTED.join(",") });
    if (SITE) query.set("site", SITE);
    return query.toString();
  }

  /** The visitor's catalogue (GET /api/locales/widget, cached like /widget.js). */
  async function loadLocale() {
    const bundle = await api("GET", "/api/locales/widget?" + localeQuery());
    t = createTranslator(bundle);
    localeReady = true;
    widgetRoot.setAttribute("lang", t.locale);
    widgetRoot.setAttribute("dir", t.dir);
    if (t.locale === "fa" && !document.getElementById("nwcc-font")) {
      // @font-face does not apply inside a Shadow DOM: the face is declared on the page.
      document.head.append(h("link", { id: "nwcc-font", rel: "stylesheet", href: ORIGIN + "/static/fonts/vazirmatn.css" }));
    }
    reveal();
    renderedView = "";
    chatDom = null;
    if (callDom) {
      callDom.el.remove();
      callDom = null;
    }
    rebuildChrome();
    render();
  }

  async function renewToken() {
    const data = await api("POST", "/api/visitor/token", { token: state.token });
    state.token = data.token;
    state.visitorId = data.visitor_id;
    local.setItem(STORE_KEY + ".token", data.token);
    announceVisitor();
  }

  // The page may need the visitor's id, e.g. to report a purchase to
  // POST /api/journey/events so the journey shows what followed a contact:
  // window.ContactCenter.visitorId, or the "contactcenter:visitor" event.
  function announceVisitor() {
    window.ContactCenter = Object.freeze({ visitorId: state.visitorId });
    window.dispatchEvent(new CustomEvent("contactcenter:visitor", { detail: { visitorId: state.visitorId } }));
  }

  async function loadConfig() {
    try {
      state.config = await api("GET", "/api/widget/config?" + localeQuery());
      state.configError = false;
    } catch (_e) {
      state.configError = true;
    }
    render();
  }

  // ------------------------------------------------------------------ socket
  function connect() {
    if (state.stopped) return;
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    if (state.ws && (state.ws.readyState === WebSocket.OPEN || state.ws.readyState === WebSocket.CONNECTING)) return;
    state.socketState = "connecting";
    state.welcomed = false;
    let ws;
    try {
      ws = new WebSocket(WS_URL);
    } catch (_e) {
      scheduleReconnect();
      return;
    }
    state.ws = ws;
    ws.addEventListener("open", () => {
      const resume = [];
      for (const conv of state.convs.values()) {
        resume.push({ contact_id: conv.id, after_seq: contiguousSeq(conv) });
      }
      const hello = { type: "hello", token: state.token, resume };
      if (localeReady) hello.locale = t.locale;
      if (state.deviceId) hello.device_id = state.deviceId;
      ws.send(JSON.stringify(hello));
    });
    ws.addEventListener("message", (msg) => {
      let event;
      try {
        event = JSON.parse(msg.data);
      } catch (_e) {
        return;
      }
      if (ws !== state.ws) return;
      onEvent(event);
    });
    ws.addEventListener("close", (ev) => {
      if (ws !== state.ws) return;
      state.ws = null;
      state.socketState = "closed";
      state.welcomed = false;
      clearInterval(state.pingTimer);
      render();
      if (ev.code === 4401) {
        // The token expired or the key changed: get a new one, then come back.
        renewToken().then(scheduleReconnect, scheduleReconnect);
        return;
      }
      if (ev.code === 4403) {
        state.stopped = true; // this site may not use the chat; do not hammer the server
        toast(t("widget.error.not_on_site"));
        return;
      }
      scheduleReconnect(ev.code === 4429 ? 5 : 0);
    });
  }

  function scheduleReconnect(extraAttempts) {
    if (state.stopped || state.reconnectTimer) return;
    state.attempt = Math.min(state.attempt + 1 + (extraAttempts || 0), 10);
    const base = Math.min(15000, 400 * 2 ** (state.attempt - 1));
    const delay = base * (0.75 + Math.random() * 0.5);
    state.reconnectTimer = setTimeout(() => {
      state.reconnectTimer = null;
      connect();
    }, delay);
  }

  function reconnectNow() {
    if (state.stopped) return;
    if (!state.ws) {
      clearTimeout(state.reconnectTimer);
      state.reconnectTimer = null;
      connect();
    }
  }

  function rawSend(frame) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN && state.welcomed) {
      state.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  /** A frame with an id: remembered until acked, resent (same id) after reconnects. */
  function request(frame) {
    if (!frame.id) frame.id = newId(frame.type.replace(".", ""));
    state.unacked.set(frame.id, frame);
    rawSend(frame);
    return frame.id;
  }

  function contiguousSeq(conv) {
    // Resume after the last seq we hold without a gap (events start at seq 1; older
    // events may have been trimmed from the cache, so we keep the high-water mark).
    while (conv.events.has(conv.contig + 1)) conv.contig += 1;
    return conv.contig;
  }

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
      case "chat.typing":
        if (event.by === "agent") {
          const conv = state.convs.get(event.contact_id);
          if (!conv) break;
          conv.agentTyping = !!event.typing;
          if (event.name) conv.agentName = event.name;
          clearTimeout(state.agentTypingTimer);
          if (conv.agentTyping) {
            state.agentTypingTimer = setTimeout(() => {
              conv.agentTyping = false;
              render();
            }, 8000);
          }
          render();
        }
        break;
      case "chat.receipt":
        if (event.by === "agent") {
          const conv = state.convs.get(event.contact_id);
          if (!conv) break;
          if (event.state === "read") conv.agentReadSeq = Math.max(conv.agentReadSeq, event.seq);
          conv.agentDeliveredSeq = Math.max(conv.agentDeliveredSeq, event.seq);
          save();
          render();
        }
        break;
      case "queue.position": {
        const conv = ensureConv(event.contact_id);
        conv.position = event.position;
        conv.eta = event.eta_s === undefined ? null : event.eta_s;
        render();
        break;
      }
      case "contact.overflowed":
        onOverflow(event);
        break;
      case "pong":
        break;
      default:
        if (CONVERSATION_TYPES.has(event.type) && typeof event.seq === "number") {
          addConversationEvent(event);
        }
    }
  }

  function ensureConv(id) {
    let conv = state.convs.get(id);
    if (!conv) {
      conv = newConv(id);
      state.convs.set(id, conv);
    }
    return conv;
  }

  function onWelcome(event) {
    state.welcomed = true;
    state.socketState = "open";
    state.skew = event.server_time ? event.server_time - Date.now() / 1000 : 0;
    state.attempt = 0;
    state.visitorId = event.user_id;
    if (!state.name && event.name) state.name = event.name;
    const listed = new Set();
    for (const summary of event.contacts || []) {
      listed.add(summary.id);
      const conv = ensureConv(summary.id);
      if (contiguousSeq(conv) > (summary.last_seq || 0)) {
        // Our cache is ahead of the server (a reset database): start over.
        conv.events.clear();
        conv.lastSeq = 0;
        conv.contig = 0;
      }
      conv.summary = summary;
      conv.status = summary.status;
      conv.agentName = summary.agent_name || conv.agentName;
      conv.agentReadSeq = Math.max(conv.agentReadSeq, summary.agent_read_seq || 0);
      conv.agentDeliveredSeq = Math.max(conv.agentDeliveredSeq, conv.agentReadSeq);
      if (summary.csat) conv.rated = summary.csat;
      conv.receiptSentDelivered = Math.max(conv.receiptSentDelivered, summary.visitor_read_seq || 0);
      conv.receiptSentRead = Math.max(conv.receiptSentRead, summary.visitor_read_seq || 0);
    }
    // Conversations the server no longer lists are over and old: forget them.
    for (const id of Array.from(state.convs.keys())) {
      if (!listed.has(id)) state.convs.delete(id);
    }
    for (const [id, msg] of state.outbox) {
      if (!listed.has(msg.contact_id)) state.outbox.delete(id);
    }
    for (const [id, frame] of state.unacked) {
      if (frame.contact_id && !listed.has(frame.contact_id)) state.unacked.delete(id);
    }
    if (state.current && !state.convs.has(state.current)) state.current = null;
    // A finished chat that was rated (or never reached anyone) is not shown again on
    // the next page: the visitor starts fresh.
    const cur = state.current ? state.convs.get(state.current) : null;
    if (cur && (cur.status === "ended" || cur.status === "abandoned") && (cur.rated || !hasJoined(cur)) && !state.ratingSent.has(cur.id)) {
      state.dismissed.add(cur.id);
      state.current = null;
    }
    if (!state.current) state.current = pickCurrent(event.contacts || []);
    // Resend what the server has not acknowledged, in the order it was sent.
    for (const frame of state.unacked.values()) rawSend(frame);
    for (const msg of state.outbox.values()) {
      if (!state.unacked.has(msg.id)) {
        const frame = { type: "chat.message", id: msg.id, contact_id: msg.contact_id, body: msg.body };
        state.unacked.set(msg.id, frame);
        rawSend(frame);
      }
    }
    if (!state.pageViewSent && (!state.config || state.config.track_page_views !== false)) {
      state.pageViewSent = true;
      rawSend({ type: "page.view", page: pageInfo() });
    }
    clearInterval(state.pingTimer);
    state.pingTimer = setInterval(() => rawSend({ type: "ping" }), 25000);
    state.quiet.clear();
    calls.partyId = event.party_id || "";
    calls.socketUp();
    save();
    render();
  }

  function pickCurrent(contacts) {
    const open = contacts.filter((c) => c.status === "queued" || c.status === "active");
    if (open.length) return open[open.length - 1].id;
    const closed = contacts.filter(
      (c) => c.status === "ended" && c.answered_at && !c.csat && !state.dismissed.has(c.id),
    );
    return closed.length ? closed[closed.length - 1].id : null;
  }

  function addConversationEvent(event) {
    const conv = ensureConv(event.contact_id);
    if (conv.events.has(event.seq)) return; // duplicate (replay overlapping live)
    const expected = contiguousSeq(conv) + 1;
    conv.events.set(event.seq, event);
    conv.lastSeq = Math.max(conv.lastSeq, event.seq);
    if (event.seq > expected && !conv.syncing && state.welcomed) {
      // A gap: ask for what we missed.
      conv.syncing = true;
      rawSend({ type: "sync", contact_id: conv.id, after_seq: expected - 1, id: newId("sync") });
    }
    switch (event.type) {
      case "chat.message":
        if (event.sender && event.sender.kind === "visitor" && event.client_id) {
          state.outbox.delete(event.client_id);
          state.unacked.delete(event.client_id);
        }
        if (event.sender && event.sender.kind === "agent") {
          conv.agentTyping = false;
          scheduleReceipts();
        }
        break;
      case "contact.joined":
        if (conv.status === "queued") conv.status = "active";
        conv.agentName = event.agent_name || conv.agentName;
        conv.position = null;
        break;
      case "contact.transferred":
        if (conv.status === "active") conv.status = "queued";
        conv.agentTyping = false;
        break;
      case "contact.ended":
        if (conv.status === "queued" || conv.status === "active") {
          conv.status = hasJoined(conv) ? "ended" : "abandoned";
        }
        conv.agentTyping = false;
        conv.position = null;
        for (const [id, msg] of state.outbox) if (msg.contact_id === conv.id) state.outbox.delete(id);
        if (state.current === conv.id) state.confirmEnd = false;
        break;
      case "contact.rated":
        conv.rated = event.rating;
        break;
      default:
        break;
    }
    // A conversation we did not know about (started in another tab) becomes current
    // when we show nothing else.
    if (!state.current && (conv.status === "queued" || conv.status === "active")) state.current = conv.id;
    save();
    render();
  }

  function hasJoined(conv) {
    if (conv.summary && conv.summary.answered_at) return true;
    for (const ev of conv.events.values()) if (ev.type === "contact.joined") return true;
    return false;
  }

  function onAck(event) {
    state.quiet.delete(event.id);
    const frame = state.unacked.get(event.id);
    state.unacked.delete(event.id);
    if (frame && frame.type.startsWith("call.")) {
      onCallAck(frame, event);
      return;
    }
    if (!frame) {
      if (event.contact_id && state.convs.has(event.contact_id)) {
        state.convs.get(event.contact_id).syncing = false;
      }
      return;
    }
    switch (frame.type) {
      case "chat.start":
        state.startPending = null;
        if (event.contact_id) {
          const conv = ensureConv(event.contact_id);
          if (!conv.summary) {
            conv.summary = { id: event.contact_id, queue_id: frame.queue, name: frame.name, email: frame.email || "", status: "queued" };
          }
          state.current = event.contact_id;
        }
        break;
      case "chat.message": {
        // The ack carries the message's seq and stands for it: the server does not
        // echo a message to the socket that sent it (an echo from another bus is
        // dropped by seq).  Other tabs of this visitor get the event itself.
        const msg = state.outbox.get(frame.id);
        state.outbox.delete(frame.id);
        if (typeof event.seq === "number") {
          addConversationEvent({
            type: "chat.message",
            contact_id: frame.contact_id,
            seq: event.seq,
            at: msg ? msg.at : serverNow(),
            sender: { kind: "visitor", id: state.visitorId, name: state.name },
            body: frame.body,
            client_id: frame.id,
          });
        }
        break;
      }
      case "offline.message":
        state.offlineSent = { name: frame.name };
        state.offline = null;
        break;
      case "chat.rate":
        if (state.convs.has(frame.contact_id)) state.convs.get(frame.contact_id).rated = frame.rating;
        break;
      default:
        break;
    }
    save();
    render();
  }

  function onError(event) {
    if (event.ref && state.quiet.delete(event.ref)) return;
    const frame = event.ref ? state.unacked.get(event.ref) : null;
    if (frame && frame.type.startsWith("call.")) {
      state.unacked.delete(event.ref);
      calls.refused(frame, event);
      if (frame.type === "call.invite") state.callStart = null;
      render();
      return;
    }
    if (frame) {
      state.unacked.delete(event.ref);
      if (frame.type === "chat.start") {
        state.startPending = null;
        if (event.code === "closed") {
          state.offline = { reason: "closed", prefill: { name: frame.name, email: frame.email, message: frame.message }, queue: frame.queue };
          loadConfig();
        }
      } else if (frame.type === "chat.message") {
        const msg = state.outbox.get(frame.id);
        if (msg) msg.failed = event.code;
      } else if (frame.type === "sync") {
        for (const conv of state.convs.values()) conv.syncing = false;
      }
    }
    toast(friendlyError(event));
    save();
    render();
  }

  function friendlyError(event) {
    switch (event.code) {
      case "closed":
        return t("widget.error.closed");
      case "rate_limited":
        return t("widget.error.rate_limited");
      case "not_found":
        return t("widget.error.not_found");
      case "invalid_frame":
        return t("widget.error.invalid_frame");
      default:
        // The server writes its message in the language the socket said (hello.locale).
        return event.message ? String(event.message).slice(0, 160) : t("widget.error.generic");
    }
  }

  function onOverflow(event) {
    const conv = ensureConv(event.contact_id);
    if (event.to_queue) {
      conv.position = null;
      state.notice = t("widget.notice.overflowed");
      render();
      return;
    }
    conv.status = "offline";
    conv.position = null;
    const own = sortedEvents(conv)
      .filter((e) => e.type === "chat.message" && e.sender && e.sender.kind === "visitor")
      .map((e) => e.body);
    state.offline = {
      reason: event.reason,
      nextOpen: event.next_open || null,
      queue: conv.summary ? conv.summary.queue_id : null,
      prefill: {
        name: (conv.summary && conv.summary.name) || state.name,
        email: (conv.summary && conv.summary.email) || state.email,
        message: own.join("\n"),
      },
    };
    state.dismissed.add(conv.id);
    if (state.current === conv.id) state.current = null;
    save();
    loadConfig();
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

  function lastAgentSeq(conv) {
    let seq = 0;
    for (const ev of conv.events.values()) {
      if (ev.type === "chat.message" && ev.sender && ev.sender.kind === "agent" && ev.seq > seq) seq = ev.seq;
    }
    return seq;
  }

  function visible() {
    return state.open && document.visibilityState === "visible";
  }

  function flushReceipts() {
    if (!state.welcomed) return;
    for (const conv of state.convs.values()) {
      if (conv.status !== "active" && conv.status !== "queued") continue;
      const seq = lastAgentSeq(conv);
      if (!seq) continue;
      if (seq > conv.receiptSentDelivered) {
        if (rawSend({ type: "chat.receipt", contact_id: conv.id, seq, state: "delivered" })) {
          conv.receiptSentDelivered = seq;
        }
      }
      if (visible() && conv.id === state.current && seq > conv.receiptSentRead) {
        if (rawSend({ type: "chat.receipt", contact_id: conv.id, seq, state: "read" })) {
          conv.receiptSentRead = seq;
        }
      }
    }
    markSeen();
  }

  function markSeen() {
    const conv = state.current ? state.convs.get(state.current) : null;
    if (conv && visible()) {
      const seq = lastAgentSeq(conv);
      if (seq > conv.seenSeq) {
        conv.seenSeq = seq;
        save();
        renderBubble();
      }
    }
  }

  function typingInput() {
    const conv = currentConv();
    if (!conv || (conv.status !== "active" && conv.status !== "queued")) return;
    const now = Date.now();
    if (!state.typingOn || now - state.typingSentAt > 4000) {
      if (rawSend({ type: "chat.typing", contact_id: conv.id, typing: true })) {
        state.typingOn = true;
        state.typingSentAt = now;
      }
    }
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(stopTyping, 3000);
  }

  function stopTyping() {
    clearTimeout(state.typingTimer);
    state.typingTimer = null;
    if (!state.typingOn) return;
    state.typingOn = false;
    const conv = currentConv();
    if (conv) rawSend({ type: "chat.typing", contact_id: conv.id, typing: false });
  }

  // ------------------------------------------------------------------ actions
  function currentConv() {
    return state.current ? state.convs.get(state.current) || null : null;
  }

  function startChat(queue, name, email, message) {
    state.name = name;
    state.email = email;
    const frame = { type: "chat.start", id: newId("start"), queue, name, page: pageInfo() };
    if (email) frame.email = email;
    if (message) frame.message = message;
    state.startPending = frame;
    state.notice = "";
    request(frame);
    if (!state.ws) reconnectNow();
    save();
    render();
  }

  function sendMessage(body) {
    const conv = currentConv();
    if (!conv) return;
    stopTyping();
    const id = newId("msg");
    const msg = { id, contact_id: conv.id, body, at: serverNow() };
    state.outbox.set(id, msg);
    request({ type: "chat.message", id, contact_id: conv.id, body });
    if (!state.ws) reconnectNow();
    save();
    render();
  }

  function endChat() {
    const conv = currentConv();
    if (!conv) return;
    state.confirmEnd = false;
    stopTyping();
    request({ type: "chat.end", contact_id: conv.id });
    render();
  }

  function rate(rating, comment) {
    const conv = currentConv();
    if (!conv) return;
    const frame = { type: "chat.rate", contact_id: conv.id, rating };
    if (comment) frame.comment = comment;
    state.ratingSent.add(conv.id);
    request(frame);
    render();
  }

  function newChat() {
    if (state.current) state.dismissed.add(state.current);
    state.current = null;
    state.offline = null;
    state.offlineSent = null;
    state.notice = "";
    state.rating = 0;
    save();
    loadConfig();
    render();
    focusFirst();
  }

  function sendOffline(queue, name, email, message) {
    state.name = name;
    state.email = email;
    const frame = { type: "offline.message", queue, name, message, page: pageInfo() };
    if (email) frame.email = email;
    request(frame);
    if (!state.ws) reconnectNow();
    save();
    render();
  }


  // ------------------------------------------------------------------ calls
  // Voice and video calls with the agent (docs/protocol.md, "Calls"): from the pre-chat
  // form (a call routed like a chat), from an open chat, or the agent calling here.  The
  // call engine above does the WebRTC; this part draws the call over the conversation.
  const callsOn = callsSupported();
  state.deviceId = claimDeviceId(session, "nwcc.widget.device");
  const QUALITY_WARNINGS = ["high_rtt", "high_jitter", "high_loss", "low_mos"];

  const calls = new CallEngine({
    t: (key, params) => t(key, params),
    send(frame, reliable) {
      if (reliable) {
        request(frame);
        if (!state.ws) reconnectNow();
        return;
      }
      frame.id = newId("q");
      if (rawSend(frame)) state.quiet.add(frame.id);
    },
    changed(call) {
      if (call.phase === "incoming" && !call.announced) {
        call.announced = true;
        if (!state.open) setOpen(true); // a call for the visitor opens the panel
      }
      if (call.phase === "ended" && state.callStart && !call.contactId) state.callStart = null;
      // A step of a call redraws the panel; a detail (a stats sample, the other side
      // muted) only the call, so the conversation below is not rebuilt every few seconds.
      const key = callsKey();
      if (key !== state.callsKey) {
        state.callsKey = key;
        render();
      } else if (callDom) {
        renderCall();
      }
    },
  });

  function callsKey() {
    return Array.from(calls.calls.values(), (c) => `${c.id}:${c.phase}:${c.serverState}:${c.contactId}:${c.error}`).join("|");
  }

  function onCallAck(frame, event) {
    calls.acked(frame, event);
    if (frame.type === "call.invite" && frame.queue && event.contact_id) {
      const start = state.callStart;
      state.callStart = null;
      const conv = ensureConv(event.contact_id);
      if (!conv.summary) {
        conv.summary = {
          id: event.contact_id,
          queue_id: frame.queue,
          name: frame.name,
          email: frame.email || "",
          status: "queued",
          channel: frame.media === "video" ? "video" : "voice",
        };
      }
      state.current = event.contact_id;
      // What they wrote in the form goes to the agent as the first message.
      if (start && start.message) sendMessage(start.message);
      save();
      render();
    }
  }

  function isCallContact(conv) {
    const channel = conv && conv.summary && conv.summary.channel;
    return channel === "voice" || channel === "video";
  }

  /** A call from the pre-chat form: a new contact in ``queue``, routed like a chat. */
  function startCall(queue, name, email, message, media) {
    state.name = name;
    state.email = email;
    state.notice = "";
    state.callStart = { queue, name, media, message };
    save();
    render();
    calls.place({ media, queue, name, email, page: pageInfo() }).then(() => render());
  }

  /** Turn the open chat into a call with its agent. */
  function callAgent(media) {
    const conv = currentConv();
    if (!conv || conv.status !== "active" || calls.live) return;
    calls.place({ media, contactId: conv.id, peerName: conv.agentName });
  }

  function shownCall() {
    const live = calls.live;
    if (live) return live;
    const ringing = calls.ringing;
    if (ringing.length) return ringing[0];
    let ended = null;
    for (const call of calls.calls.values()) {
      if (call.phase === "ended" && (!ended || call.endedAt > ended.endedAt)) ended = call;
    }
    return ended;
  }

  function fmtTimer(ms) {
    const total = Math.max(0, Math.floor(ms / 1000));
    const hours = Math.floor(total / 3600);
    const mm = String(Math.floor((total % 3600) / 60)).padStart(hours ? 2 : 1, "0");
    const ss = String(total % 60).padStart(2, "0");
    return t.digits(hours ? `${hours}:${mm}:${ss}` : `${mm}:${ss}`);
  }

  function callPeerName(call) {
    const conv = call.contactId ? state.convs.get(call.contactId) : null;
    return (conv && conv.agentName) || call.peerName || brand();
  }

  function callStatus(call) {
    const conv = call.contactId ? state.convs.get(call.contactId) : null;
    switch (call.phase) {
      case "outgoing":
        if (!call.inviteSent) return t(call.media === "video" ? "call.starting_camera" : "call.starting_microphone");
        if (call.serverState === "ringing") return t("call.ringing");
        if (call.queue) {
          if (conv && conv.position) return t("widget.waiting.position", { position: conv.position });
          return t("widget.waiting.next");
        }
        return t("call.calling");
      case "incoming":
        return t(call.media === "video" ? "widget.call.incoming_video" : "widget.call.incoming");
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
    const ended = call.activeAt ? t("call.ended_after", { duration: fmtTimer(call.endedAt - call.activeAt) }) : t("call.ended");
    const caller = call.role === "caller";
    switch (call.reason) {
      case "completed":
        return ended;
      case "canceled":
        return t("call.canceled");
      case "rejected":
        return t(caller ? "widget.call.declined_yours" : "call.declined");
      case "missed":
        return t(caller ? "widget.call.no_answer" : "call.missed");
      case "busy":
        return t("widget.call.busy");
      case "failed":
        return t(call.error ? "widget.call.not_placed" : "call.could_not_connect");
      case "dropped":
        return t("widget.call.lost");
      case "replaced":
        return t("call.connecting");
      case "user_media_failed":
        return t(caller ? "widget.call.not_placed" : "widget.call.not_answered");
      default:
        return ended;
    }
  }

  function peerStateText(call, name) {
    const first = name.split(" ")[0];
    if (call.peer.onHold) return t("call.peer_on_hold", { name: first });
    const parts = [];
    if (call.peer.muted) parts.push(t("widget.call.peer_muted"));
    if (call.media === "video" && call.peer.cameraOff) parts.push(t("widget.call.peer_camera_off"));
    return parts.length ? t("widget.call.peer_state", { name: first, state: t.list(parts) }) : "";
  }

  function qualityText(call) {
    const warning = call.quality.mine || call.quality.theirs;
    if (!warning) return "";
    const what = QUALITY_WARNINGS.includes(warning) ? t(`widget.quality.${warning}`) : warning.replace(/_/g, " ");
    return t("widget.quality.weak", { what });
  }

  function playInto(video, stream) {
    if (video.srcObject === stream) return;
    video.srcObject = stream;
    if (stream) video.play().catch(() => {}); // autoplay may wait for a click: it retries then
  }

  let callDom = null;
  function buildCallDom() {
    const remote = h("video", { class: "call-remote", autoplay: true, playsinline: true });
    const local = h("video", { class: "call-local", autoplay: true, playsinline: true, "aria-label": t("call.your_camera") });
    local.muted = true;
    const avatar = h("div", { class: "call-avatar", "aria-hidden": "true" });
    const name = h("div", { class: "call-name" });
    const status = h("div", { class: "call-status", role: "status", "aria-live": "polite" });
    const peerState = h("div", { class: "call-peer-state" });
    const quality = h("div", { class: "call-quality", role: "status" });
    const notice = h("p", { class: "call-notice" });
    const error = h("p", { class: "call-error", role: "alert" });
    const mute = h(
      "button",
      { class: "call-btn mute", type: "button", onclick: () => calls.live && calls.setMuted(!calls.live.muted) },
      icon("mic"),
      icon("mic-off"),
    );
    const camera = h(
      "button",
      { class: "call-btn camera", type: "button", onclick: () => calls.live && calls.setCameraOff(!calls.live.cameraOff) },
      icon("video"),
      icon("video-off"),
    );
    const hangup = h(
      "button",
      { class: "call-btn hangup", type: "button", "aria-label": t("call.hang_up"), title: t("call.hang_up"), onclick: () => calls.hangup() },
      icon("hangup"),
    );
    const accept = h(
      "button",
      { class: "call-btn accept", type: "button", onclick: () => { const c = shownCall(); if (c) calls.accept(c.id); } },
      icon("phone"),
    );
    const decline = h(
      "button",
      { class: "call-btn hangup", type: "button", "aria-label": t("call.decline"), onclick: () => { const c = shownCall(); if (c) calls.reject(c.id); } },
      icon("hangup"),
    );
    const dismiss = h(
      "button",
      { class: "btn secondary small call-dismiss", type: "button", onclick: () => { const c = shownCall(); if (c) calls.dismiss(c.id); } },
      t("widget.ok"),
    );
    const stage = h("div", { class: "call-stage" }, remote, avatar, local);
    const info = h("div", { class: "call-info" }, name, status);
    const controls = h("div", { class: "call-controls" }, mute, camera, hangup);
    const answer = h(
      "div",
      { class: "call-answer" },
      h("div", { class: "call-choice-btn" }, decline, h("span", null, t("call.decline"))),
      h("div", { class: "call-choice-btn" }, accept, h("span", null, t("call.accept"))),
    );
    const ended = h("div", { class: "call-ended" }, error, dismiss);
    const el = h("section", { class: "call", "aria-label": t("call.call") }, stage, info, peerState, quality, notice, controls, answer, ended);
    return { el, remote, local, avatar, name, status, peerState, quality, notice, error, mute, camera, hangup, accept, controls, answer, ended, dismiss, shownId: null };
  }

  function renderCall() {
    const call = shownCall();
    if (!callDom) {
      callDom = buildCallDom();
      callBox.append(callDom.el);
    }
    const d = callDom;
    callBox.hidden = !call;
    if (!call) {
      playInto(d.remote, null);
      playInto(d.local, null);
      d.shownId = null;
      return;
    }
    const peer = callPeerName(call);
    const live = call.phase !== "ended" && call.phase !== "incoming";
    const video = call.media === "video";
    const remoteVideo =
      live &&
      video &&
      !!call.remote &&
      !call.peer.cameraOff &&
      call.remote.getVideoTracks().some((t) => t.readyState === "live" && !t.muted);
    const localVideo = live && video && !!call.local && !call.cameraOff && call.local.getVideoTracks().length > 0;
    d.el.className =
      `call phase-${call.phase} ${video ? "is-video" : "is-audio"}` +
      `${live && video ? " video-layout" : ""}${remoteVideo ? " has-remote-video" : ""}${localVideo ? " has-local-video" : ""}`;
    d.el.dataset.callId = call.id;
    playInto(d.remote, live ? call.remote : null);
    playInto(d.local, localVideo ? call.local : null);
    d.avatar.textContent = peer.trim().charAt(0).toUpperCase() || brand().charAt(0);
    d.name.textContent = peer;
    d.status.textContent = callStatus(call);
    const peerText = live ? peerStateText(call, peer) : "";
    d.peerState.hidden = !peerText;
    d.peerState.textContent = peerText;
    const qualityNow = live ? qualityText(call) : "";
    d.quality.hidden = !qualityNow;
    d.quality.textContent = qualityNow;
    d.notice.hidden = !(live && call.notice);
    d.notice.textContent = call.notice;
    d.controls.hidden = !live;
    d.camera.hidden = !video || call.noCamera;
    d.mute.setAttribute("aria-pressed", call.muted ? "true" : "false");
    d.mute.setAttribute("aria-label", t(call.muted ? "call.unmute" : "call.mute"));
    d.mute.title = t(call.muted ? "call.unmute" : "call.mute");
    d.camera.setAttribute("aria-pressed", call.cameraOff ? "true" : "false");
    d.camera.setAttribute("aria-label", t(call.cameraOff ? "call.camera_on" : "call.camera_off"));
    d.camera.title = d.camera.getAttribute("aria-label");
    d.answer.hidden = call.phase !== "incoming";
    d.accept.setAttribute("aria-label", t(video ? "call.accept_video" : "call.accept_voice"));
    d.ended.hidden = call.phase !== "ended";
    d.error.hidden = !call.error;
    d.error.textContent = call.error;
    d.dismiss.hidden = !call.error;
    if (d.shownId !== call.id) {
      d.shownId = call.id;
      if (call.phase === "incoming" && state.open) requestAnimationFrame(() => d.accept.focus({ preventScroll: true }));
    }
  }

  // The call timer.
  setInterval(() => {
    const call = calls.live;
    if (call && call.phase === "active" && callDom) callDom.status.textContent = callStatus(call);
  }, 1000);

  // Leaving the page ends the call this page is on (its media goes with the page).
  window.addEventListener("pagehide", () => {
    const live = calls.live;
    if (live) calls.hangup(live.id);
  });

  // ------------------------------------------------------------------ DOM
  const host = document.createElement("div");
  host.id = "northwind-chat-widget";
  host.style.display = "none"; // until our stylesheet and catalogue are here (no flash)
  const root = host.attachShadow({ mode: "open" });
  const link = h("link", { rel: "stylesheet", href: ORIGIN + "/static/widget/widget.css" });
  let styled = false;
  function reveal() {
    if (styled && localeReady) host.style.display = "";
  }
  link.addEventListener("load", () => {
    styled = true;
    reveal();
  });
  link.addEventListener("error", () => {
    styled = true;
    reveal();
  });

  const badge = h("span", { class: "badge", "aria-hidden": "true", hidden: true });
  const bubble = h(
    "button",
    {
      class: "bubble",
      type: "button",
      "aria-expanded": "false",
      "aria-controls": "nwcc-panel",
      onclick: () => setOpen(!state.open),
    },
    icon("chat", "icon-chat"),
    icon("close", "icon-close"),
    badge,
  );

  const headerTitle = h("div", { class: "title", id: "nwcc-title" });
  const headerSub = h("div", { class: "subtitle", "aria-live": "polite" });
  const endButton = h(
    "button",
    { class: "header-btn end-btn", type: "button", onclick: () => { state.confirmEnd = true; render(); } },
  );
  const minimizeButton = h(
    "button",
    { class: "header-btn icon-btn", type: "button", onclick: () => setOpen(false) },
    icon("minus"),
  );
  const avatar = h("div", { class: "avatar", "aria-hidden": "true" });
  const callButton = h(
    "button",
    { class: "header-btn icon-btn", type: "button", onclick: () => callAgent("audio") },
    icon("phone"),
  );
  const videoButton = h(
    "button",
    { class: "header-btn icon-btn", type: "button", onclick: () => callAgent("video") },
    icon("video"),
  );
  const callButtons = h("div", { class: "header-calls", hidden: true }, callButton, videoButton);
  const header = h(
    "header",
    { class: "panel-header" },
    avatar,
    h("div", { class: "heading" }, headerTitle, headerSub),
    callButtons,
    endButton,
    minimizeButton,
  );
  const callBox = h("div", { class: "call-box", hidden: true });
  const body = h("div", { class: "panel-body" });
  const toasts = h("div", { class: "toasts", role: "status", "aria-live": "assertive" });
  const footer = h("footer", { class: "panel-footer" });
  const panel = h(
    "section",
    {
      class: "panel",
      id: "nwcc-panel",
      role: "dialog",
      "aria-labelledby": "nwcc-title",
      "aria-modal": "false",
      hidden: true,
    },
    header,
    callBox,
    body,
    footer,
  );
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      setOpen(false);
    }
  });
  const widgetRoot = h("div", { class: "widget" }, panel, toasts, bubble);
  root.append(link, widgetRoot);

  /** The texts of the parts built once (the header, the footer): in the visitor's language. */
  function rebuildChrome() {
    endButton.textContent = t("widget.end_chat");
    minimizeButton.setAttribute("aria-label", t("widget.minimise"));
    footer.textContent = t("widget.footer", { brand: brand() });
  }

  function mount() {
    document.body.append(host);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  function setOpen(open) {
    state.open = open;
    session.setItem(OPEN_KEY, open ? "1" : "0");
    render();
    if (open) {
      if (!currentConv() && !state.startPending) loadConfig();
      flushReceipts();
      focusFirst();
    } else {
      bubble.focus();
    }
  }

  function focusFirst() {
    requestAnimationFrame(() => {
      const target =
        body.querySelector("[data-autofocus]") ||
        body.querySelector("textarea:not([disabled]), input:not([disabled]), button:not([disabled])");
      if (target && state.open) target.focus({ preventScroll: true });
    });
  }

  let toastTimer = null;
  function toast(text) {
    toasts.replaceChildren(h("div", { class: "toast" }, text));
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => toasts.replaceChildren(), 4500);
  }

  // ------------------------------------------------------------------ rendering
  let renderedView = "";
  let renderQueued = false;
  function render() {
    if (renderQueued) return;
    renderQueued = true;
    queueMicrotask(() => {
      renderQueued = false;
      renderNow();
    });
  }

  function view() {
    if (state.offlineSent) return "offline-sent";
    if (state.offline) return "offline";
    if (currentConv() || state.startPending || state.callStart) return "chat";
    if (!state.config) return state.configError ? "unavailable" : "loading";
    if (availableQueues().length === 0) return "offline";
    return "prechat";
  }

  function availableQueues() {
    return (state.config ? state.config.queues : []).filter((q) => q.open && q.online);
  }

  function renderBubble() {
    bubble.setAttribute("aria-expanded", state.open ? "true" : "false");
    bubble.setAttribute("aria-label", t(state.open ? "widget.close_chat" : "widget.open_chat"));
    bubble.classList.toggle("is-open", state.open);
    let unread = 0;
    const conv = currentConv();
    if (conv && !state.open) {
      for (const ev of conv.events.values()) {
        if (ev.type === "chat.message" && ev.sender && ev.sender.kind === "agent" && ev.seq > conv.seenSeq) unread += 1;
      }
    }
    badge.hidden = unread === 0;
    badge.textContent = unread > 9 ? t("widget.unread_many", { count: 9 }) : t.num(unread);
    if (unread) bubble.setAttribute("aria-label", t("widget.open_chat_unread", { count: unread }));
  }

  function renderNow() {
    if (!localeReady) return;
    renderBubble();
    panel.hidden = !state.open;
    const v = view();
    const conv = currentConv();
    // Header
    const agent = conv && conv.status === "active" ? conv.agentName : "";
    avatar.textContent = agent ? agent.trim().charAt(0).toUpperCase() : brand().charAt(0);
    avatar.classList.toggle("is-agent", !!agent);
    headerTitle.textContent = agent || brand();
    headerTitle.title = agent || brand();
    headerSub.textContent = subtitle(v, conv);
    // During a call its own hang-up button ends it: no second way to end the conversation.
    const onCall = !!calls.live && !!conv && calls.live.contactId === conv.id && isCallContact(conv);
    endButton.hidden = !(v === "chat" && conv && (conv.status === "active" || conv.status === "queued")) || onCall;
    const canCall =
      callsOn && v === "chat" && conv && conv.status === "active" && !isCallContact(conv) && !calls.live && !calls.ringing.length;
    callButtons.hidden = !canCall;
    header.classList.toggle("has-calls", !!canCall);
    if (canCall) {
      const first = conv.agentName ? conv.agentName.split(" ")[0] : "";
      const callLabel = first ? t("widget.call_name", { name: first }) : t("widget.call_agent");
      const videoLabel = first ? t("widget.video_call_name", { name: first }) : t("widget.video_call_agent");
      callButton.setAttribute("aria-label", callLabel);
      callButton.title = callLabel;
      videoButton.setAttribute("aria-label", videoLabel);
      videoButton.title = videoLabel;
    }
    panel.dataset.view = v;
    renderCall();

    if (v === "chat") {
      renderChat(conv);
    } else if (v !== renderedView) {
      // Forms are rebuilt only when the view changes (keeps what the visitor typed).
      body.replaceChildren(buildView(v));
      if (state.open) focusFirst();
    } else if (v === "offline" || v === "prechat") {
      refreshQueueOptions();
    }
    renderedView = v;
  }

  function subtitle(v, conv) {
    if (state.socketState !== "open" && (v === "chat" || state.startPending)) return t("call.reconnecting");
    const live = calls.live;
    if (live && live.phase !== "outgoing") return t(live.media === "video" ? "widget.sub.on_video_call" : "widget.sub.on_call");
    if (v === "chat" && conv) {
      if (conv.status === "active") return t("widget.sub.online");
      if (conv.status === "queued") return isCallContact(conv) || state.callStart ? t("call.calling") : t("widget.sub.waiting");
      return t("widget.sub.ended");
    }
    if (v === "offline" || v === "offline-sent") return t("widget.sub.reply_by_email");
    return t("widget.sub.usually");
  }

  function buildView(v) {
    if (v === "loading") return h("div", { class: "center muted" }, h("div", { class: "spinner", "aria-hidden": "true" }), t("call.connecting"));
    if (v === "unavailable") {
      return h(
        "div",
        { class: "center" },
        h("p", { class: "muted" }, t("widget.unavailable")),
        h("button", { class: "btn secondary", type: "button", onclick: loadConfig }, t("widget.try_again")),
      );
    }
    if (v === "prechat") return buildPrechat();
    if (v === "offline") return buildOffline();
    if (v === "offline-sent") return buildOfflineSent();
    return h("div");
  }

  function field(label, input, hint) {
    return h("label", { class: "field" }, h("span", { class: "label" }, label, hint ? h("span", { class: "hint" }, hint) : null), input);
  }

  function queueSelect(queues, selected, name) {
    const select = h("select", { name: name || "queue", required: true, class: "input" });
    fillQueueOptions(select, queues, selected);
    return select;
  }

  function fillQueueOptions(select, queues, selected) {
    const current = selected || select.value;
    select.replaceChildren(
      ...queues.map((q) => {
        const opt = h("option", { value: q.id }, q.name || q.id);
        if (q.id === current) opt.selected = true;
        return opt;
      }),
    );
  }

  function refreshQueueOptions() {
    const select = body.querySelector("select[name=queue]");
    if (!select) return;
    if (renderedView === "prechat") {
      const queues = availableQueues();
      if (queues.length) fillQueueOptions(select, queues);
    }
    const note = body.querySelector(".opening-note");
    if (note) note.textContent = openingText(select.value);
  }

  function buildPrechat() {
    const queues = availableQueues();
    const name = h("input", { class: "input", name: "name", required: true, maxlength: 128, autocomplete: "name", value: state.name, "data-autofocus": true });
    const email = h("input", { class: "input", name: "email", type: "email", dir: "ltr", maxlength: 256, autocomplete: "email", value: state.email });
    const topic = queueSelect(queues, null);
    const message = h("textarea", { class: "input", name: "message", rows: 3, maxlength: 4000, placeholder: t("widget.prechat.message_placeholder") });
    const form = h(
      "form",
      { class: "form prechat", novalidate: true },
      h("div", { class: "intro" }, h("h2", { class: "intro-title" }, t("widget.prechat.title")), h("p", { class: "muted" }, t("widget.prechat.intro"))),
      field(t("widget.field.name"), name),
      field(t("widget.field.email"), email, t("widget.field.optional")),
      queues.length > 1 ? field(t("widget.field.topic"), topic) : null,
      field(t("widget.field.help"), message, t("widget.field.optional")),
      h("p", { class: "form-error", role: "alert" }),
      h("button", { class: "btn primary block", type: "submit", "data-action": "start-chat" }, t("widget.prechat.start")),
      callsOn
        ? h(
            "div",
            { class: "call-options" },
            h("span", { class: "call-or" }, t("widget.prechat.or_talk")),
            h(
              "div",
              { class: "call-option-btns" },
              h("button", { class: "btn secondary call-start", type: "button", "data-media": "audio", onclick: () => begin("audio") }, icon("phone"), t("widget.prechat.call")),
              h("button", { class: "btn secondary call-start", type: "button", "data-media": "video", onclick: () => begin("video") }, icon("video"), t("widget.prechat.video_call")),
            ),
          )
        : null,
    );
    // The chat (submit) and the two call buttons share the form's checks.
    function begin(media) {
      const error = form.querySelector(".form-error");
      error.textContent = "";
      const nameValue = name.value.trim();
      if (!nameValue) {
        error.textContent = t(media ? "widget.form.name_before_call" : "widget.form.name_needed");
        name.focus();
        return;
      }
      if (email.value && !email.checkValidity()) {
        error.textContent = t("widget.form.email_invalid");
        email.focus();
        return;
      }
      const queueId = queues.length > 1 ? topic.value : queues[0] && queues[0].id;
      const chosen = (state.config.queues || []).find((q) => q.id === queueId);
      if (!chosen || !chosen.open || !chosen.online) {
        state.offline = {
          reason: chosen && !chosen.open ? "closed" : "no_agents",
          nextOpen: chosen ? chosen.next_open : null,
          queue: queueId,
          prefill: { name: nameValue, email: email.value.trim(), message: message.value.trim() },
        };
        render();
        return;
      }
      if (media) startCall(queueId, nameValue, email.value.trim(), message.value.trim(), media);
      else startChat(queueId, nameValue, email.value.trim(), message.value.trim());
    }
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      begin(null);
    });
    return form;
  }

  /** Why the offline form shows, for the chosen topic (queue). */
  function openingText(queueId) {
    const info = state.offline || {};
    const queues = state.config ? state.config.queues : [];
    const id = queueId || info.queue || (queues[0] && queues[0].id);
    const queue = queues.find((q) => q.id === id);
    const nextOpen = (queue && !queue.open && queue.next_open) || (id === info.queue && info.nextOpen);
    if (nextOpen) return t("widget.offline.closed_until", { when: fmtOpening(nextOpen) });
    if ((queue && !queue.open) || (id === info.queue && info.reason === "closed")) return t("widget.offline.closed");
    if (id === info.queue && info.reason === "max_wait") return t("widget.offline.max_wait");
    return t("widget.offline.no_agents");
  }

  function buildOffline() {
    const prefill = (state.offline && state.offline.prefill) || {};
    const queues = state.config ? state.config.queues : [];
    const name = h("input", { class: "input", name: "name", required: true, maxlength: 128, autocomplete: "name", value: prefill.name || state.name, "data-autofocus": true });
    const email = h("input", { class: "input", name: "email", type: "email", dir: "ltr", maxlength: 256, autocomplete: "email", value: prefill.email || state.email, required: true });
    const topic = queueSelect(queues, state.offline && state.offline.queue);
    const message = h("textarea", { class: "input", name: "message", rows: 4, maxlength: 4000, required: true, value: prefill.message || "" });
    topic.addEventListener("change", () => {
      const note = form.querySelector(".opening-note");
      if (note) note.textContent = openingText(topic.value);
    });
    const form = h(
      "form",
      { class: "form offline-form", novalidate: true },
      h(
        "div",
        { class: "intro" },
        h("div", { class: "intro-icon", "aria-hidden": "true" }, icon("mail")),
        h("h2", { class: "intro-title" }, t("widget.offline.title")),
        h("p", { class: "muted opening-note" }, openingText(topic.value)),
        h("p", { class: "muted" }, t("widget.offline.intro")),
      ),
      field(t("widget.field.name"), name),
      field(t("widget.field.email"), email),
      queues.length > 1 ? field(t("widget.field.topic"), topic) : null,
      field(t("widget.field.message"), message),
      h("p", { class: "form-error", role: "alert" }),
      h("button", { class: "btn primary block", type: "submit" }, t("widget.offline.send")),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const error = form.querySelector(".form-error");
      if (!name.value.trim()) {
        error.textContent = t("widget.form.name_needed");
        name.focus();
        return;
      }
      if (!email.value.trim() || !email.checkValidity()) {
        error.textContent = t("widget.form.email_needed");
        email.focus();
        return;
      }
      if (!message.value.trim()) {
        error.textContent = t("widget.form.message_needed");
        message.focus();
        return;
      }
      const queueId = queues.length > 1 ? topic.value : (queues[0] && queues[0].id) || (state.offline && state.offline.queue);
      if (!queueId) {
        error.textContent = t("widget.form.cannot_leave");
        return;
      }
      form.querySelector("button[type=submit]").disabled = true;
      sendOffline(queueId, name.value.trim(), email.value.trim(), message.value.trim());
    });
    return form;
  }

  function buildOfflineSent() {
    const first = (state.offlineSent.name || "").split(" ")[0];
    return h(
      "div",
      { class: "center thanks" },
      h("div", { class: "big-check", "aria-hidden": "true" }, icon("check")),
      h("h2", { class: "intro-title" }, first ? t("widget.thanks_name", { name: first }) : t("widget.thanks")),
      h("p", { class: "muted" }, t("widget.offline.sent")),
      h("button", { class: "btn secondary", type: "button", onclick: newChat, "data-autofocus": true }, t("widget.done")),
    );
  }

  // The chat view is built once per conversation and updated in place.
  let chatDom = null;
  function buildChatDom() {
    const list = h("ol", { class: "messages", "aria-label": t("widget.conversation"), "aria-live": "polite", "aria-relevant": "additions" });
    const waiting = h("div", { class: "waiting", role: "status" });
    const notice = h("div", { class: "notice", role: "status" });
    const typing = h("div", { class: "typing", "aria-live": "polite" });
    const input = h("textarea", {
      class: "composer-input",
      rows: 1,
      maxlength: 4000,
      placeholder: t("widget.composer.placeholder"),
      "aria-label": t("widget.field.message"),
      dir: "auto",
      "data-autofocus": true,
    });
    const sendBtn = h("button", { class: "send-btn", type: "submit", "aria-label": t("widget.composer.send") }, icon("send"));
    const composer = h("form", { class: "composer" }, input, sendBtn);
    composer.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      autosize(input);
      sendMessage(text.slice(0, 4000));
      input.focus();
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        composer.requestSubmit();
      }
    });
    input.addEventListener("input", () => {
      autosize(input);
      if (input.value.trim()) typingInput();
      else stopTyping();
    });
    input.addEventListener("blur", stopTyping);
    const confirm = h(
      "div",
      { class: "confirm", role: "alertdialog", "aria-label": t("widget.confirm_end") },
      h("span", null, t("widget.confirm_end")),
      h("button", { class: "btn danger small", type: "button", "data-action": "end-chat", onclick: endChat }, t("widget.end_chat")),
      h("button", { class: "btn secondary small", type: "button", onclick: () => { state.confirmEnd = false; render(); } }, t("widget.cancel")),
    );
    const closing = h("div", { class: "closing" });
    const scroller = h("div", { class: "scroller" }, waiting, list, typing, closing);
    const el = h("div", { class: "chat" }, notice, confirm, scroller, composer);
    return { el, list, waiting, notice, typing, input, composer, confirm, closing, scroller, convId: null, closingKey: "" };
  }

  function autosize(input) {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }

  /** The estimated wait as a visitor reads it (the server rounds it already). */
  function fmtEta(seconds) {
    if (seconds < 60) return t("widget.eta.under_minute");
    return t("widget.eta.minutes", { count: Math.round(seconds / 60) });
  }

  function renderChat(conv) {
    if (!chatDom || renderedView !== "chat") {
      chatDom = buildChatDom();
      body.replaceChildren(chatDom.el);
      if (state.open) focusFirst();
    }
    const d = chatDom;
    const nearBottom = d.scroller.scrollHeight - d.scroller.scrollTop - d.scroller.clientHeight < 80;

    d.confirm.hidden = !state.confirmEnd;
    d.notice.hidden = !state.notice;
    d.notice.textContent = state.notice;

    // Waiting banner
    const waitingNow = !conv || conv.status === "queued";
    d.waiting.hidden = !waitingNow;
    if (waitingNow) {
      const parts = [];
      if (!conv) parts.push(h("strong", null, t(state.callStart ? "widget.starting_call" : "widget.starting_chat")));
      else if (conv.position) {
        parts.push(h("strong", null, t("widget.waiting.position", { position: conv.position })));
        if (conv.eta !== null && conv.eta !== undefined) {
          parts.push(h("span", { class: "eta" }, ` · ${fmtEta(conv.eta)}`));
        }
      } else parts.push(h("strong", null, t("widget.waiting.next")));
      d.waiting.replaceChildren(h("div", { class: "pulse", "aria-hidden": "true" }), h("div", { class: "waiting-text" }, ...parts));
    }

    // Messages
    const items = [];
    if (conv) {
      const lastOwn = lastOwnSeq(conv);
      for (const ev of sortedEvents(conv)) items.push(renderEvent(conv, ev, lastOwn));
      for (const msg of state.outbox.values()) {
        if (msg.contact_id === conv.id) items.push(renderPending(msg));
      }
    } else if (state.startPending && state.startPending.message) {
      items.push(renderPending({ id: state.startPending.id, body: state.startPending.message, at: Date.now() / 1000 }));
    }
    d.list.replaceChildren(...items);

    // Typing indicator
    const typing = conv && conv.agentTyping && conv.status === "active";
    d.typing.hidden = !typing;
    if (typing) {
      d.typing.replaceChildren(
        h("span", { class: "dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")),
        h("span", { class: "typing-text" }, t("widget.typing", { name: conv.agentName || t("widget.agent") })),
      );
    }

    // Composer or closing card
    const open = !conv || conv.status === "queued" || conv.status === "active";
    d.composer.hidden = !open;
    const wasDisabled = d.input.disabled;
    d.input.disabled = !conv;
    if (wasDisabled && conv && state.open) focusFirstIn(d.composer);
    const closingKey = open ? "" : closingState(conv);
    d.closing.hidden = open;
    if (closingKey !== d.closingKey) {
      d.closingKey = closingKey;
      d.closing.replaceChildren(...(open ? [] : buildClosing(conv, closingKey)));
      if (!open && state.open) focusFirstIn(d.closing);
    }
    if (nearBottom || d.convId !== (conv && conv.id)) d.scroller.scrollTop = d.scroller.scrollHeight;
    d.convId = conv && conv.id;
    if (conv) markSeen();
  }

  function focusFirstIn(container) {
    requestAnimationFrame(() => {
      const target = container.querySelector("[data-autofocus], textarea, button");
      if (target) target.focus({ preventScroll: true });
    });
  }

  function lastOwnSeq(conv) {
    let seq = 0;
    for (const ev of conv.events.values()) {
      if (ev.type === "chat.message" && ev.sender && ev.sender.kind === "visitor" && ev.seq > seq) seq = ev.seq;
    }
    return seq;
  }

  function renderEvent(conv, ev, lastOwn) {
    if (ev.type === "chat.message") {
      const mine = ev.sender && ev.sender.kind === "visitor";
      const system = ev.sender && ev.sender.kind === "system";
      if (system) return h("li", { class: "event", dir: "auto" }, ev.body);
      const meta = h("div", { class: "meta" }, h("time", null, fmtTime(ev.at)));
      if (mine) meta.append(receiptMark(conv, ev.seq, ev.seq === lastOwn));
      return h(
        "li",
        { class: "msg " + (mine ? "mine" : "theirs"), "data-seq": ev.seq },
        !mine ? h("div", { class: "sender" }, h("bdi", null, (ev.sender && ev.sender.name) || t("widget.agent"))) : null,
        h("div", { class: "text", dir: "auto" }, ev.body),
        meta,
      );
    }
    if (ev.type === "contact.joined") {
      return h("li", { class: "event" }, ev.agent_name ? t("widget.event.joined", { name: ev.agent_name }) : t("widget.event.joined_anon"));
    }
    if (ev.type === "contact.transferred") return h("li", { class: "event" }, t("widget.event.transferred"));
    if (ev.type === "contact.ended") {
      return h("li", { class: "event" }, t(ev.by === "visitor" ? "widget.event.you_ended" : "widget.event.ended"));
    }
    if (ev.type === "contact.rated") return h("li", { class: "event" }, t("widget.event.rated", { rating: ev.rating }));
    return h("li", { class: "event" });
  }

  function receiptMark(conv, seq, isLast) {
    let label = t("widget.receipt.sent");
    let mark = "✓";
    let cls = "sent";
    if (seq <= conv.agentReadSeq) {
      label = t("widget.receipt.read");
      mark = label;
      cls = "read";
    } else if (seq <= conv.agentDeliveredSeq) {
      label = t("widget.receipt.delivered");
      mark = "✓✓";
      cls = "delivered";
    }
    return h("span", { class: "receipt " + cls + (isLast ? " last" : ""), title: label, "aria-label": label }, mark);
  }

  function renderPending(msg) {
    const status = msg.failed
      ? h("span", { class: "receipt failed", title: t("widget.receipt.not_sent") }, t("widget.receipt.not_sent"))
      : msg.seq
        ? h("span", { class: "receipt sent", title: t("widget.receipt.sent"), "aria-label": t("widget.receipt.sent") }, "✓")
        : h("span", { class: "receipt sending", title: t("widget.receipt.sending"), "aria-label": t("widget.receipt.sending") }, t("widget.receipt.sending_dots"));
    return h(
      "li",
      { class: "msg mine pending", "data-client-id": msg.id },
      h("div", { class: "text", dir: "auto" }, msg.body),
      h("div", { class: "meta" }, h("time", null, fmtTime(msg.at)), status),
    );
  }

  function closingState(conv) {
    if (conv.rated || state.ratingSent.has(conv.id)) return conv.rated ? "thanks" : "rating-sent";
    if (conv.status === "ended" && hasJoined(conv)) return "rate";
    return "ended";
  }

  function buildClosing(conv, key) {
    const again = h("button", { class: "btn secondary", type: "button", "data-action": "new-chat", onclick: newChat }, t("widget.new_chat"));
    if (key === "thanks" || key === "rating-sent") {
      return [
        h(
          "div",
          { class: "card thanks" },
          h("div", { class: "big-check", "aria-hidden": "true" }, icon("check")),
          h("h3", null, t("widget.rating.thanks")),
          h("p", { class: "muted" }, t("widget.rating.thanks_more")),
          again,
        ),
      ];
    }
    if (key === "ended") {
      return [h("div", { class: "card" }, h("p", { class: "muted" }, t("widget.error.closed")), again)];
    }
    // Rating prompt
    let chosen = 0;
    const stars = [];
    const isCall = isCallContact(conv);
    const group = h("div", { class: "stars", role: "radiogroup", "aria-label": t(isCall ? "widget.rating.group_call" : "widget.rating.group_chat", { low: 1, high: 5 }) });
    const comment = h("textarea", { class: "input", rows: 2, maxlength: 2000, dir: "auto", placeholder: t("widget.rating.comment_placeholder"), "aria-label": t("widget.rating.comment") });
    const submit = h("button", { class: "btn primary block", type: "submit", disabled: true }, t("widget.rating.send"));
    const paint = (n) => stars.forEach((s, i) => s.classList.toggle("on", i < n));
    for (let i = 1; i <= 5; i += 1) {
      const star = h(
        "button",
        {
          class: "star",
          type: "button",
          role: "radio",
          "aria-checked": "false",
          "aria-label": t("widget.rating.stars", { count: i }),
          "data-rating": i,
          onclick: () => {
            chosen = i;
            stars.forEach((s, j) => s.setAttribute("aria-checked", j === i - 1 ? "true" : "false"));
            paint(i);
            submit.disabled = false;
          },
          onmouseenter: () => paint(i),
          onmouseleave: () => paint(chosen),
        },
        icon("star"),
      );
      stars.push(star);
      group.append(star);
    }
    group.addEventListener("keydown", (e) => {
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        e.preventDefault();
        // The stars run with the text: the arrow towards its end gives one more.
        const forward = (e.key === "ArrowRight") === (t.dir !== "rtl");
        const next = Math.min(5, Math.max(1, (chosen || 0) + (forward ? 1 : -1)));
        stars[next - 1].click();
        stars[next - 1].focus();
      }
    });
    const form = h(
      "form",
      { class: "card rating" },
      h("h3", null, t("widget.rating.title")),
      h(
        "p",
        { class: "muted" },
        conv.agentName
          ? t(isCall ? "widget.rating.rate_call_with" : "widget.rating.rate_chat_with", { name: conv.agentName })
          : t(isCall ? "widget.rating.rate_call" : "widget.rating.rate_chat"),
      ),
      group,
      comment,
      submit,
      h("button", { class: "btn link", type: "button", onclick: newChat }, t("widget.rating.skip")),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!chosen) return;
      submit.disabled = true;
      rate(chosen, comment.value.trim().slice(0, 2000));
    });
    return [form];
  }

  // ------------------------------------------------------------------ lifecycle
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      flushReceipts();
      reconnectNow();
    }
  });
  window.addEventListener("online", reconnectNow);
  window.addEventListener("pagehide", stopTyping);

  // Render what we remember at once (a reloaded page shows its conversation before the
  // socket is back), then renew the token and connect.
  render();
  (async function boot() {
    for (let tries = 0; ; tries += 1) {
      try {
        await loadLocale();
        break;
      } catch (_e) {
        await new Promise((r) => setTimeout(r, Math.min(15000, 500 * 2 ** tries)));
      }
    }
    loadConfig();
    for (let tries = 0; ; tries += 1) {
      try {
        await renewToken();
        break;
      } catch (_e) {
        await new Promise((r) => setTimeout(r, Math.min(15000, 500 * 2 ** tries)));
      }
    }
    connect();
  })();
})();
