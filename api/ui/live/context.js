// The live page's shared state: what the server said (registry, live states),
// what the page shows (site, floor, open search), and the page's parts (plan,
// filters, replay) set once at start-up by app.js. Also the small questions
// every module asks of that state: which floor a space is on, what it shows.

export const SITE_STORE = "occupancy.site";
export const FLOOR_STORE = "occupancy.floor";
export const NARROW = window.matchMedia("(max-width: 640px)");
export const TINTS = 6;
// The API sits one level above /ui/, also behind a reverse-proxy prefix.
export const API_ROOT = new URL("../", document.baseURI);

export const $ = (id) => document.getElementById(id);

export const state = {
  key: null,
  sites: [],
  site: null, // the registry of the chosen site
  floorId: null,
  spaces: new Map(), // registry spaces by id
  zones: new Map(),
  agencies: new Map(),
  live: new Map(), // live state by space id
  agents: [],
  lastEventAt: null,
  conn: "connecting",
  retryAt: 0,
  stream: null, // AbortController of the running stream
  health: null,
  healthForbidden: false,
  healthTimer: null,
  find: null, // {zone, kind, seats} while a search is shown
  detailsId: null,
  dirty: false,
  images: new Map(), // floor id -> blob URL of its plan image (null: none)
  warmUntil: 0, // until then, a sensor never heard is waiting, not silent
  warmTimer: null,
  service: null, // GET .../service/now, for a site with people counters
  serviceTimer: null,
};

// The page's parts: FloorPlan, Filters and Replay, made in app.js's main().
export const parts = { plan: null, filters: null, replay: null };

export function sortedFloors() {
  return [...state.site.floors].sort((a, b) => a.level - b.level);
}

export function currentFloor() {
  return state.site.floors.find((f) => f.id === state.floorId);
}

export function floorOf(spaceId) {
  const s = state.spaces.get(spaceId);
  return s ? state.zones.get(s.zone)?.floor : undefined;
}

export function floorSpaces(floorId = state.floorId) {
  return state.site.spaces.filter((s) => state.zones.get(s.zone)?.floor === floorId);
}

export function liveOf(id) {
  return state.live.get(id) || { space: id, state: "unknown", reason: "no data" };
}

// What the plan shows of a space: the replayed day's state, or the live one.
export function displayOf(id) {
  const { replay } = parts;
  if (replay.active) return replay.stateAt(id) || { space: id, state: "unknown", reason: "no data" };
  return liveOf(id);
}

export function warming() {
  return !parts.replay.active && Date.now() < state.warmUntil;
}

// A sensor not heard since the server started is waiting for its first
// heartbeat during the warm period: drawn as waiting, not as a problem.
export function shownState(live) {
  return live.state === "unknown" && live.reason === "no data" && warming() ? "waiting" : live.state;
}

export function visible(id) {
  const { replay } = parts;
  if (replay.active) return Boolean(replay.data.spaces[id]);
  // An agency key sees only its own zones; the others are drawn as outlines.
  return state.live.size === 0 || state.live.has(id);
}

export function countsOf(spaces) {
  const { replay } = parts;
  const c = { free: 0, occupied: 0, unknown: 0, total: 0 };
  for (const s of spaces) {
    const st = replay.active ? replay.stateAt(s.id)?.state : state.live.get(s.id)?.state;
    if (!st) continue; // not visible to this key
    c[st] += 1;
    c.total += 1;
  }
  return c;
}
