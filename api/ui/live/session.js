// Signing in and out, loading the sites, choosing a site and a floor.

import { t } from "../i18n.js";
import { api } from "./api.js";
import { renderFloor, renderSitePicker } from "./board.js";
import { storeKey } from "../common/api.js";
import { $, FLOOR_STORE, SITE_STORE, parts, sortedFloors, state } from "./context.js";
import { closeDetails } from "./details.js";
import { refreshService } from "./refresh.js";
import { setConn, startStream, stopStream } from "./stream.js";

// messageKey: an i18n key, so the message follows a language switch.
export function showSignin(messageKey = "") {
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

export function signOut(messageKey = "") {
  storeKey(null);
  state.key = null;
  showSignin(messageKey);
}

export async function onSignin(event) {
  event.preventDefault();
  const key = $("key").value.trim();
  if (!key) return;
  state.key = key;
  storeKey(key);
  $("key").value = "";
  await start();
}

export async function start() {
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

export async function chooseSite(siteId) {
  stopStream();
  let site;
  try {
    site = await api(`v1/sites/${encodeURIComponent(siteId)}`);
  } catch (exc) {
    return handleLoadError(exc, () => chooseSite(siteId));
  }
  $("page-error").hidden = true;
  localStorage.setItem(SITE_STORE, site.id);
  resetForSite(site);
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

// A new site: its registry, and nothing left of the last one's live data.
function resetForSite(site) {
  const { replay } = parts;
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
}

export function setFloor(floorId) {
  if (floorId === state.floorId) return;
  state.floorId = floorId;
  localStorage.setItem(FLOOR_STORE, floorId);
  state.find = null;
  closeDetails();
  renderFloor();
}
