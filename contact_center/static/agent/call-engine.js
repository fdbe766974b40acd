/*
 * Voice and video calls, the WebRTC side of docs/protocol.md ("Calls"), for the agent
 * console (imported as a module) and the widget: the server splices the section between
 * the two "call engine" markers into widget.js where it serves /widget.js, so the widget
 * stays one file that any site can embed and the engine has one source.
 */

// ---- call engine: begin ----
// One live call per page (plus any that ring here), driven by the server's call.* events.
// The host (the widget or the console) gives the engine `send(frame, reliable)` and
// `changed(call)`, feeds it every call.* event and the acks and errors of call frames,
// and draws `engine.calls`.
//
// Perfect negotiation (W3C): the server says which side is polite (call.state.polite:
// the agent; the visitor is impolite).  Every description and candidate of a call, and
// negotiationneeded itself, run in order on one promise chain, so an offer that collides
// with our own shows as signalingState !== "stable": the impolite side ignores it (and
// the candidates that come with it), the polite side rolls its own offer back and
// answers.  The first offer and its answer travel as call.offer / call.answer (the server
// holds the caller's offer until a device answers); every later one (an ICE restart) as
// call.negotiate.  ICE restart: a connection that turns "failed", or stays
// "disconnected" for a moment, calls restartIce(), which re-offers with new ICE
// credentials; the state is reported with call.media_state {connection} so the server
// knows the call is reconnecting.  Quality: every few seconds a call.stats sample from
// getStats() (RTT of the selected candidate pair, audio jitter, loss over the interval,
// outgoing bitrate, audio codec, relayed when our candidate is a TURN relay).

const CALL_STATS_EVERY_MS = 3000;
const CALL_RESTART_AFTER_MS = 2500;
const CALL_RESTART_MIN_GAP_MS = 5000;
const CALL_CANDIDATE_BATCH_MS = 40;
const CALL_CANDIDATES_PER_FRAME = 32;
const CALL_KEEP_ENDED_MS = 4000;
const CALL_ANSWERED = ["connecting", "active", "reconnecting"];

function callsSupported() {
  return !!(
    window.RTCPeerConnection &&
    navigator.mediaDevices &&
    navigator.mediaDevices.getUserMedia &&
    window.isSecureContext !== false
  );
}

function newCallId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * This page's device id for calls (hello.device_id), kept in sessionStorage so that a
 * reload or a dropped socket comes back as the same device and gets its calls back.
 * A duplicated tab copies sessionStorage, so the id is marked "open" while a page holds
 * it and freed on pagehide: a page that finds it still open (its original tab is alive)
 * takes a new one.
 */
function claimDeviceId(storage, key) {
  let id = storage.getItem(key) || "";
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(id) || storage.getItem(key + ".open") === "1") {
    id = "d" + newCallId().slice(0, 20);
  }
  const mark = (open) => {
    try {
      storage.setItem(key, id);
      storage.setItem(key + ".open", open ? "1" : "0");
    } catch (_e) {
      /* storage blocked: a fresh id per page is fine */
    }
  };
  mark(true);
  window.addEventListener("pagehide", () => mark(false));
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) mark(true);
  });
  return id;
}

/** What to tell a person whose browser refused the microphone or camera. */
function mediaErrorText(t, error, media) {
  const video = media === "video";
  const name = (error && error.name) || "";
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
    return t(video ? "call.media.blocked_video" : "call.media.blocked_audio");
  }
  if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") {
    return t(video ? "call.media.none_video" : "call.media.none_audio");
  }
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") {
    return t(video ? "call.media.busy_video" : "call.media.busy_audio");
  }
  if (name === "NotSupportedError") return t("call.media.unsupported");
  return t(video ? "call.media.failed_video" : "call.media.failed_audio", { name: name || "?" });
}

/** Simplified E-model (DESIGN.md section 6): 1 to about 4.4. */
function mosOf(rttMs, jitterMs, lossPct) {
  const latency = rttMs + 2 * jitterMs + 10;
  let r = latency < 160 ? 94.768 - latency / 40 : 94.768 - (latency - 120) / 10;
  r = Math.max(r - 2.5 * lossPct, 6.52);
  return 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
}

async function getCallMedia(media) {
  if (!callsSupported()) {
    const error = new Error("calls are not supported here");
    error.name = "NotSupportedError";
    throw error;
  }
  const audio = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  if (media !== "video") return { stream: await navigator.mediaDevices.getUserMedia({ audio }), noCamera: false };
  try {
    const video = { width: { ideal: 1280 }, height: { ideal: 720 } };
    return { stream: await navigator.mediaDevices.getUserMedia({ audio, video }), noCamera: false };
  } catch (error) {
    // No camera (or a broken one) but a microphone: go on with voice only.
    if (!["NotFoundError", "OverconstrainedError", "NotReadableError"].includes(error.name)) throw error;
    return { stream: await navigator.mediaDevices.getUserMedia({ audio }), noCamera: true };
  }
}

/** Ring tones made with WebAudio: no audio files. */
class Ringer {
  constructor() {
    this.ctx = null;
    this.out = null;
    this.timer = null;
    this.kind = "";
    // Browsers keep audio suspended until the person interacts with the page, and a
    // call may ring long after that interaction (an agent signs in, then waits).  So
    // open the audio context on the first click or key press: later rings are heard.
    const unlock = () => {
      window.removeEventListener("pointerdown", unlock, true);
      window.removeEventListener("keydown", unlock, true);
      const ctx = this.context();
      if (ctx && ctx.state === "suspended") ctx.resume().catch(() => {});
    };
    window.addEventListener("pointerdown", unlock, true);
    window.addEventListener("keydown", unlock, true);
  }

  context() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!this.ctx && Context) {
      try {
        this.ctx = new Context();
      } catch (_e) {
        return null;
      }
    }
    return this.ctx;
  }

  start(kind) {
    if (this.kind === kind) return;
    this.stop();
    const ctx = this.context();
    if (!ctx) return;
    if (ctx.state === "suspended") ctx.resume().catch(() => {});
    this.kind = kind;
    const out = ctx.createGain();
    out.gain.value = kind === "incoming" ? 0.12 : 0.05;
    out.connect(ctx.destination);
    this.out = out;
    // Incoming: a double ring (400 + 450 Hz); outgoing: the ringback the caller hears.
    const pattern =
      kind === "incoming"
        ? { freqs: [400, 450], bursts: [[0, 0.4], [0.6, 0.4]], period: 3 }
        : { freqs: [440, 480], bursts: [[0, 1.5]], period: 4.5 };
    const ring = () => {
      if (this.out !== out) return;
      const t0 = ctx.currentTime + 0.05;
      for (const [at, length] of pattern.bursts) {
        const envelope = ctx.createGain();
        envelope.gain.setValueAtTime(0, t0 + at);
        envelope.gain.linearRampToValueAtTime(1, t0 + at + 0.03);
        envelope.gain.setValueAtTime(1, t0 + at + length - 0.03);
        envelope.gain.linearRampToValueAtTime(0, t0 + at + length);
        envelope.connect(out);
        for (const freq of pattern.freqs) {
          const osc = ctx.createOscillator();
          osc.frequency.value = freq;
          osc.connect(envelope);
          osc.start(t0 + at);
          osc.stop(t0 + at + length + 0.02);
        }
      }
    };
    ring();
    this.timer = setInterval(ring, pattern.period * 1000);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.kind = "";
    if (this.out) {
      try {
        this.out.disconnect();
      } catch (_e) {
        /* already disconnected */
      }
      this.out = null;
    }
  }
}

/** A call.stats sample from getStats(), against the previous report's totals. */
function readCallStats(report, previous) {
  const byId = new Map();
  report.forEach((r) => byId.set(r.id, r));
  let pair = null;
  report.forEach((r) => {
    if (r.type === "transport" && r.selectedCandidatePairId) pair = byId.get(r.selectedCandidatePairId) || pair;
  });
  if (!pair) {
    report.forEach((r) => {
      if (!pair && r.type === "candidate-pair" && r.state === "succeeded" && (r.nominated || r.selected)) pair = r;
    });
  }
  const local = pair ? byId.get(pair.localCandidateId) : null;
  let rtt = pair && typeof pair.currentRoundTripTime === "number" ? pair.currentRoundTripTime * 1000 : null;
  let jitter = 0;
  let lost = 0;
  let received = 0;
  let sent = 0;
  let codec = "";
  report.forEach((r) => {
    if (r.type === "remote-inbound-rtp" && rtt === null && typeof r.roundTripTime === "number") rtt = r.roundTripTime * 1000;
    if (r.type === "inbound-rtp" && r.kind === "audio") {
      jitter = Math.max(jitter, (r.jitter || 0) * 1000);
      lost += Math.max(0, r.packetsLost || 0);
      received += r.packetsReceived || 0;
    }
    if (r.type === "outbound-rtp") {
      sent += r.bytesSent || 0;
      const c = r.kind === "audio" && r.codecId ? byId.get(r.codecId) : null;
      if (c && c.mimeType) codec = c.mimeType;
    }
  });
  const totals = { at: performance.now(), lost, received, sent };
  if (rtt === null) return { totals, sample: null };
  let loss = 0;
  let bitrate = null;
  if (previous) {
    const dLost = lost - previous.lost;
    const dReceived = received - previous.received;
    if (dLost > 0 && dLost + dReceived > 0) loss = (100 * dLost) / (dLost + dReceived);
    const dt = (totals.at - previous.at) / 1000;
    if (dt > 0) bitrate = Math.max(0, ((sent - previous.sent) * 8) / dt / 1000);
  }
  const round = (x) => Math.round(x * 100) / 100;
  const sample = { rtt_ms: round(Math.min(rtt, 60000)), jitter_ms: round(Math.min(jitter, 60000)), loss_pct: round(Math.min(loss, 100)) };
  if (bitrate !== null) sample.bitrate_kbps = round(bitrate);
  if (codec) sample.codec = codec.slice(0, 64);
  sample.relayed = !!local && local.candidateType === "relay";
  return { totals, sample };
}

class CallEngine {
  /**
   * host.send(frame, reliable): send a call frame (reliable ones are kept until acked
   * and resent after a reconnect); host.changed(call): redraw; host.declineOnly(call):
   * true when a callee whose media failed should decline (call.reject: a call from a
   * queue goes to the next agent) rather than hang up.
   */
  constructor(host) {
    this.host = host;
    // host.t(key, params): the page's translator (i18n-core.js); the texts are in calls.json.
    this.t = host.t || ((key) => key);
    this.calls = new Map();
    this.partyId = "";
    this.ringer = new Ringer();
  }

  /** The call that has (or is getting) this page's microphone and camera. */
  get live() {
    for (const call of this.calls.values()) {
      if (call.phase !== "ended" && call.phase !== "incoming") return call;
    }
    return null;
  }

  get ringing() {
    return Array.from(this.calls.values()).filter((c) => c.phase === "incoming");
  }

  _new(id, role, media) {
    const call = {
      id,
      role,
      media,
      contactId: "",
      queue: "",
      phase: role === "caller" ? "outgoing" : "incoming",
      serverState: "",
      reason: "",
      error: "",
      notice: "",
      peerName: "",
      callerKind: "",
      polite: null,
      iceServers: null,
      expiresAt: 0,
      pc: null,
      local: null,
      remote: null,
      noCamera: false,
      muted: false,
      cameraOff: false,
      peer: { muted: false, cameraOff: false, onHold: false },
      connection: "new",
      reported: "",
      activeAt: 0,
      endedAt: 0,
      quality: { mine: "", theirs: "", peerMos: null },
      stats: null,
      inviteSent: false,
      offerSent: false,
      answered: false,
      makingOffer: false,
      ignoreOffer: false,
      settingAnswer: false,
      remoteCandidates: [],
      outCandidates: [],
      chain: Promise.resolve(),
      timers: {},
      prevTotals: null,
      lastRestart: 0,
    };
    this.calls.set(id, call);
    return call;
  }

  _changed(call) {
    this._updateRinger();
    this.host.changed(call);
  }

  /** The ring tone follows the calls: ringback while our call rings the other side,
   *  the ring while a call rings here and we are on no other. */
  _updateRinger() {
    const live = this.live;
    if (live && live.phase === "outgoing" && live.serverState === "ringing") this.ringer.start("outgoing");
    else if (!live && this.ringing.length) this.ringer.start("incoming");
    else this.ringer.stop();
  }

  _declineOnly(call) {
    return !!(this.host.declineOnly && this.host.declineOnly(call));
  }

  _send(call, frame, reliable = true) {
    this.host.send({ ...frame, call_id: call.id }, reliable);
  }

  _queue(call, work) {
    call.chain = call.chain.then(work).catch((error) => {
      if (call.phase !== "ended") console.warn("call:", error && error.message ? error.message : error);
    });
    return call.chain;
  }

  // ------------------------------------------------------------------ actions

  /** Place a call: {media, queue, name, email, page} from the widget's form, or
   *  {media, contactId} on a conversation.  The microphone (and camera) are asked for
   *  first, so a refusal places no call. */
  async place(options) {
    if (this.live) return null;
    const call = this._new(newCallId(), "caller", options.media === "video" ? "video" : "audio");
    call.contactId = options.contactId || "";
    call.queue = options.queue || "";
    call.peerName = options.peerName || "";
    this._changed(call);
    try {
      const got = await getCallMedia(call.media);
      call.local = got.stream;
      call.noCamera = got.noCamera;
      if (got.noCamera) call.notice = this.t("call.no_camera");
    } catch (error) {
      call.error = mediaErrorText(this.t, error, call.media);
      this._finish(call, "user_media_failed");
      return call;
    }
    if (call.phase === "ended") {
      this._stopLocal(call);
      return call;
    }
    const frame = { type: "call.invite", media: call.media };
    if (options.contactId) frame.contact_id = options.contactId;
    if (options.queue) frame.queue = options.queue;
    if (options.name) frame.name = options.name;
    if (options.email) frame.email = options.email;
    if (options.page) frame.page = options.page;
    call.inviteSent = true;
    this._send(call, frame);
    this._changed(call);
    return call;
  }

  /** Answer a call ringing here: microphone (and camera) first, then call.accept. */
  async accept(id) {
    const call = this.calls.get(id);
    if (!call || call.phase !== "incoming" || this.live) return;
    call.phase = "answering";
    this._changed(call);
    try {
      const got = await getCallMedia(call.media);
      call.local = got.stream;
      call.noCamera = got.noCamera;
      if (got.noCamera) call.notice = this.t("call.no_camera");
    } catch (error) {
      if (call.phase !== "answering") return; // it ended meanwhile: nothing to tell
      call.error = mediaErrorText(this.t, error, call.media);
      if (this._declineOnly(call)) this._send(call, { type: "call.reject" });
      else this._send(call, { type: "call.hangup", reason: "user_media_failed" });
      this._finish(call, "user_media_failed");
      return;
    }
    if (call.phase !== "answering") {
      this._stopLocal(call); // answered elsewhere or canceled meanwhile
      return;
    }
    this._send(call, { type: "call.accept" });
  }

  reject(id, reason = "rejected") {
    const call = this.calls.get(id);
    if (!call || call.phase !== "incoming") return;
    const frame = { type: "call.reject" };
    if (reason === "busy") frame.reason = "busy";
    this._send(call, frame);
    this._finish(call, "rejected");
  }

  hangup(id, reason = "user_hangup") {
    const call = id ? this.calls.get(id) : this.live;
    if (!call || call.phase === "ended") return;
    if (call.phase === "incoming") {
      this.reject(call.id);
      return;
    }
    if (call.phase === "answering" && this._declineOnly(call)) {
      this._send(call, { type: "call.reject" }); // not answered yet: a call from a queue moves on
      this._finish(call, "rejected");
      return;
    }
    if (call.role === "caller" && !call.inviteSent) {
      this._finish(call, "canceled"); // still asking for the microphone: nothing was sent
      return;
    }
    this._send(call, { type: "call.hangup", reason });
    const answered = CALL_ANSWERED.includes(call.serverState);
    this._finish(call, answered ? "completed" : call.role === "caller" ? "canceled" : "rejected");
  }

  setMuted(muted) {
    const call = this.live;
    if (!call || !call.local) return;
    call.muted = !!muted;
    for (const track of call.local.getAudioTracks()) track.enabled = !call.muted;
    this._sendMediaState(call);
    this._changed(call);
  }

  setCameraOff(off) {
    const call = this.live;
    if (!call || !call.local || call.noCamera) return;
    call.cameraOff = !!off;
    for (const track of call.local.getVideoTracks()) track.enabled = !call.cameraOff;
    this._sendMediaState(call);
    this._changed(call);
  }

  /** Forget an ended call now (the person closed its card). */
  dismiss(id) {
    const call = this.calls.get(id);
    if (call && call.phase === "ended") {
      this.calls.delete(id);
      this._changed(call);
    }
  }

  // ------------------------------------------------------------------ from the host

  /** The socket is up again (welcome): a connection that broke meanwhile restarts ICE. */
  socketUp() {
    const call = this.live;
    if (call && call.pc && (call.pc.connectionState === "failed" || call.pc.connectionState === "disconnected")) {
      this._restartIce(call, true);
    }
  }

  /** The server acknowledged a call frame. */
  acked(frame, ack) {
    const call = this.calls.get(frame.call_id);
    if (call && frame.type === "call.invite" && ack.contact_id) {
      call.contactId = ack.contact_id;
      this._changed(call);
    }
  }

  /** The server refused a call frame. */
  refused(frame, error) {
    const call = this.calls.get(frame.call_id);
    if (!call) return;
    if (frame.type === "call.invite") {
      call.error = inviteErrorText(this.t, error);
      this._finish(call, "failed");
    } else if (frame.type === "call.accept" && call.phase === "answering") {
      call.error = error.code === "call_ended" ? this.t("call.ended_before_answer") : "";
      this._finish(call, "missed");
    } else if (frame.type !== "call.stats") {
      console.debug("call: %s refused: %s", frame.type, error.code);
    }
  }

  /** Every call.* event from the server.  Returns false for anything else. */
  onEvent(event) {
    const kind = event.type || "";
    if (!kind.startsWith("call.")) return false;
    const call = this.calls.get(event.call_id);
    switch (kind) {
      case "call.invite":
        this._onInvite(event);
        break;
      case "call.state":
        this._onState(call, event);
        break;
      case "call.offer":
        if (call) this._queue(call, () => this._onDescription(call, event.description, "call.answer"));
        break;
      case "call.answer":
        if (call) this._queue(call, () => this._onDescription(call, event.description, null));
        break;
      case "call.negotiate":
        if (call) this._queue(call, () => this._onDescription(call, event.description, "call.negotiate"));
        break;
      case "call.candidates":
        if (call) this._queue(call, () => this._onCandidates(call, event.candidates || []));
        break;
      case "call.media_state":
        if (call) {
          call.peer = { muted: !!event.muted, cameraOff: !!event.camera_off, onHold: !!event.on_hold };
          this._changed(call);
        }
        break;
      case "call.quality":
        if (call) {
          const mine = event.party_id === this.partyId;
          call.quality[mine ? "mine" : "theirs"] = event.warning || "";
          if (!mine) call.quality.peerMos = event.mos;
          this._changed(call);
        }
        break;
      default:
        break;
    }
    return true;
  }

  _onInvite(event) {
    let call = this.calls.get(event.call_id);
    if (call && call.phase !== "incoming") return; // answering already, or over
    if (!call) call = this._new(event.call_id, "callee", event.media === "video" ? "video" : "audio");
    call.contactId = event.contact_id || call.contactId;
    call.peerName = event.caller_name || call.peerName;
    call.callerKind = event.caller_kind || "";
    call.expiresAt = Date.now() + (event.lifetime || 45000);
    this._send(call, { type: "call.ringing" });
    this._changed(call);
  }

  _onState(call, event) {
    if (!call) {
      // A call this page does not know (the page was reloaded mid-call: its media is
      // gone).  The server gave it back to this device: end it rather than leave the
      // other side talking to nobody.
      if (event.state !== "ended" && event.role) {
        this.host.send({ type: "call.hangup", call_id: event.call_id, reason: "media_failed" }, false);
      }
      return;
    }
    call.serverState = event.state;
    if (event.contact_id) call.contactId = event.contact_id;
    if (event.ice_servers) call.iceServers = event.ice_servers;
    if (typeof event.polite === "boolean") call.polite = event.polite;
    if (event.role) call.role = event.role;
    switch (event.state) {
      case "initiating":
      case "ringing":
        if (call.role === "caller" && call.phase === "outgoing" && !call.pc && call.local) this._startPeer(call);
        break;
      case "connecting":
      case "active":
      case "reconnecting":
        if (call.phase === "incoming") return; // not for a device that only rang
        if ((call.phase === "outgoing" || call.phase === "answering") && (call.muted || call.cameraOff || call.noCamera)) {
          this._sendMediaState(call); // muted before the answer: tell the other side now
        }
        call.phase = event.state;
        if (!call.pc && call.local && call.role === "caller") this._startPeer(call);
        if (event.state === "active" && !call.activeAt) call.activeAt = Date.now();
        if (event.state === "active") this._startStats(call);
        break;
      case "ended":
        if (event.reason === "replaced" && event.replaced_by && call.local) this._giveWay(call, event.replaced_by);
        this._finish(call, event.reason || "completed");
        break;
      default:
        break;
    }
    this._changed(call);
  }

  /** Both sides called each other at once: the server keeps the other call and this
   *  device answers it at once, with the microphone and camera it already has. */
  _giveWay(call, winner) {
    const next = this.calls.get(winner) || this._new(winner, "callee", call.media);
    next.phase = "answering";
    next.local = call.local;
    next.noCamera = call.noCamera;
    next.contactId = call.contactId;
    next.peerName = next.peerName || call.peerName;
    call.local = null;
  }

  // ------------------------------------------------------------------ the peer

  _startPeer(call) {
    const pc = new RTCPeerConnection({ iceServers: call.iceServers || [] });
    call.pc = pc;
    call.remote = new MediaStream();
    pc.ontrack = (event) => {
      const track = event.track;
      if (!call.remote.getTracks().includes(track)) call.remote.addTrack(track);
      track.addEventListener("mute", () => this._changed(call));
      track.addEventListener("unmute", () => this._changed(call));
      track.addEventListener("ended", () => {
        call.remote.removeTrack(track);
        this._changed(call);
      });
      this._changed(call);
    };
    pc.onicecandidate = (event) => this._localCandidate(call, event.candidate);
    pc.onnegotiationneeded = () => this._queue(call, () => this._negotiate(call));
    pc.onconnectionstatechange = () => this._onConnection(call);
    if (call.role === "caller") {
      this._addTracks(call);
      if (call.media === "video" && !pc.getTransceivers().some((t) => t.receiver.track.kind === "video")) {
        pc.addTransceiver("video", { direction: "recvonly" }); // no camera here: still see theirs
      }
    }
  }

  _addTracks(call) {
    if (!call.local) return;
    for (const track of call.local.getTracks()) {
      if (!call.pc.getSenders().some((s) => s.track === track)) call.pc.addTrack(track, call.local);
    }
  }

  async _negotiate(call) {
    const pc = call.pc;
    if (!pc || call.phase === "ended" || pc.signalingState !== "stable") return;
    if (!call.answered && (call.role === "callee" || call.offerSent)) return; // the first exchange is not over
    try {
      call.makingOffer = true;
      await pc.setLocalDescription();
    } finally {
      call.makingOffer = false;
    }
    if (pc.signalingState !== "have-local-offer" || call.phase === "ended") return;
    const description = { type: "offer", sdp: pc.localDescription.sdp };
    if (call.role === "caller" && !call.offerSent) {
      call.offerSent = true;
      this._send(call, { type: "call.offer", description });
    } else {
      this._send(call, { type: "call.negotiate", description });
    }
  }

  async _onDescription(call, description, reply) {
    if (call.phase === "ended" || !description) return;
    if (!call.pc) {
      if (reply !== "call.answer" || !call.local) return;
      this._startPeer(call); // the callee's peer starts with the caller's offer
    }
    const pc = call.pc;
    const offer = description.type === "offer";
    const ready = !call.makingOffer && (pc.signalingState === "stable" || call.settingAnswer);
    const collision = offer && !ready;
    call.ignoreOffer = !call.polite && collision;
    if (call.ignoreOffer) return; // impolite: our own offer wins
    call.settingAnswer = !offer;
    try {
      if (collision) await pc.setLocalDescription({ type: "rollback" }); // polite: give way
      await pc.setRemoteDescription({ type: description.type, sdp: description.sdp });
    } finally {
      call.settingAnswer = false;
    }
    if (!offer) {
      call.answered = true;
      await this._flushRemoteCandidates(call);
      return;
    }
    if (reply === "call.answer") this._addTracks(call); // reuse the transceivers of the offer
    await pc.setLocalDescription();
    if (call.phase === "ended") return;
    this._send(call, { type: reply, description: { type: "answer", sdp: pc.localDescription.sdp } });
    call.answered = true;
    await this._flushRemoteCandidates(call);
  }

  async _onCandidates(call, candidates) {
    call.remoteCandidates.push(...candidates);
    await this._flushRemoteCandidates(call);
  }

  async _flushRemoteCandidates(call) {
    const pc = call.pc;
    if (!pc || !pc.remoteDescription || call.phase === "ended") return;
    const waiting = call.remoteCandidates.splice(0);
    for (const c of waiting) {
      const init = { candidate: c.candidate || "", sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex };
      if (c.usernameFragment) init.usernameFragment = c.usernameFragment;
      if (init.sdpMid === null && init.sdpMLineIndex === null) init.sdpMLineIndex = 0;
      try {
        await pc.addIceCandidate(init);
      } catch (error) {
        if (!call.ignoreOffer) console.debug("call: candidate not added:", error.message);
      }
    }
  }

  _localCandidate(call, candidate) {
    if (call.phase === "ended") return;
    if (candidate && !candidate.candidate) return; // a per-section end: ours follows
    let item;
    if (candidate) {
      const json = candidate.toJSON();
      item = { candidate: json.candidate, sdpMid: json.sdpMid, sdpMLineIndex: json.sdpMLineIndex };
      if (json.usernameFragment) item.usernameFragment = json.usernameFragment;
    } else {
      const first = call.pc.getTransceivers().find((t) => t.mid !== null);
      item = { candidate: "", sdpMid: first ? first.mid : "0", sdpMLineIndex: 0 }; // end of candidates
    }
    call.outCandidates.push(item);
    if (!call.timers.candidates) {
      call.timers.candidates = setTimeout(() => {
        call.timers.candidates = null;
        while (call.outCandidates.length && call.phase !== "ended") {
          this._send(call, { type: "call.candidates", candidates: call.outCandidates.splice(0, CALL_CANDIDATES_PER_FRAME) });
        }
      }, CALL_CANDIDATE_BATCH_MS);
    }
  }

  _onConnection(call) {
    const pc = call.pc;
    if (!pc || call.pc !== pc || call.phase === "ended") return;
    const state = pc.connectionState;
    call.connection = state;
    if ((state === "connected" || state === "disconnected" || state === "failed") && state !== call.reported) {
      call.reported = state;
      this._send(call, { type: "call.media_state", connection: state });
    }
    clearTimeout(call.timers.restart);
    if (state === "failed") this._restartIce(call, false);
    if (state === "disconnected") {
      call.timers.restart = setTimeout(() => {
        if (pc.connectionState === "disconnected") this._restartIce(call, false);
      }, CALL_RESTART_AFTER_MS);
    }
    this._changed(call);
  }

  _restartIce(call, force) {
    const pc = call.pc;
    if (!pc || call.phase === "ended" || !call.answered) return;
    if (!force && Date.now() - call.lastRestart < CALL_RESTART_MIN_GAP_MS) return;
    call.lastRestart = Date.now();
    pc.restartIce(); // negotiationneeded: a re-offer with new ICE credentials (call.negotiate)
  }

  _sendMediaState(call) {
    if (!CALL_ANSWERED.includes(call.serverState)) return; // sent once it is answered
    const frame = { type: "call.media_state", muted: call.muted };
    if (call.media === "video") frame.camera_off = call.cameraOff || call.noCamera;
    this._send(call, frame);
  }

  _startStats(call) {
    if (call.timers.stats) return;
    call.timers.stats = setInterval(() => {
      this._sample(call).catch((error) => console.debug("call: stats:", error.message));
    }, CALL_STATS_EVERY_MS);
  }

  async _sample(call) {
    const pc = call.pc;
    if (!pc || call.phase === "ended" || (call.serverState !== "active" && call.serverState !== "reconnecting")) return;
    const { totals, sample } = readCallStats(await pc.getStats(), call.prevTotals);
    call.prevTotals = totals;
    if (!sample || call.phase === "ended") return;
    call.stats = { ...sample, mos: mosOf(sample.rtt_ms, sample.jitter_ms, sample.loss_pct) };
    this._send(call, { type: "call.stats", ...sample }, false);
    this._changed(call);
  }

  // ------------------------------------------------------------------ the end

  _stopLocal(call) {
    if (call.local) for (const track of call.local.getTracks()) track.stop();
  }

  _finish(call, reason) {
    if (call.phase === "ended") {
      if (reason && call.reason !== "user_media_failed") call.reason = reason;
      this._changed(call);
      return;
    }
    call.phase = "ended";
    call.reason = reason;
    call.endedAt = Date.now();
    clearTimeout(call.timers.candidates);
    clearTimeout(call.timers.restart);
    clearInterval(call.timers.stats);
    call.outCandidates = [];
    if (call.pc) {
      call.pc.onconnectionstatechange = null;
      call.pc.onnegotiationneeded = null;
      call.pc.onicecandidate = null;
      call.pc.close();
    }
    this._stopLocal(call);
    // The card stays a moment ("Call ended"), longer when there is something to read.
    if (!call.error && reason !== "answered_elsewhere") {
      setTimeout(() => this.dismiss(call.id), CALL_KEEP_ENDED_MS);
    } else if (reason === "answered_elsewhere") {
      this.calls.delete(call.id);
    }
    this._changed(call);
  }
}

function inviteErrorText(t, error) {
  switch (error.code) {
    case "closed":
      return t("call.invite.closed");
    case "conflict":
      // The error's message_key says which conflict (its message is in the socket's language).
      return error.message_key === "error.call.no_agent_yet" ? t("call.invite.no_agent_yet") : t("call.invite.already");
    case "rate_limited":
      return t("call.invite.rate_limited");
    default:
      return error.message ? String(error.message).slice(0, 160) : t("call.invite.failed");
  }
}
// ---- call engine: end ----

export { CallEngine, callsSupported, claimDeviceId, mediaErrorText, mosOf };
