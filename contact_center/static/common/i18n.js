/*
 * The staff pages' language: which one, its catalogue, and the picker in the header.
 *
 *   const t = await loadI18n();      // before the page draws anything
 *
 * The language is the person's choice: kept on their user (PATCH /api/me, so it follows
 * them to another browser) and in localStorage (for the sign-in form, before the
 * server knows who they are); else the browser's.  The catalogue comes from
 * GET /api/locales/staff; the page's static texts carry data-i18n keys (and
 * data-i18n-placeholder / -title / -aria-label / -label / -alt for attributes;
 * data-i18n-template for a sentence with elements inside: its {slot} placeholders take
 * the children marked data-slot).  <html lang dir> follow the locale, so the layout
 * mirrors (the CSS uses logical properties only).
 */

import { createTranslator } from "/static/common/i18n-core.js";

export const LOCALE_KEY = "cc.locale";
const ATTRIBUTES = ["placeholder", "title", "aria-label", "label", "alt"];

let current = createTranslator(null);
// Scripts that are not modules (the journey panel) wait on this for the translator.
let announce = () => {};
window.StaffI18nReady = new Promise((resolve) => {
  announce = resolve;
});

/** The translator of the page (after loadI18n). */
export function translator() {
  return current;
}

function storedLocale() {
  try {
    return localStorage.getItem(LOCALE_KEY) || "";
  } catch (_e) {
    return "";
  }
}

function storeLocale(code) {
  try {
    if (code) localStorage.setItem(LOCALE_KEY, code);
    else localStorage.removeItem(LOCALE_KEY);
  } catch (_e) {
    /* storage blocked: the choice still lives on the user */
  }
}

/** Fetch the catalogue for the remembered (or the browser's) language and apply it. */
export async function loadI18n() {
  const want = [storedLocale(), ...(navigator.languages || [navigator.language])].filter(Boolean);
  let bundle = null;
  try {
    const response = await fetch(`/api/locales/staff?${new URLSearchParams({ want: want.join(",") })}`);
    if (response.ok) bundle = await response.json();
  } catch (_e) {
    /* offline: the page shows its keys until it is reloaded */
  }
  current = createTranslator(bundle);
  translateDocument(document, current);
  announce(current);
  return current;
}

/** Put the catalogue's texts into the page's marked elements; set lang and dir. */
export function translateDocument(root, t) {
  const html = document.documentElement;
  html.lang = t.locale;
  html.dir = t.dir;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const attr of ATTRIBUTES) {
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, t(el.getAttribute(`data-i18n-${attr}`)));
  }
  for (const el of root.querySelectorAll("[data-i18n-template]")) {
    const slots = new Map(Array.from(el.querySelectorAll("[data-slot]"), (child) => [child.dataset.slot, child]));
    const parts = t(el.dataset.i18nTemplate).split(/\{(\w+)\}/);
    el.replaceChildren(...parts.map((part, i) => (i % 2 ? slots.get(part) || `{${part}}` : part)).filter((part) => part !== ""));
  }
}

/**
 * The language picker: a <select> of the shipped locales in ``container``.  A change is
 * saved on the user when ``api`` (a signed-in REST client) is given, remembered in
 * localStorage, and the page reloads in the new language (its sockets resume).
 */
export function localePicker(container, t, api, id = "locale-select") {
  const select = document.createElement("select");
  select.id = id;
  select.setAttribute("aria-label", t("staff.language"));
  for (const entry of t.available) {
    const option = document.createElement("option");
    option.value = entry.code;
    option.textContent = entry.name;
    option.lang = entry.code;
    option.selected = entry.code === t.locale;
    select.append(option);
  }
  select.addEventListener("change", async () => {
    const code = select.value;
    storeLocale(code);
    if (api) {
      try {
        await api("PATCH", "/api/me", { locale: code });
      } catch (_e) {
        /* kept in this browser at least */
      }
    }
    location.reload();
  });
  const label = document.createElement("label");
  label.className = "locale-picker";
  label.append(select);
  container.replaceChildren(label);
  return select;
}

/**
 * After sign-in: the user's saved language wins over this browser's.  Returns true
 * when the page reloads to switch.
 */
export function followUserLocale(user, t) {
  const code = user && user.locale;
  if (!code || code === t.locale || !t.available.some((entry) => entry.code === code)) return false;
  storeLocale(code);
  location.reload();
  return true;
}
