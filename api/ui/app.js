// The live floor-plan page: site and floor pickers, the plan, counters per
// zone, free-space search, sensors needing attention, and the details dialog.
// Data: the registry (GET /v1/sites/{site}) once per site, then the live
// stream (snapshot + one event per change); sensor health on demand.
// This module makes the page's parts and wires its controls; what each part
// does lives in live/ (see docs/ui.md, "Front-end modules").

import { Filters } from "./filters.js";
import { Replay } from "./history.js";
import { applyStatic, loadLang, preferredLang } from "./i18n.js";
import { takeKey } from "./common/api.js";
import { api } from "./live/api.js";
import {
  applyFilters,
  applySearch,
  drawState,
  onFind,
  onReplayFrame,
  renderDetails,
  renderFind,
  renderFindZones,
  renderFloor,
  renderSensors,
  renderSitePicker,
  renderTexts,
} from "./live/board.js";
import { $, NARROW, currentFloor, floorSpaces, parts, state } from "./live/context.js";
import { closeDetails, onDetailsClosed, openDetails } from "./live/details.js";
import { countText, describeSpace, nameOf, shortName, spaceName, typeName } from "./live/naming.js";
import { chooseSite, onSignin, showSignin, signOut, start } from "./live/session.js";
import { renderConn, renderWarm } from "./live/stream.js";
import { FloorPlan } from "./plan.js";
import { onLangPick, renderHeader, showLang } from "./common/header.js";

async function setLang(code) {
  await loadLang(code);
  applyStatic();
  showLang(code);
  if (state.site && !$("board").hidden) {
    const { plan } = parts;
    renderSitePicker();
    renderFindZones();
    plan.setZoneNames((z) => nameOf(state.zones.get(z)));
    for (const id of plan.items.keys()) drawState(id);
    plan.relabel();
    parts.filters.populate(floorSpaces());
    applySearch();
    renderWarm();
    renderTexts();
  }
}

function makeParts() {
  parts.plan = new FloorPlan($("plan"), {
    onOpen: openDetails,
    describe: describeSpace,
    shortName,
    countText,
  });
  parts.filters = new Filters(
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
  parts.replay = new Replay({
    api,
    site: () => state.site,
    onFrame: onReplayFrame,
    floorSpaces: () => floorSpaces(),
    floorName: () => nameOf(currentFloor()),
  });
}

function wirePlanTools() {
  const { plan } = parts;
  $("zoom-in").addEventListener("click", () => plan.zoom.zoomBy(1.4));
  $("zoom-out").addEventListener("click", () => plan.zoom.zoomBy(1 / 1.4));
  $("zoom-reset").addEventListener("click", () => plan.zoom.reset());
  $("search").addEventListener("input", () => applySearch());
  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const first = $("search-results").querySelector("button");
    if (first) first.click();
  });
}

function wireControls() {
  onLangPick(setLang);
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
}

// Relative times and the reconnect countdown age without new events.
function startClocks() {
  setInterval(() => {
    if (state.conn === "reconnecting") renderConn();
  }, 1000);
  setInterval(() => {
    if (state.detailsId) renderDetails();
    // Relative times in the sensor list age too, unless someone is using the list.
    if (state.health && !$("sensors").contains(document.activeElement)) renderSensors();
  }, 15000);
}

async function main() {
  renderHeader();
  makeParts();
  wirePlanTools();
  await setLang(preferredLang());
  wireControls();
  startClocks();
  // On a phone the legend starts folded: the plan comes first.
  if (NARROW.matches) $("legend-box").open = false;
  state.key = takeKey();
  if (!state.key) return showSignin();
  return start();
}

main();
