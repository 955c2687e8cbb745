// Texts of the analytics and agency pages: the live page's catalogue
// (i18n/<lang>.json, for the shared words: header, sign-in) plus the page's
// own i18n/<page>/<lang>.json, kept apart so the catalogues change independently.

import { lang, loadLang } from "../i18n.js";

const extra = new Map(); // "<page>/<lang>" -> the page's catalogue

export async function loadPageTexts(page, code) {
  const current = await loadLang(code);
  const id = `${page}/${current.lang}`;
  if (!extra.has(id)) {
    const res = await fetch(`i18n/${id}.json`, { cache: "no-cache" });
    if (!res.ok) throw new Error(`i18n/${id}.json: HTTP ${res.status}`);
    extra.set(id, await res.json());
  }
  // the live catalogue's dict object is the one t() reads: add the page's keys to it
  Object.assign(current.dict, extra.get(id));
  return current;
}

// A registry name in the page's language (the registry's own, Finnish, by default).
export function nameIn(thing) {
  if (!thing) return "";
  return (lang() === "sv" && thing.name_sv) || (lang() === "en" && thing.name_en) || thing.name || thing.id;
}
