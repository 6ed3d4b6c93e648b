// A WebSocket stream with the snapshot + sequence protocol (boards/PROTOCOL.md): snapshot first, then
// deltas numbered per stream; a gap (a lost message) asks for a new snapshot; a dropped socket reconnects
// and starts over.
//
// What a message does to what a page shows is written once, as pure functions (sequenceStep, isNewer,
// applyConsole, applyWallboard). boards/tests/stream_mirror.py is their Python twin, function by function:
// the verify_action tests apply the server's real events with it and compare with a fresh snapshot, and a
// browser test runs both on the same messages. Change one, change the other.
"use strict";

// The wallboard's per-operator figures: they come only with the debounced `stats` message, never with an
// operator event.
const OPERATOR_FIGURES = ["calls_today", "talk_minutes", "no_answer"];

// What to do with a message, given the last number applied: [what, new last number], what being
// "snapshot", "stats", "apply", "ignore" (already in the snapshot) or "gap" (ask for a snapshot).
function sequenceStep(lastSeq, msg) {
  if (msg.type === "snapshot") return ["snapshot", msg.seq];
  if (msg.type === "stats") return ["stats", lastSeq];
  if (typeof msg.seq !== "number") return ["apply", lastSeq];     // unnumbered (an error)
  if (lastSeq === null || msg.seq <= lastSeq) return ["ignore", lastSeq];
  if (msg.seq !== lastSeq + 1) return ["gap", null];
  return ["apply", msg.seq];
}

// An operator's state is replaced only by a newer version of it: events of one operator may reach a page
// out of commit order (two servers, two workers), and an action's answer may arrive after a later event.
function isNewer(shown, incoming) {
  return !shown || incoming.version > shown.version;
}

// The console's state is its snapshot's data: operator, offer (the ringing card or null), pause_reasons,
// account. A newer operator version clears the card; an offer's card shows only while the operator is at
// the version it rang at.
function applyConsole(state, msg) {
  if (msg.type === "operator.state") {
    if (!isNewer(state.operator, msg.operator)) return state;
    return {...state, operator: msg.operator, offer: null};
  }
  if (msg.type === "offer") {
    if (!state.operator || state.operator.version !== msg.version) return state;
    return {...state, offer: msg.card};
  }
  return state;
}

// The wallboard's state is its snapshot's data: services, operators, channels, at. Operator events update
// an operator's presence; `stats` (a fresh snapshot, debounced) brings the figures and the list itself,
// except that a presence already newer than the figures' stays.
function applyWallboard(board, msg) {
  if (msg.type === "operator.state") {
    const i = board.operators.findIndex((o) => o.id === msg.operator.id);
    if (i < 0) return {...board, operators: [...board.operators, msg.operator]};
    if (!isNewer(board.operators[i], msg.operator)) return board;
    const operators = board.operators.slice();
    operators[i] = {...operators[i], ...msg.operator};
    return {...board, operators};
  }
  if (msg.type === "stats") {
    const shown = Object.fromEntries(board.operators.map((o) => [o.id, o]));
    const operators = msg.data.operators.map((fresh) => {
      const mine = shown[fresh.id];
      if (!mine || !isNewer(fresh, mine)) return fresh;
      const kept = {...mine};
      for (const key of OPERATOR_FIGURES) kept[key] = fresh[key];
      return kept;
    });
    return {...msg.data, operators};
  }
  return board;   // calls.changed: the server follows it with `stats`
}

function openStream(path, handlers) {
  let socket = null, lastSeq = null, retry = 500;
  const status = document.getElementById("link-status");
  function setStatus(text, ok) { if (status) { status.textContent = text; status.dataset.ok = ok ? "1" : "0"; } }
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}${path}`);
    socket.onopen = () => { retry = 500; setStatus(status ? status.dataset.live : "live", true); };
    socket.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      const [what, seq] = sequenceStep(lastSeq, msg);
      lastSeq = seq;
      if (what === "snapshot") handlers.snapshot(msg.data);
      else if (what === "stats") handlers.stats && handlers.stats(msg.data);
      else if (what === "gap") socket.send(JSON.stringify({type: "snapshot.request"}));
      else if (what === "apply") handlers.event && handlers.event(msg);
    };
    socket.onclose = () => {
      lastSeq = null; setStatus(status ? status.dataset.down : "reconnecting", false);
      setTimeout(connect, retry); retry = Math.min(retry * 2, 8000);
    };
  }
  connect();
  return { requestSnapshot: () => socket && socket.readyState === 1 && socket.send(JSON.stringify({type: "snapshot.request"})) };
}
function csrfToken() { const m = document.cookie.match(/csrftoken=([^;]+)/); return m ? m[1] : ""; }
async function post(url, body) {
  const r = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
                              body: JSON.stringify(body), credentials: "same-origin"});
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.detail || r.statusText);
  return data;
}
// A duration as the pages show every one: m:ss, or h:mm:ss from an hour; "–" when there is none.
function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}
function since(iso) {
  if (!iso) return "";
  return duration((Date.now() - Date.parse(iso)) / 1000);
}
// A translated sentence with {name} placeholders (the template gives the sentence, the data the values):
// the result is text, for textContent only.
function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (all, key) => (key in values ? String(values[key]) : all));
}
// An element with text: every value a user typed reaches the page through textContent, never as HTML.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.dataset[key.slice(5).replace(/-(\w)/g, (m, c) => c.toUpperCase())] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}
