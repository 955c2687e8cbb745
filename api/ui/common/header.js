// The header every page shares: the logo and the page's title, links to the
// other pages, the language switch and the sign-out button. A page holds
// <header class="top" data-page="live|analytics|agency" data-title="i18n key">,
// with any page-only tools inside it (the live page's connection status);
// renderHeader() builds the rest around them. Texts are data-i18n keys of the
// live page's catalogue (i18n/<lang>.json), which every page loads, so
// applyStatic() fills them in after a language switch like any other text.

const PAGES = [
  { id: "live", href: "./", text: "nav_live" },
  { id: "analytics", href: "analytics.html", text: "nav_analytics" },
  { id: "agency", href: "agency.html", text: "nav_agency" },
];
const LANG_BUTTONS = ["fi", "sv", "en"];
const SVG = "http://www.w3.org/2000/svg";

function element(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

function logo() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "logo");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  for (const [x, y, other] of [[3, 3, false], [13, 3, true], [3, 13, true], [13, 13, false]]) {
    const rect = document.createElementNS(SVG, "rect");
    for (const [k, v] of Object.entries({ x, y, width: 8, height: 8, rx: 1.5 })) rect.setAttribute(k, v);
    if (other) rect.setAttribute("class", "o");
    svg.append(rect);
  }
  return svg;
}

function pageLinks(page) {
  return PAGES.filter((p) => p.id !== page).map((p) =>
    element("a", { class: "navlink", href: p.href, "data-i18n": p.text }),
  );
}

function langSwitch() {
  const label = element("span", { id: "lang-label", class: "visually-hidden", "data-i18n": "language" });
  const buttons = LANG_BUTTONS.map((code) => {
    const b = element("button", { type: "button", "data-lang": code, lang: code, "aria-pressed": "false" });
    b.textContent = code.toUpperCase();
    return b;
  });
  return element("div", { class: "langs", role: "group", "aria-labelledby": "lang-label" }, [label, ...buttons]);
}

export function renderHeader(header = document.querySelector("header.top")) {
  const { page, title } = header.dataset;
  const own = [...header.childNodes].filter((n) => n.nodeType === Node.ELEMENT_NODE);
  const brand = element("div", { class: "brand" }, [logo(), element("h1", { "data-i18n": title })]);
  const signout = element("button", {
    type: "button", id: "signout", class: "link", hidden: "", "data-i18n": "signout",
  });
  // One flat row of tools (it wraps item by item on a phone), named as the
  // pages' navigation as the analytics pages' header always was.
  const tools = element(
    "nav",
    { class: "top-tools", "aria-label": "—", "data-i18n-attr": "aria-label:nav_label" },
    [...own, ...pageLinks(page), langSwitch(), signout],
  );
  header.replaceChildren(brand, tools);
  return header;
}

// The language buttons call pick(code) when pressed.
export function onLangPick(pick) {
  for (const b of document.querySelectorAll(".langs button")) {
    b.addEventListener("click", () => pick(b.dataset.lang));
  }
}

// The pressed button is the page's language.
export function showLang(code) {
  for (const b of document.querySelectorAll(".langs button")) {
    b.setAttribute("aria-pressed", String(b.dataset.lang === code));
  }
}
