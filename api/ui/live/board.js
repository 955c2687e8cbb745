// Drawing the live board: the site and floor pickers, the plan of the
// chosen floor, the filters and search over it, the replay's frames, and the
// side panels (panels.js) given what they need of the page.

import { t } from "../i18n.js";
import { renderSearch, searchSpaces } from "../filters.js";
import * as panels from "../panels.js";
import { fetchPlanImage } from "./api.js";
import {
  $,
  NARROW,
  TINTS,
  countsOf,
  currentFloor,
  displayOf,
  floorOf,
  floorSpaces,
  liveOf,
  parts,
  shownState,
  sortedFloors,
  state,
  visible,
  warming,
} from "./context.js";
import { openDetails } from "./details.js";
import { nameOf, spaceName, typeName, zoneLabel } from "./naming.js";
import { setFloor } from "./session.js";
import { renderConn, renderWarm } from "./stream.js";

export function drawState(id) {
  const live = displayOf(id);
  parts.plan.setState(id, live, shownState(live));
}

// UI updates other than the plan itself are batched: a burst of changes
// arriving in one chunk redraws counters once.
export function scheduleUi() {
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

export function renderSitePicker() {
  const select = $("site");
  select.replaceChildren(
    ...state.sites.map((s) => new Option(nameOf(s), s.id, false, s.id === state.site.id)),
  );
}

function floorSegment(f) {
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
}

function renderFloorPicker() {
  const box = $("floors");
  const floors = sortedFloors();
  const existing = box.querySelectorAll("input");
  if (existing.length !== floors.length || box.dataset.site !== state.site.id) {
    box.dataset.site = state.site.id;
    box.replaceChildren(...floors.map(floorSegment));
  }
  for (const input of box.querySelectorAll("input")) {
    const f = floors.find((x) => x.id === input.value);
    const c = countsOf(floorSpaces(f.id));
    input.checked = f.id === state.floorId;
    input.parentElement.querySelector(".seg-name").textContent = nameOf(f);
    const known = state.conn === "live" || state.live.size || parts.replay.active;
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
  const url = await fetchPlanImage(floor);
  if (!url) return;
  state.images.set(floor.id, url);
  if (state.floorId === floor.id) renderFloor();
}

export function renderFloor() {
  const { plan } = parts;
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
  parts.filters.populate(spaces);
  applyFilters();
  applySearch();
  renderFindZones();
  renderTexts();
}

export function applyFilters() {
  const { filters } = parts;
  parts.plan.filter(filters.active ? (id) => filters.keep(state.spaces.get(id)) : null);
}

export function applySearch() {
  const query = $("search").value;
  const ctx = { spaceName, typeName };
  const matches = searchSpaces(state.site.spaces, query, ctx);
  parts.plan.mark(new Set(matches.filter((s) => floorOf(s.id) === state.floorId).map((s) => s.id)));
  renderSearch(matches, query, {
    ctx,
    floorName: (s) => nameOf(state.site.floors.find((f) => f.id === floorOf(s.id))),
    onChoose: (s) => {
      setFloor(floorOf(s.id));
      parts.plan.focusSpace(s.id);
    },
  });
}

// Replay frames: the plan, the counters and the banner follow the slider.
export function onReplayFrame() {
  const { plan, replay } = parts;
  $("replay-banner").hidden = !replay.active;
  $("board").classList.toggle("replaying", replay.active);
  if (floorSpaces().some((s) => plan.items.get(s.id)?.shown !== visible(s.id))) renderFloor();
  else for (const id of plan.items.keys()) drawState(id);
  renderCounters();
  renderFloorPicker();
  renderWarm();
}

// Everything that depends on the language or the floor, but not the plan shapes.
export function renderTexts() {
  const floor = currentFloor();
  $("plan-title").textContent = `${nameOf(floor)} · ${nameOf(state.site)}`;
  $("plan").setAttribute("aria-label", t("plan_label", { floor: nameOf(floor) }));
  parts.replay.render();
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
  const { plan, replay } = parts;
  const replaying = replay.active;
  return { state, plan, countsOf, floorSpaces, liveOf, openDetails, warming, replaying, ...naming };
}

function renderCounters() {
  panels.renderZoneTable(panelCtx());
}

export function renderFindZones() {
  panels.renderFindZones(panelCtx());
}

export function onFind(event) {
  panels.onFind(panelCtx(), event);
}

export function renderFind() {
  panels.renderFind(panelCtx());
}

export function renderSensors() {
  panels.renderSensorList(panelCtx());
}

export function renderDetails() {
  panels.renderDetailsDialog(panelCtx());
}

export function renderService() {
  panels.renderServicePanel(panelCtx(), state.service);
}
