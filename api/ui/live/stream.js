// The live stream (GET .../live/stream: a snapshot, then one event per
// change), reconnected with back-off; the connection status in the header;
// the warm period after the server's start.

import { formatNumber, formatTime, t } from "../i18n.js";
import { HttpError, readStream } from "../sse.js";
import { drawState, renderFloor, renderSensors, scheduleUi } from "./board.js";
import { $, API_ROOT, floorOf, floorSpaces, parts, state, warming } from "./context.js";
import { refreshHealth, scheduleHealth } from "./refresh.js";
import { signOut } from "./session.js";

export function stopStream() {
  if (state.stream) state.stream.abort();
  state.stream = null;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function startStream(siteId) {
  stopStream();
  const ctrl = new AbortController();
  state.stream = ctrl;
  const timing = { base: 2000, delay: 2000 }; // the server's "retry:" value replaces base
  const url = new URL(`v1/sites/${encodeURIComponent(siteId)}/live/stream`, API_ROOT);
  while (!ctrl.signal.aborted) {
    setConn("connecting");
    try {
      await readOnce(url, ctrl, timing);
    } catch (exc) {
      if (ctrl.signal.aborted) return;
      if (exc instanceof HttpError && exc.status === 401) return signOut("signin_invalid");
      if (exc instanceof HttpError && exc.status === 403) return signOut("signin_forbidden");
    }
    if (ctrl.signal.aborted) return;
    // Back off (with jitter so many screens do not reconnect in step).
    const wait = Math.round(timing.delay * (0.8 + Math.random() * 0.4));
    state.retryAt = Date.now() + wait;
    setConn("reconnecting");
    await sleep(wait, ctrl.signal);
    timing.delay = Math.min(timing.delay * 2, 30000);
  }
  return undefined;
}

// One connection, until it ends; an event resets the back-off.
function readOnce(url, ctrl, timing) {
  return readStream(url, {
    key: state.key,
    signal: ctrl.signal,
    onRetry: (ms) => {
      timing.base = Math.max(500, ms);
    },
    onEvent: (type, data) => {
      if (ctrl.signal.aborted) return;
      timing.delay = timing.base;
      try {
        onStreamEvent(type, data);
      } catch (exc) {
        // A drawing bug must not look like a broken stream (and reconnect forever).
        console.error("could not apply a live event", exc);
      }
    },
  });
}

function onStreamEvent(type, data) {
  let body;
  try {
    body = JSON.parse(data);
  } catch {
    return;
  }
  if (type === "snapshot") onSnapshot(body);
  else if (type === "space") onSpace(body);
}

function onSnapshot(body) {
  const { plan, replay } = parts;
  state.live = new Map(body.spaces.map((s) => [s.space, s]));
  state.agents = body.agents || [];
  state.lastEventAt = body.at;
  setWarm(body.warm_until);
  setConn("live");
  if (replay.active) {
    scheduleUi();
    refreshHealth();
    return;
  }
  // A key that sees only some spaces (an agency's) gets the others drawn as outlines.
  if (floorSpaces().some((s) => plan.items.get(s.id)?.shown !== state.live.has(s.id))) {
    const focused = document.activeElement?.closest?.(".space")?.dataset.space;
    renderFloor();
    if (focused) plan.focusSpace(focused);
  } else {
    for (const id of plan.items.keys()) drawState(id);
  }
  scheduleUi();
  refreshHealth();
}

function onSpace(body) {
  const prev = state.live.get(body.space);
  state.live.set(body.space, body);
  state.lastEventAt = new Date().toISOString();
  if (floorOf(body.space) === state.floorId && !parts.replay.active) drawState(body.space);
  if ((prev?.state === "unknown") !== (body.state === "unknown")) scheduleHealth();
  scheduleUi();
}

function setWarm(iso) {
  state.warmUntil = iso ? Date.parse(iso) : 0;
  clearTimeout(state.warmTimer);
  const left = state.warmUntil - Date.now();
  if (left > 0) {
    state.warmTimer = setTimeout(() => {
      for (const id of parts.plan.items.keys()) drawState(id);
      renderWarm();
      renderSensors();
    }, left + 50);
  }
}

export function renderWarm() {
  const p = $("warm");
  const sensors = [...state.live.values()].filter((s) => s.sensor);
  const heard = sensors.filter((s) => s.reason !== "no data").length;
  p.hidden = !warming() || !sensors.length || heard === sensors.length;
  if (!p.hidden) p.textContent = t("warm_text", { n: sensors.length, heard: formatNumber(heard) });
}

// ---------------------------------------------------------------- connection status

export function setConn(conn) {
  state.conn = conn;
  renderConn();
}

export function renderConn() {
  const p = $("conn");
  p.dataset.conn = state.conn;
  let text = "";
  if (state.conn === "live") text = t("conn_live");
  else if (state.conn === "connecting") text = t("conn_connecting");
  else if (state.conn === "reconnecting") {
    text = t("conn_reconnecting", { s: Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000)) });
  }
  $("conn-text").textContent = text;
  $("conn-at").textContent =
    state.lastEventAt && state.conn !== "signed-out"
      ? ` · ${t("updated_at", { time: formatTime(state.lastEventAt, state.site?.timezone) })}`
      : "";
}
