// Texts in Finnish, Swedish and English, loaded from i18n/<lang>.json.
// Markup carries data-i18n="key" (text) or data-i18n-attr="attr:key,attr:key".

export const LANGS = ["fi", "sv", "en"];
const STORE_KEY = "occupancy.lang";
const cache = new Map();
let current = { lang: "en", dict: {} };

export function preferredLang() {
  const saved = localStorage.getItem(STORE_KEY);
  if (LANGS.includes(saved)) return saved;
  for (const tag of navigator.languages || [navigator.language || ""]) {
    const base = String(tag).slice(0, 2).toLowerCase();
    if (LANGS.includes(base)) return base;
  }
  return "fi";
}

export async function loadLang(lang) {
  if (!LANGS.includes(lang)) lang = "en";
  if (!cache.has(lang)) {
    const res = await fetch(`i18n/${lang}.json`, { cache: "no-cache" });
    if (!res.ok) throw new Error(`i18n/${lang}.json: HTTP ${res.status}`);
    cache.set(lang, await res.json());
  }
  current = { lang, dict: cache.get(lang) };
  localStorage.setItem(STORE_KEY, lang);
  document.documentElement.lang = lang;
  return current;
}

export function lang() {
  return current.lang;
}

export function locale() {
  return current.dict.locale || current.lang;
}

// t("find_count", {n: 3}) picks the plural form by Intl.PluralRules.
export function t(key, params = {}) {
  let text = current.dict[key];
  if (text === undefined) return key;
  if (typeof text === "object") {
    const form = new Intl.PluralRules(locale()).select(Number(params.n ?? 0));
    text = text[form] ?? text.other;
  }
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

export function applyStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(",")) {
      const [attr, key] = pair.split(":");
      el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}

export function formatTime(iso, timeZone) {
  if (!iso) return t("dash");
  const d = new Date(iso);
  const sameDay = new Date().toDateString() === d.toDateString();
  const opts = sameDay
    ? { hour: "2-digit", minute: "2-digit", second: "2-digit" }
    : { day: "numeric", month: "numeric", hour: "2-digit", minute: "2-digit" };
  return new Intl.DateTimeFormat(locale(), { ...opts, timeZone }).format(d);
}

export function formatAgo(iso, now = Date.now()) {
  if (!iso) return t("dash");
  const s = Math.round((new Date(iso).getTime() - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });
  const abs = Math.abs(s);
  if (abs < 60) return rtf.format(s, "second");
  if (abs < 3600) return rtf.format(Math.round(s / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(s / 3600), "hour");
  return rtf.format(Math.round(s / 86400), "day");
}

export function formatNumber(n, digits = 0) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(n);
}
