// Names on the live page: registry names in the page's language, a space's
// spoken label, its short label on the plan and its people/capacity text.

import { formatNumber, lang, t } from "../i18n.js";
import { displayOf, shownState, state } from "./context.js";

export function typeName(type) {
  return t(`type_${type}`);
}

// A registry name in the page's language, where the registry gives one.
export function nameOf(thing) {
  if (!thing) return "";
  return thing[`name_${lang()}`] || thing.name || thing.id;
}

export function spaceName(s) {
  return nameOf(s);
}

export function describeSpace(id) {
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
export function countText(id, live) {
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
export function shortName(id) {
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

export function zoneLabel(zone) {
  const agency = zone.agency ? nameOf(state.agencies.get(zone.agency)) || zone.agency : t("zone_shared");
  return { name: nameOf(zone), agency };
}
