// A WebSocket stream with the snapshot + sequence protocol: snapshot first, then deltas numbered per
// stream; a gap (a lost message) asks for a new snapshot; a dropped socket reconnects and starts over.
"use strict";
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
      if (msg.type === "snapshot") { lastSeq = msg.seq; handlers.snapshot(msg.data); return; }
      if (msg.type === "stats") { handlers.stats && handlers.stats(msg.data); return; }
      if (typeof msg.seq === "number") {
        if (lastSeq === null || msg.seq <= lastSeq) return;            // already in the snapshot
        if (msg.seq !== lastSeq + 1) { lastSeq = null; socket.send(JSON.stringify({type: "snapshot.request"})); return; }
        lastSeq = msg.seq;
      }
      handlers.event && handlers.event(msg);
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
function since(iso) {
  if (!iso) return "";
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
