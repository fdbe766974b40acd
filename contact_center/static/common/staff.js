/*
 * What the staff pages share: the agent console (/agent), the supervisor page
 * (/supervisor) and the customer journey page (/journey).
 *
 *   import { $, h, createApi, signIn, showLogin, ... } from "/static/common/staff.js";
 *
 * DOM building (every text goes in as text, never parsed as HTML), the REST client with
 * the bearer token, the saved session and the sign-in form (the pages share its markup:
 * #login-view, #login-form, #login-username, #login-password, #login-error,
 * #login-submit, #login-message, and #app for the page itself), CSV downloads, and
 * number and duration formatting.  The styles they share are in staff.css beside this
 * file.  The visitor widget does not use this: it lives in a Shadow DOM on other
 * people's sites and stays self-contained.
 */

import { translator } from "/static/common/i18n.js";

export const LOGIN_PATH = "/api/auth/login";

// ------------------------------------------------------------------ DOM

export const $ = (id) => document.getElementById(id);

/**
 * DOM builder: strings become text nodes, never markup.
 *
 *   h("button", { class: "btn ghost", type: "button", onclick: fn, disabled: true }, "Label")
 *
 * `class` (or `className`) sets the class, `text` the text content, `on<event>` a
 * listener, `value`, `disabled` and `checked` the element's property; other keys are
 * attributes (true makes an empty one).  null, undefined and false skip a prop or a
 * child; children may be nested arrays.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class" || key === "className") el.className = value;
      else if (key === "text") el.textContent = value;
      else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
      else if (key === "value" || key === "disabled" || key === "checked") el[key] = value;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// ------------------------------------------------------------------ session

/** The supervisor and journey pages share one session and admit the same roles. */
export const SUPERVISOR_SIGN_IN = {
  storageKey: "cc.supervisor",
  allowedRoles: ["supervisor", "admin"],
  deniedKey: "staff.login.denied",
};

/** The token and user a page keeps in sessionStorage under `${key}.token` and `${key}.user`. */
export function loadSession(key) {
  return {
    token: sessionStorage.getItem(`${key}.token`) || "",
    user: JSON.parse(sessionStorage.getItem(`${key}.user`) || "null"),
  };
}

export function saveSession(key, { token, user }) {
  sessionStorage.setItem(`${key}.token`, token);
  sessionStorage.setItem(`${key}.user`, JSON.stringify(user));
}

export function clearSession(key) {
  sessionStorage.removeItem(`${key}.token`);
  sessionStorage.removeItem(`${key}.user`);
}

// ------------------------------------------------------------------ REST

function httpError(status, message) {
  const err = new Error(message);
  err.status = status;
  return err;
}

/**
 * A fetch wrapper for the JSON API: `api(method, path, body)` resolves to the response's
 * JSON (null for 204).  `token()` gives the bearer token ("" for none).  A 401 on
 * anything but the sign-in call means the session is over: `onExpired()` runs and the
 * call fails.  A failed call throws an Error with the server's message and `status`.
 */
export function createApi({ token, onExpired }) {
  return async function api(method, path, body) {
    // The server writes error messages in the page's language.
    const headers = { "Accept-Language": translator().locale };
    const bearer = token();
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    if (body) headers["content-type"] = "application/json";
    const response = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
    if (response.status === 401 && path !== LOGIN_PATH) {
      onExpired();
      throw httpError(401, "unauthenticated");
    }
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) throw httpError(response.status, (data && data.message) || `HTTP ${response.status}`);
    return data;
  };
}

/** GET a file with the bearer token and hand it to the browser as a download. */
export async function downloadFile(path, filename, token) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token}`, "Accept-Language": translator().locale } });
  if (!response.ok) throw httpError(response.status, `HTTP ${response.status}`);
  const url = URL.createObjectURL(await response.blob());
  const link = h("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// ------------------------------------------------------------------ sign in

/** Hide the page, show the sign-in card (with `message`, if given) and focus the username. */
export function showLogin(message) {
  $("app").hidden = true;
  $("login-view").hidden = false;
  if (message) $("login-message").textContent = message;
  $("login-username").focus();
}

/**
 * Wire the sign-in form: POST /api/auth/login, refuse a role not in `allowedRoles` (when
 * given) with `deniedMessage`, save the session under `storageKey` (see saveSession) and
 * call `onSignedIn({token, user, ...})`.
 */
export function signIn(form, { storageKey, allowedRoles = null, deniedKey = "", onSignedIn }) {
  const t = translator();
  const login = createApi({ token: () => "", onExpired: () => {} });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = $("login-username").value.trim();
    const password = $("login-password").value;
    const error = $("login-error");
    error.textContent = "";
    if (!username || !password) {
      error.textContent = t("staff.login.missing");
      return;
    }
    $("login-submit").disabled = true;
    try {
      const data = await login("POST", LOGIN_PATH, { username, password });
      if (allowedRoles && !allowedRoles.includes(data.user.role)) {
        error.textContent = deniedKey ? t(deniedKey) : "";
        return;
      }
      saveSession(storageKey, data);
      $("login-password").value = "";
      onSignedIn(data);
    } catch (err) {
      error.textContent = t(err.status === 401 ? "staff.login.wrong" : "staff.login.failed");
    } finally {
      $("login-submit").disabled = false;
    }
  });
}

// ------------------------------------------------------------------ formatting

/** A whole number with the locale's separators and digits; "–" for none. */
export function fmtCount(v) {
  return v === null || v === undefined ? "–" : translator().num(Math.round(v));
}

/** Seconds as a clock: "4:05", or "1:04:05" from an hour on; "–" for none. */
export function fmtClock(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  const s = Math.max(0, Math.floor(v));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = String(s % 60).padStart(2, "0");
  return translator().digits(hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`);
}
