// The analytics pages' texts: the live page's catalogue (i18n/<lang>.json,
// for the shared words such as sign-in) plus i18n/analytics/<lang>.json,
// kept apart so the two pages' catalogues can change independently.

import { loadLang } from "../i18n.js";

const extra = new Map();

export async function loadTexts(lang) {
  const current = await loadLang(lang);
  if (!extra.has(current.lang)) {
    const res = await fetch(`i18n/analytics/${current.lang}.json`, { cache: "no-cache" });
    if (!res.ok) throw new Error(`i18n/analytics/${current.lang}.json: HTTP ${res.status}`);
    extra.set(current.lang, await res.json());
  }
  // the live catalogue's dict object is the one t() reads: add the page's keys to it
  Object.assign(current.dict, extra.get(current.lang));
  return current;
}
