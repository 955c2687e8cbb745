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
import { FloorPlan } from "./plan.js";
import { HttpError, readStream } from "./sse.js";

const ROOM_TYPES = new Set(["meeting_room", "project_room", "focus_room", "phone_booth"]);
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
};

let plan;

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
  state.find = null;
  const floors = sortedFloors();
  const savedFloor = localStorage.getItem(FLOOR_STORE);
  state.floorId = (floors.find((f) => f.id === savedFloor) || floors[0]).id;
  $("board").hidden = false;
  renderSitePicker();
  renderFloor();
  startStream(site.id);
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
    setConn("live");
    // A key that sees only some spaces (an agency's) gets the others drawn as outlines.
    if (floorSpaces().some((s) => plan.items.get(s.id)?.shown !== state.live.has(s.id))) {
      const focused = document.activeElement?.closest?.(".space")?.dataset.space;
      renderFloor();
      if (focused) plan.focusSpace(focused);
    } else {
      for (const id of plan.items.keys()) plan.setState(id, liveOf(id));
    }
    scheduleUi();
    refreshHealth();
  } else if (type === "space") {
    const prev = state.live.get(body.space);
    state.live.set(body.space, body);
    state.lastEventAt = new Date().toISOString();
    if (floorOf(body.space) === state.floorId) plan.setState(body.space, body);
    if ((prev?.state === "unknown") !== (body.state === "unknown")) scheduleHealth();
    scheduleUi();
  }
}

function liveOf(id) {
  return state.live.get(id) || { space: id, state: "unknown", reason: "no data" };
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

function spaceName(s) {
  return s.name || s.id;
}

function describeSpace(id) {
  const s = state.spaces.get(id);
  const live = liveOf(id);
  const params = { name: spaceName(s), type: typeName(s.type), state: t(`state_${live.state}`) };
  if (live.state === "occupied" && live.count != null) {
    return t("space_label_count", { ...params, count: t("people", { n: live.count }) });
  }
  return t("space_label", params);
}

function shortName(id) {
  const name = spaceName(state.spaces.get(id));
  const words = name.split(" ");
  return [name, words.length > 1 ? words.slice(1).join(" ") : ""];
}

function zoneLabel(zone) {
  const agency = zone.agency ? state.agencies.get(zone.agency)?.name || zone.agency : t("zone_shared");
  return { name: zone.name, agency };
}

function visible(id) {
  // An agency key sees only its own zones; the others are drawn as outlines.
  return state.live.size === 0 || state.live.has(id);
}

// ---------------------------------------------------------------- rendering

function renderSitePicker() {
  const select = $("site");
  select.replaceChildren(
    ...state.sites.map((s) => new Option(s.name, s.id, false, s.id === state.site.id)),
  );
}

function countsOf(spaces) {
  const c = { free: 0, occupied: 0, unknown: 0, total: 0 };
  for (const s of spaces) {
    const st = state.live.get(s.id)?.state;
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
    input.parentElement.querySelector(".seg-name").textContent = f.name;
    input.parentElement.querySelector(".seg-sub").textContent =
      state.conn === "live" || state.live.size ? `${formatNumber(c.free)} ${t("state_free")}` : "";
  }
}

function renderFloor() {
  const floor = state.site.floors.find((f) => f.id === state.floorId);
  const spaces = floorSpaces();
  const zoneIds = [...new Set(spaces.map((s) => s.zone))];
  const zoneColours = new Map(zoneIds.map((z, i) => [z, i % TINTS]));
  state.zoneColours = zoneColours;
  const rotated = NARROW.matches && floor.plan.width > floor.plan.height;
  plan.render({ floor, spaces, zoneColours, rotated, visible });
  for (const s of spaces) plan.setState(s.id, liveOf(s.id));
  plan.relabel();
  renderFindZones();
  renderTexts();
}

// Everything that depends on the language or the floor, but not the plan shapes.
function renderTexts() {
  const floor = state.site.floors.find((f) => f.id === state.floorId);
  $("plan-title").textContent = `${floor.name} · ${state.site.name}`;
  $("plan").setAttribute("aria-label", t("plan_label", { floor: floor.name }));
  renderFloorPicker();
  renderCounters();
  renderFind();
  renderSensors();
  renderConn();
  if (state.detailsId) renderDetails();
}

function renderCounters() {
  const spaces = floorSpaces();
  const c = countsOf(spaces);
  $("floor-summary").textContent = t("floor_summary", {
    free: formatNumber(c.free),
    occupied: formatNumber(c.occupied),
    unknown: formatNumber(c.unknown),
    total: formatNumber(c.total),
  });
  const rows = [];
  const zoneIds = [...new Set(spaces.map((s) => s.zone))];
  for (const zid of zoneIds) {
    const zone = state.zones.get(zid);
    const zc = countsOf(spaces.filter((s) => s.zone === zid));
    if (!zc.total) continue;
    const tr = document.createElement("tr");
    tr.dataset.zone = zid;
    const th = document.createElement("th");
    th.scope = "row";
    const { name, agency } = zoneLabel(zone);
    const sw = document.createElement("span");
    sw.className = `swatch tint-${state.zoneColours.get(zid)}`;
    sw.setAttribute("aria-hidden", "true");
    const nm = document.createElement("span");
    nm.className = "zone-name";
    nm.textContent = name;
    const ag = document.createElement("span");
    ag.className = "zone-agency";
    ag.textContent = `${agency} · ${t("spaces_n", { n: zc.total })}`;
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.setAttribute("aria-hidden", "true");
    for (const st of ["occupied", "free", "unknown"]) {
      const part = document.createElement("span");
      part.className = `bar-${st}`;
      part.style.flexGrow = String(zc[st]);
      bar.append(part);
    }
    th.append(sw, nm, ag, bar);
    tr.append(th);
    for (const st of ["free", "occupied", "unknown"]) {
      const td = document.createElement("td");
      td.className = `num n-${st}`;
      td.textContent = formatNumber(zc[st]);
      tr.append(td);
    }
    tr.addEventListener("mouseenter", () => plan.highlightZone(zid));
    tr.addEventListener("mouseleave", () => plan.highlightZone(null));
    rows.push(tr);
  }
  $("zone-rows").replaceChildren(...rows);
}

// ---------------------------------------------------------------- find free

function renderFindZones() {
  const select = $("find-zone");
  const keep = select.value;
  const zoneIds = [...new Set(floorSpaces().map((s) => s.zone))];
  const all = new Option(t("find_all_zones"), "");
  all.dataset.i18n = "find_all_zones";
  select.replaceChildren(all, ...zoneIds.map((z) => new Option(state.zones.get(z).name, z)));
  select.value = zoneIds.includes(keep) ? keep : "";
}

function findMatches({ zone, kind, seats }) {
  return floorSpaces()
    .filter((s) => !zone || s.zone === zone)
    .filter((s) => kind === "any" || (kind === "desk" ? s.type === "desk" : ROOM_TYPES.has(s.type)))
    .filter((s) => s.capacity >= seats)
    .filter((s) => state.live.get(s.id)?.state === "free")
    .sort((a, b) => a.capacity - b.capacity || spaceName(a).localeCompare(spaceName(b), lang()));
}

function onFind(event) {
  event.preventDefault();
  state.find = {
    zone: $("find-zone").value,
    kind: $("find-kind").value,
    seats: Math.max(1, Number($("find-seats").value) || 1),
  };
  renderFind();
}

function renderFind() {
  const list = $("find-results");
  const status = $("find-status");
  if (!state.find) {
    list.replaceChildren();
    status.textContent = "";
    plan.highlight(null);
    return;
  }
  const matches = findMatches(state.find);
  const focused = document.activeElement?.closest?.("#find-results button")?.dataset.space;
  status.textContent = matches.length ? t("find_count", { n: matches.length }) : t("find_none");
  plan.highlight(new Set(matches.map((s) => s.id)));
  list.replaceChildren(
    ...matches.map((s) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.space = s.id;
      const name = document.createElement("span");
      name.className = "r-name";
      name.textContent = spaceName(s);
      const meta = document.createElement("span");
      meta.className = "r-meta";
      meta.textContent = `${typeName(s.type)} · ${t("people", { n: s.capacity })} · ${state.zones.get(s.zone).name}`;
      b.append(name, meta);
      b.addEventListener("click", () => {
        plan.focusSpace(s.id);
        openDetails(s.id);
      });
      li.append(b);
      return li;
    }),
  );
  if (focused) list.querySelector(`button[data-space="${CSS.escape(focused)}"]`)?.focus();
}

// ---------------------------------------------------------------- sensors

function renderSensors() {
  const summary = $("sensors-summary");
  const agentsUl = $("agent-list");
  const ul = $("sensor-list");
  if (state.healthForbidden) {
    summary.textContent = t("sensors_forbidden");
    agentsUl.replaceChildren();
    ul.replaceChildren();
    return;
  }
  const h = state.health;
  if (!h) {
    summary.textContent = "";
    agentsUl.replaceChildren();
    ul.replaceChildren();
    return;
  }
  const offline = new Set(h.offline_agents);
  const affected = new Map();
  for (const s of h.sensors) {
    if (s.problem === "agent offline") affected.set(s.agent, (affected.get(s.agent) || 0) + 1);
  }
  agentsUl.replaceChildren(
    ...h.offline_agents.map((a) => {
      const li = document.createElement("li");
      li.className = "p-agent";
      const strong = document.createElement("strong");
      strong.textContent = t("agent_offline", { agent: a });
      const meta = document.createElement("span");
      meta.className = "p-meta";
      meta.textContent = t("agent_spaces", { n: affected.get(a) || 0 });
      li.append(strong, meta);
      return li;
    }),
  );
  // On this floor: each silent or never-heard sensor; those behind an
  // offline agent are summed up in the agent's line above.
  const onFloor = h.sensors.filter((s) => s.floor === state.floorId);
  const here = onFloor.filter((s) => !(s.problem === "agent offline" && offline.has(s.agent)));
  summary.textContent = `${onFloor.length ? t("sensors_summary", { n: onFloor.length }) : t("sensors_ok")} ${t("sensors_site", {
    sensors: formatNumber(h.sensors.length),
    agents: t("agents_offline", { n: offline.size }),
  })}`;
  ul.replaceChildren(
    ...here.map((s) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "p-space";
      const space = state.spaces.get(s.space);
      b.textContent = space ? spaceName(space) : s.space;
      b.addEventListener("click", () => {
        plan.focusSpace(s.space);
        openDetails(s.space);
      });
      const meta = document.createElement("span");
      meta.className = "p-meta";
      const parts = [s.sensor, t(`reason_${s.problem}`)];
      if (s.last_seen) parts.push(t("last_seen", { ago: formatAgo(s.last_seen) }));
      meta.textContent = parts.filter(Boolean).join(" · ");
      li.append(b, meta);
      return li;
    }),
  );
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
  if (id && floorOf(id) === state.floorId) plan.focusSpace(id);
}

function renderDetails() {
  const id = state.detailsId;
  const s = state.spaces.get(id);
  if (!s) return;
  const live = liveOf(id);
  const zone = state.zones.get(s.zone);
  const tz = state.site.timezone;
  $("d-title").textContent = spaceName(s);
  const badge = $("d-state");
  badge.dataset.state = live.state;
  badge.textContent = t(`state_${live.state}`);
  const rows = [
    ["d_type", typeName(s.type)],
    ["d_zone", `${zone.name} (${zoneLabel(zone).agency})`],
    ["d_capacity", t("people", { n: s.capacity })],
    ["d_area", t("area_m2", { n: formatNumber(s.area_m2, 1) })],
    ["d_since", live.since ? `${formatTime(live.since, tz)} (${formatAgo(live.since)})` : t("dash")],
  ];
  if (live.state === "occupied" && live.count != null) rows.push(["d_count", t("people", { n: live.count })]);
  if (live.state === "unknown") rows.push(["d_reason", t(`reason_${live.reason || "unknown"}`)]);
  rows.push(
    ["d_last_seen", live.last_seen ? `${formatTime(live.last_seen, tz)} (${formatAgo(live.last_seen)})` : t("never_seen")],
    ["d_sensor", [live.sensor || s.sensor?.id, s.sensor?.model].filter(Boolean).join(" · ") || t("dash")],
    ["d_agent", live.agent || s.sensor?.agent || t("dash")],
  );
  $("d-list").replaceChildren(
    ...rows.flatMap(([k, v]) => {
      const dt = document.createElement("dt");
      dt.textContent = t(k);
      const dd = document.createElement("dd");
      dd.textContent = v;
      return [dt, dd];
    }),
  );
}

// ---------------------------------------------------------------- language

async function setLang(code) {
  await loadLang(code);
  applyStatic();
  for (const b of document.querySelectorAll(".langs button")) {
    b.setAttribute("aria-pressed", String(b.dataset.lang === code));
  }
  if (state.site && !$("board").hidden) {
    renderFindZones();
    plan.relabel();
    renderTexts();
  }
}

// ---------------------------------------------------------------- wiring

async function main() {
  plan = new FloorPlan($("plan"), {
    onOpen: openDetails,
    describe: describeSpace,
    shortName,
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

  state.key = takeKeyFromUrl();
  if (!state.key) return showSignin();
  return start();
}

main();
