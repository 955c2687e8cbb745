// The live floor-plan page: site and floor pickers, the plan, counters per
// zone, free-space search, sensors needing attention, and the details dialog.
// Data: the registry (GET /v1/sites/{site}) once per site, then the live
// stream (snapshot + one event per change); sensor health on demand.

import {
  applyStatic,
  formatAgo,
  formatNumber,
  formatTime,
  lang,
  loadLang,
  preferredLang,
  t,
} from "./i18n.js";
import { Filters, renderSearch, searchSpaces } from "./filters.js";
import { Replay } from "./history.js";
import * as panels from "./panels.js";
import {
  renderDetailsDialog,
  renderSensorList,
  renderServicePanel,
  renderZoneTable,
} from "./panels.js";
import { FloorPlan } from "./plan.js";
import { HttpError, readStream } from "./sse.js";

const KEY_STORE = "occupancy.key";
const SITE_STORE = "occupancy.site";
const FLOOR_STORE = "occupancy.floor";
const NARROW = window.matchMedia("(max-width: 640px)");
const TINTS = 6;
// The API sits one level above /ui/, also behind a reverse-proxy prefix.
const API_ROOT = new URL("../", document.baseURI);

const $ = (id) => document.getElementById(id);

const state = {
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

let plan;
let filters;
let replay;

// ---------------------------------------------------------------- API access

async function api(path) {
  let res;
  try {
    res = await fetch(new URL(path, API_ROOT), {
      headers: { Authorization: `Bearer ${state.key}` },
      cache: "no-store",
    });
  } catch (exc) {
    throw new HttpError(0, exc.message);
  }
  if (!res.ok) {
    let detail = "";
    try {
      detail = (await res.json()).detail || "";
    } catch {
      /* not JSON */
    }
    throw new HttpError(res.status, typeof detail === "string" ? detail : "");
  }
  return res.json();
}

// The key arrives in the URL fragment (never sent to the server), is moved
// to sessionStorage and removed from the address bar and history.
function takeKeyFromUrl() {
  const params = new URLSearchParams(location.hash.slice(1));
  const key = params.get("key");
  if (key) {
    sessionStorage.setItem(KEY_STORE, key);
    params.delete("key");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
  return sessionStorage.getItem(KEY_STORE);
}

// ---------------------------------------------------------------- sign-in

// messageKey: an i18n key, so the message follows a language switch.
function showSignin(messageKey = "") {
  stopStream();
  $("board").hidden = true;
  $("page-error").hidden = true;
  $("signout").hidden = true;
  $("signin").hidden = false;
  const error = $("signin-error");
  if (messageKey) error.dataset.i18n = messageKey;
  else delete error.dataset.i18n;
  error.textContent = messageKey ? t(messageKey) : "";
  setConn("signed-out");
  $("key").focus();
}

function signOut(messageKey = "") {
  sessionStorage.removeItem(KEY_STORE);
  state.key = null;
  showSignin(messageKey);
}

async function onSignin(event) {
  event.preventDefault();
  const key = $("key").value.trim();
  if (!key) return;
  state.key = key;
  sessionStorage.setItem(KEY_STORE, key);
  $("key").value = "";
  await start();
}

// ---------------------------------------------------------------- start-up

async function start() {
  $("signin").hidden = true;
  $("signout").hidden = false;
  setConn("connecting");
  try {
    state.sites = await api("v1/sites");
  } catch (exc) {
    return handleLoadError(exc, start);
  }
  if (!state.sites.length) {
    return showPageError(t("load_error", { msg: "no sites" }));
  }
  const saved = localStorage.getItem(SITE_STORE);
  const site = state.sites.find((s) => s.id === saved) || state.sites[0];
  await chooseSite(site.id);
}

function handleLoadError(exc, retry) {
  if (exc.status === 401) return signOut("signin_invalid");
  if (exc.status === 403) return signOut("signin_forbidden");
  if (exc.status === 0) {
    showPageError(t("network_error"));
    setTimeout(retry, 5000);
    return undefined;
  }
  return showPageError(t("load_error", { msg: exc.message }));
}

function showPageError(text) {
  const p = $("page-error");
  p.textContent = text;
  p.hidden = false;
}

async function chooseSite(siteId) {
  stopStream();
  let site;
  try {
    site = await api(`v1/sites/${encodeURIComponent(siteId)}`);
  } catch (exc) {
    return handleLoadError(exc, () => chooseSite(siteId));
  }
  $("page-error").hidden = true;
  localStorage.setItem(SITE_STORE, site.id);
  state.site = site;
  state.spaces = new Map(site.spaces.map((s) => [s.id, s]));
  state.zones = new Map(site.zones.map((z) => [z.id, z]));
  state.agencies = new Map((site.agencies || []).map((a) => [a.id, a]));
  state.live = new Map();
  state.health = null;
  state.service = null;
  state.find = null;
  for (const url of state.images.values()) if (url) URL.revokeObjectURL(url);
  state.images = new Map();
  if (replay?.active) replay.stop();
  replay?.setBounds();
  const floors = sortedFloors();
  const savedFloor = localStorage.getItem(FLOOR_STORE);
  state.floorId = (floors.find((f) => f.id === savedFloor) || floors[0]).id;
  $("board").hidden = false;
  renderSitePicker();
  renderFloor();
  startStream(site.id);
  refreshService();
  return undefined;
}

function sortedFloors() {
  return [...state.site.floors].sort((a, b) => a.level - b.level);
}

function floorOf(spaceId) {
  const s = state.spaces.get(spaceId);
  return s ? state.zones.get(s.zone)?.floor : undefined;
}

function floorSpaces(floorId = state.floorId) {
  return state.site.spaces.filter((s) => state.zones.get(s.zone)?.floor === floorId);
}

function setFloor(floorId) {
  if (floorId === state.floorId) return;
  state.floorId = floorId;
  localStorage.setItem(FLOOR_STORE, floorId);
  state.find = null;
  closeDetails();
  renderFloor();
}

// ---------------------------------------------------------------- live stream

function stopStream() {
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

async function startStream(siteId) {
  stopStream();
  const ctrl = new AbortController();
  state.stream = ctrl;
  let base = 2000; // the server's "retry:" value replaces this
  let delay = base;
  const url = new URL(`v1/sites/${encodeURIComponent(siteId)}/live/stream`, API_ROOT);
  while (!ctrl.signal.aborted) {
    setConn("connecting");
    try {
      await readStream(url, {
        key: state.key,
        signal: ctrl.signal,
        onRetry: (ms) => {
          base = Math.max(500, ms);
        },
        onEvent: (type, data) => {
          if (ctrl.signal.aborted) return;
          delay = base;
          try {
            onStreamEvent(type, data);
          } catch (exc) {
            // A drawing bug must not look like a broken stream (and reconnect forever).
            console.error("could not apply a live event", exc);
          }
        },
      });
    } catch (exc) {
      if (ctrl.signal.aborted) return;
      if (exc instanceof HttpError && exc.status === 401) return signOut("signin_invalid");
      if (exc instanceof HttpError && exc.status === 403) return signOut("signin_forbidden");
    }
    if (ctrl.signal.aborted) return;
    // Back off (with jitter so many screens do not reconnect in step).
    const wait = Math.round(delay * (0.8 + Math.random() * 0.4));
    state.retryAt = Date.now() + wait;
    setConn("reconnecting");
    await sleep(wait, ctrl.signal);
    delay = Math.min(delay * 2, 30000);
  }
  return undefined;
}

function onStreamEvent(type, data) {
  let body;
  try {
    body = JSON.parse(data);
  } catch {
    return;
  }
  if (type === "snapshot") {
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
  } else if (type === "space") {
    const prev = state.live.get(body.space);
    state.live.set(body.space, body);
    state.lastEventAt = new Date().toISOString();
    if (floorOf(body.space) === state.floorId && !replay.active) drawState(body.space);
    if ((prev?.state === "unknown") !== (body.state === "unknown")) scheduleHealth();
    scheduleUi();
  }
}

function liveOf(id) {
  return state.live.get(id) || { space: id, state: "unknown", reason: "no data" };
}

// What the plan shows of a space: the replayed day's state, or the live one.
function displayOf(id) {
  if (replay.active) return replay.stateAt(id) || { space: id, state: "unknown", reason: "no data" };
  return liveOf(id);
}

function warming() {
  return !replay.active && Date.now() < state.warmUntil;
}

// A sensor not heard since the server started is waiting for its first
// heartbeat during the warm period: drawn as waiting, not as a problem.
function shownState(live) {
  return live.state === "unknown" && live.reason === "no data" && warming() ? "waiting" : live.state;
}

function drawState(id) {
  const live = displayOf(id);
  plan.setState(id, live, shownState(live));
}

function setWarm(iso) {
  state.warmUntil = iso ? Date.parse(iso) : 0;
  clearTimeout(state.warmTimer);
  const left = state.warmUntil - Date.now();
  if (left > 0) {
    state.warmTimer = setTimeout(() => {
      for (const id of plan.items.keys()) drawState(id);
      renderWarm();
      renderSensors();
    }, left + 50);
  }
}

function renderWarm() {
  const p = $("warm");
  const sensors = [...state.live.values()].filter((s) => s.sensor);
  const heard = sensors.filter((s) => s.reason !== "no data").length;
  p.hidden = !warming() || !sensors.length || heard === sensors.length;
  if (!p.hidden) p.textContent = t("warm_text", { n: sensors.length, heard: formatNumber(heard) });
}

// UI updates other than the plan itself are batched: a burst of changes
// arriving in one chunk redraws counters once.
function scheduleUi() {
  if (state.dirty) return;
  state.dirty = true;
  setTimeout(() => {
    state.dirty = false;
    renderCounters();
    renderFloorPicker();
    renderWarm();
    if (state.find) renderFind();
    if (state.detailsId) renderDetails();
    renderConn();
  }, 0);
}

function scheduleHealth() {
  clearTimeout(state.healthTimer);
  state.healthTimer = setTimeout(refreshHealth, 700);
}

async function refreshHealth() {
  clearTimeout(state.healthTimer);
  state.healthTimer = setTimeout(refreshHealth, 60000);
  if (!state.site) return;
  await refreshAlerts(); // first: the health answer then finds the alerts rendered
  try {
    state.health = await api(`v1/sites/${encodeURIComponent(state.site.id)}/sensors/health`);
    state.healthForbidden = false;
  } catch (exc) {
    if (exc.status === 403) state.healthForbidden = true;
    else if (exc.status === 401) return signOut("signin_invalid");
    else return undefined; // keep the last list; the stream shows the outage
  }
  renderSensors();
  return undefined;
}

// People in the building and visits today, from the door counters; a site
// without counters (or a key that may not see them) shows no panel.
async function refreshService() {
  clearTimeout(state.serviceTimer);
  if (!state.site?.entrances?.length) {
    state.service = null;
    return renderService();
  }
  state.serviceTimer = setTimeout(refreshService, 30000);
  const site = state.site.id;
  try {
    const answer = await api(`v1/sites/${encodeURIComponent(site)}/service/now`);
    if (state.site?.id === site) state.service = answer;
  } catch (exc) {
    if (exc.status === 401) return signOut("signin_invalid");
    if (exc.status === 403 || exc.status === 404) state.service = null;
    // otherwise keep the last answer; the stream shows the outage
  }
  return renderService();
}

function renderService() {
  renderServicePanel(panelCtx(), state.service);
}

// Open alerts (alerts/ in the API) head the attention list; agency keys get
// their own spaces' alerts, so they are fetched apart from the sensor health.
async function refreshAlerts() {
  try {
    const site = encodeURIComponent(state.site.id);
    state.alerts = (await api(`v1/sites/${site}/alerts?state=open&limit=50`)).alerts;
  } catch {
    state.alerts = null; // no alerts for this key, or a passing outage
  }
  renderAlerts();
}

function renderAlerts() {
  $("alert-list").replaceChildren(
    ...(state.alerts || []).map((a) => {
      const li = document.createElement("li");
      li.className = "p-alert";
      li.dataset.alert = a.state;
      const strong = document.createElement("strong");
      const space = a.context.space && state.spaces.get(a.context.space);
      const subject = space ? spaceName(space) : a.subject;
      strong.textContent = t("alert_line", { kind: t(`alert_${a.kind}`), subject });
      const meta = document.createElement("span");
      meta.className = "p-meta";
      const parts = [t("alert_since", { ago: formatAgo(a.fired_at) })];
      if (a.state === "acknowledged") parts.push(t("alert_acked", { who: a.acknowledged_by }));
      meta.textContent = parts.join(" · ");
      li.append(strong, meta);
      return li;
    }),
  );
}

// ---------------------------------------------------------------- connection status

function setConn(conn) {
  state.conn = conn;
  renderConn();
}

function renderConn() {
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

// ---------------------------------------------------------------- naming

function typeName(type) {
  return t(`type_${type}`);
}

// A registry name in the page's language, where the registry gives one.
function nameOf(thing) {
  if (!thing) return "";
  return thing[`name_${lang()}`] || thing.name || thing.id;
}

function spaceName(s) {
  return nameOf(s);
}

function describeSpace(id) {
  const s = state.spaces.get(id);
  const live = displayOf(id);
  const shown = shownState(live);
  const params = { name: spaceName(s), type: typeName(s.type), state: t(`state_${shown}`) };
  if (live.state === "occupied" && live.count != null) {
    return t("space_label_count", { ...params, count: t("people_of", { count: live.count, n: s.capacity }) });
  }
  return t("space_label", params);
}

// The visible people/capacity of a room ("3/12"); desks have none.
function countText(id, live) {
  const s = state.spaces.get(id);
  if (!s || s.type === "desk") return "";
  let now = "–";
  if (live.state === "occupied" && live.count != null) now = formatNumber(live.count);
  else if (live.state === "free") now = "0";
  else if (live.state === "unknown") now = "?";
  return `${now}/${formatNumber(s.capacity)}`;
}

// [full name, the short one for small spaces]: a desk's number, a room's
// proper name ("Aalto 2" of "Neuvotteluhuone Aalto 2" or "Meeting room
// Aalto 2": from the first capitalised word after the first), else its last word.
function shortName(id) {
  const s = state.spaces.get(id);
  const name = spaceName(s);
  if (!s.name && s.type === "desk") {
    const m = /(\d+)$/.exec(s.id);
    return [name, m ? String(Number(m[1])) : ""];
  }
  const words = name.split(" ");
  const proper = words.findIndex((w, i) => i > 0 && /^\p{Lu}/u.test(w));
  if (proper > 0) return [name, words.slice(proper).join(" ")];
  // no proper name ("Service point 1", "Puhelinkoppi 2.1"): its number
  return [name, words.length > 1 ? words[words.length - 1] : ""];
}

function zoneLabel(zone) {
  const agency = zone.agency ? nameOf(state.agencies.get(zone.agency)) || zone.agency : t("zone_shared");
  return { name: nameOf(zone), agency };
}

function visible(id) {
  if (replay.active) return Boolean(replay.data.spaces[id]);
  // An agency key sees only its own zones; the others are drawn as outlines.
  return state.live.size === 0 || state.live.has(id);
}

function currentFloor() {
  return state.site.floors.find((f) => f.id === state.floorId);
}

// ---------------------------------------------------------------- rendering

function renderSitePicker() {
  const select = $("site");
  select.replaceChildren(
    ...state.sites.map((s) => new Option(nameOf(s), s.id, false, s.id === state.site.id)),
  );
}

function countsOf(spaces) {
  const c = { free: 0, occupied: 0, unknown: 0, total: 0 };
  for (const s of spaces) {
    const st = replay.active ? replay.stateAt(s.id)?.state : state.live.get(s.id)?.state;
    if (!st) continue; // not visible to this key
    c[st] += 1;
    c.total += 1;
  }
  return c;
}

function renderFloorPicker() {
  const box = $("floors");
  const floors = sortedFloors();
  const existing = box.querySelectorAll("input");
  if (existing.length !== floors.length || box.dataset.site !== state.site.id) {
    box.dataset.site = state.site.id;
    box.replaceChildren(
      ...floors.map((f) => {
        const label = document.createElement("label");
        label.className = "segment";
        const input = document.createElement("input");
        input.type = "radio";
        input.name = "floor";
        input.value = f.id;
        input.addEventListener("change", () => setFloor(f.id));
        const name = document.createElement("span");
        name.className = "seg-name";
        const sub = document.createElement("span");
        sub.className = "seg-sub";
        label.append(input, name, sub);
        return label;
      }),
    );
  }
  for (const input of box.querySelectorAll("input")) {
    const f = floors.find((x) => x.id === input.value);
    const c = countsOf(floorSpaces(f.id));
    input.checked = f.id === state.floorId;
    input.parentElement.querySelector(".seg-name").textContent = nameOf(f);
    const known = state.conn === "live" || state.live.size || replay.active;
    // A floor with nothing this key may see says so, rather than "0 free".
    input.parentElement.querySelector(".seg-sub").textContent = !known
      ? ""
      : c.total === 0
        ? t("floor_none_yours")
        : t("floor_free", { n: c.free });
  }
}

// The floor's plan image, fetched with the key (an <image> cannot send it)
// and kept as a blob URL; null when the floor has none or it cannot be read.
async function loadPlanImage(floor) {
  if (!floor.image || state.images.has(floor.id)) return;
  state.images.set(floor.id, null);
  try {
    const res = await fetch(new URL(floor.image.url.replace(/^\//, ""), API_ROOT), {
      headers: { Authorization: `Bearer ${state.key}` },
    });
    if (!res.ok) return;
    state.images.set(floor.id, URL.createObjectURL(await res.blob()));
  } catch {
    return; // the spaces are drawn without the building's plan
  }
  if (state.floorId === floor.id) renderFloor();
}

function renderFloor() {
  const floor = currentFloor();
  const spaces = floorSpaces();
  const zoneIds = [...new Set(spaces.map((s) => s.zone))];
  const zoneColours = new Map(zoneIds.map((z, i) => [z, i % TINTS]));
  state.zoneColours = zoneColours;
  const rotated = NARROW.matches && floor.plan.width > floor.plan.height;
  // On a phone the default view is zoomed so the smallest space is a 24 px
  // target (25: a margin for rounding).
  const smallest = Math.min(...spaces.map((s) => Math.min(s.geometry.w, s.geometry.h)));
  const minScale = NARROW.matches && Number.isFinite(smallest) ? 25 / smallest : 0;
  const focused = document.activeElement?.closest?.(".space")?.dataset.space;
  plan.render({
    floor,
    spaces,
    zoneColours,
    zoneName: (z) => nameOf(state.zones.get(z)),
    rotated,
    visible,
    imageUrl: state.images.get(floor.id) || null,
    minScale,
  });
  for (const s of spaces) drawState(s.id);
  plan.relabel();
  if (focused && plan.items.has(focused)) plan.focusSpace(focused);
  loadPlanImage(floor);
  filters.populate(spaces);
  applyFilters();
  applySearch();
  renderFindZones();
  renderTexts();
}

function applyFilters() {
  plan.filter(filters.active ? (id) => filters.keep(state.spaces.get(id)) : null);
}

function applySearch() {
  const query = $("search").value;
  const ctx = { spaceName, typeName };
  const matches = searchSpaces(state.site.spaces, query, ctx);
  plan.mark(new Set(matches.filter((s) => floorOf(s.id) === state.floorId).map((s) => s.id)));
  renderSearch(matches, query, {
    ctx,
    floorName: (s) => nameOf(state.site.floors.find((f) => f.id === floorOf(s.id))),
    onChoose: (s) => {
      setFloor(floorOf(s.id));
      plan.focusSpace(s.id);
    },
  });
}

// Replay frames: the plan, the counters and the banner follow the slider.
function onReplayFrame() {
  $("replay-banner").hidden = !replay.active;
  $("board").classList.toggle("replaying", replay.active);
  if (floorSpaces().some((s) => plan.items.get(s.id)?.shown !== visible(s.id))) renderFloor();
  else for (const id of plan.items.keys()) drawState(id);
  renderCounters();
  renderFloorPicker();
  renderWarm();
}

// Everything that depends on the language or the floor, but not the plan shapes.
function renderTexts() {
  const floor = currentFloor();
  $("plan-title").textContent = `${nameOf(floor)} · ${nameOf(state.site)}`;
  $("plan").setAttribute("aria-label", t("plan_label", { floor: nameOf(floor) }));
  replay.render();
  renderFloorPicker();
  renderCounters();
  renderFind();
  renderSensors();
  renderService();
  renderConn();
  if (state.detailsId) renderDetails();
}

// ---------------------------------------------------------------- panels (panels.js)

function panelCtx() {
  const naming = { nameOf, spaceName, typeName, zoneLabel };
  const replaying = replay.active;
  return { state, plan, countsOf, floorSpaces, liveOf, openDetails, warming, replaying, ...naming };
}

function renderCounters() {
  renderZoneTable(panelCtx());
}

function renderFindZones() {
  panels.renderFindZones(panelCtx());
}

function onFind(event) {
  panels.onFind(panelCtx(), event);
}

function renderFind() {
  panels.renderFind(panelCtx());
}

function renderSensors() {
  renderSensorList(panelCtx());
}

function renderDetails() {
  renderDetailsDialog(panelCtx());
}



// ---------------------------------------------------------------- details

function openDetails(id) {
  state.detailsId = id;
  plan.select(id);
  renderDetails();
  const dialog = $("details");
  if (!dialog.open) dialog.showModal();
  $("d-close").focus();
}

function closeDetails() {
  const dialog = $("details");
  if (dialog.open) dialog.close();
}

function onDetailsClosed() {
  const id = state.detailsId;
  state.detailsId = null;
  plan.select(null);
  // "close" is queued after the dialog closes: focus may have moved on since
  // (a quick Tab), and must not be pulled back.
  const at = document.activeElement;
  const idle = !at || at === document.body || $("details").contains(at) || at.closest?.(".space");
  if (id && floorOf(id) === state.floorId && idle) plan.focusSpace(id);
}

// ---------------------------------------------------------------- language

async function setLang(code) {
  await loadLang(code);
  applyStatic();
  for (const b of document.querySelectorAll(".langs button")) {
    b.setAttribute("aria-pressed", String(b.dataset.lang === code));
  }
  if (state.site && !$("board").hidden) {
    renderSitePicker();
    renderFindZones();
    plan.setZoneNames((z) => nameOf(state.zones.get(z)));
    for (const id of plan.items.keys()) drawState(id);
    plan.relabel();
    filters.populate(floorSpaces());
    applySearch();
    renderWarm();
    renderTexts();
  }
}

// ---------------------------------------------------------------- wiring

async function main() {
  plan = new FloorPlan($("plan"), {
    onOpen: openDetails,
    describe: describeSpace,
    shortName,
    countText,
  });
  filters = new Filters(
    {
      get zones() {
        return state.zones;
      },
      get agencies() {
        return state.agencies;
      },
      nameOf,
      typeName,
      spaceName,
    },
    { onChange: applyFilters },
  );
  replay = new Replay({
    api,
    site: () => state.site,
    onFrame: onReplayFrame,
    floorSpaces: () => floorSpaces(),
    floorName: () => nameOf(currentFloor()),
  });
  $("zoom-in").addEventListener("click", () => plan.zoom.zoomBy(1.4));
  $("zoom-out").addEventListener("click", () => plan.zoom.zoomBy(1 / 1.4));
  $("zoom-reset").addEventListener("click", () => plan.zoom.reset());
  $("search").addEventListener("input", () => applySearch());
  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const first = $("search-results").querySelector("button");
    if (first) first.click();
  });
  await setLang(preferredLang());
  for (const b of document.querySelectorAll(".langs button")) {
    b.addEventListener("click", () => setLang(b.dataset.lang));
  }
  $("signin-form").addEventListener("submit", onSignin);
  $("signout").addEventListener("click", () => signOut());
  $("site").addEventListener("change", (e) => chooseSite(e.target.value));
  $("find-form").addEventListener("submit", onFind);
  $("find-clear").addEventListener("click", () => {
    state.find = null;
    renderFind();
  });
  $("d-close").addEventListener("click", closeDetails);
  $("details").addEventListener("close", onDetailsClosed);
  $("details").addEventListener("click", (e) => {
    if (e.target === e.currentTarget) closeDetails(); // a click on the backdrop
  });
  NARROW.addEventListener("change", () => {
    if (state.site && !$("board").hidden) renderFloor();
  });
  // Relative times and the reconnect countdown age without new events.
  setInterval(() => {
    if (state.conn === "reconnecting") renderConn();
  }, 1000);
  setInterval(() => {
    if (state.detailsId) renderDetails();
    // Relative times in the sensor list age too, unless someone is using the list.
    if (state.health && !$("sensors").contains(document.activeElement)) renderSensors();
  }, 15000);

  // On a phone the legend starts folded: the plan comes first.
  if (NARROW.matches) $("legend-box").open = false;
  state.key = takeKeyFromUrl();
  if (!state.key) return showSignin();
  return start();
}

main();
