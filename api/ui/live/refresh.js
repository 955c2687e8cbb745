// The side panels' data that the live stream does not carry, fetched on a
// timer: sensor health, open alerts, and the customer-service counts.

import { formatAgo, t } from "../i18n.js";
import { api } from "./api.js";
import { renderSensors, renderService } from "./board.js";
import { $, state } from "./context.js";
import { spaceName } from "./naming.js";
import { signOut } from "./session.js";

export function scheduleHealth() {
  clearTimeout(state.healthTimer);
  state.healthTimer = setTimeout(refreshHealth, 700);
}

export async function refreshHealth() {
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
export async function refreshService() {
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
  $("alert-list").replaceChildren(...(state.alerts || []).map(alertItem));
}

function alertItem(a) {
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
}
