/*
 * Saved replies in the agent console: the composer's "/" picker and the dialog where
 * an agent keeps their own replies.
 *
 *   import { attachSavedReplies, fillVariables } from "./saved-replies.js";
 *   const replies = attachSavedReplies({ t, api, input, form, openButton, dialog, user, context });
 *
 * Typing "/" at the start of the composer opens a list of the replies that apply to
 * the chat's queue (GET /api/saved-replies?queue=): the agent's own, the queue's and
 * those for every queue.  Typing more filters it (shortcut first, then title); arrow
 * keys and Enter (or Tab, or a click) put the reply's body in the composer with its
 * variables filled in, Escape closes.  Nothing is sent: the agent reads, edits and
 * sends as usual.  `context()` gives the open chat's { queueId, values } where values
 * are the variables ({"visitor.name": ...}).
 *
 * Importing this module does nothing by itself (no request, no DOM), so a test can
 * load it and call fillVariables alone.  Reply texts are put into the DOM as text.
 */

import { h } from "/static/common/staff.js";

// {{ name }} with a dotted lowercase name; anything else in braces is left alone.
const VARIABLE = /\{\{\s*([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)\s*\}\}/g;
const MAX_SHOWN = 50;
let serial = 0;

/**
 * The reply's text with its variables filled in: each {{name}} whose name is a key of
 * `values` becomes that value; an unknown one stays exactly as typed.  One pass, so a
 * value that itself looks like {{...}} (a visitor who calls themselves
 * "{{agent.name}}") is not expanded again.
 */
export function fillVariables(text, values) {
  const known = values || {};
  return String(text).replace(VARIABLE, (whole, name) => (Object.prototype.hasOwnProperty.call(known, name) && known[name] !== undefined && known[name] !== null ? String(known[name]) : whole));
}

/** The replies that match what follows the "/": shortcuts starting with it first, then
 * shortcuts or titles containing it (any case), each group in the order given. */
export function matchReplies(replies, query) {
  const q = String(query || "").toLowerCase();
  if (!q) return replies.slice();
  const starts = [];
  const contains = [];
  for (const reply of replies) {
    const shortcut = reply.shortcut.toLowerCase();
    if (shortcut.startsWith(q)) starts.push(reply);
    else if (shortcut.includes(q) || reply.title.toLowerCase().includes(q)) contains.push(reply);
  }
  return starts.concat(contains);
}

/** The "/word" being typed, if the composer holds only that (else null). */
export function slashQuery(value) {
  const match = /^\/(\S{0,32})$/.exec(value);
  return match ? match[1] : null;
}

export function attachSavedReplies({ t, api, input, form, openButton, dialog, user, context, toast }) {
  const pickerId = `sr-picker-${++serial}`;
  const picker = h("div", { class: "sr-picker", id: pickerId, role: "listbox", "aria-label": t("replies.picker") });
  picker.hidden = true;
  form.classList.add("sr-host");
  form.prepend(picker);
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", pickerId);
  input.setAttribute("aria-expanded", "false");

  const cache = new Map(); // queue id -> { at, replies }
  let shown = [];
  let active = 0;
  let open = false;
  let loadingFor = null;

  const scopeLabel = (reply) => (reply.scope === "personal" ? t("replies.scope.personal") : reply.scope === "queue" ? t("replies.scope.queue") : t("replies.scope.global"));

  async function repliesFor(queueId) {
    const key = queueId || "";
    const cached = cache.get(key);
    if (cached && Date.now() - cached.at < 15000) return cached.replies;
    const path = queueId ? `/api/saved-replies?queue=${encodeURIComponent(queueId)}` : "/api/saved-replies";
    const replies = await api("GET", path);
    cache.set(key, { at: Date.now(), replies });
    return replies;
  }

  function close() {
    open = false;
    picker.hidden = true;
    picker.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function draw(query, replies) {
    const { values } = context();
    shown = matchReplies(replies, query).slice(0, MAX_SHOWN);
    active = Math.min(active, Math.max(0, shown.length - 1));
    open = true;
    picker.hidden = false;
    input.setAttribute("aria-expanded", "true");
    if (!shown.length) {
      input.removeAttribute("aria-activedescendant");
      picker.replaceChildren(h("p", { class: "sr-empty" }, replies.length ? t("replies.no_match", { query: `/${query}` }) : t("replies.none_yet")));
      return;
    }
    picker.replaceChildren(
      ...shown.map((reply, index) =>
        h(
          "div",
          {
            class: "sr-option",
            id: `${pickerId}-${index}`,
            role: "option",
            "aria-selected": index === active ? "true" : "false",
            "data-shortcut": reply.shortcut,
            onmousedown: (event) => event.preventDefault(), // keep the composer focused
            onclick: () => insert(reply),
            onmousemove: () => {
              if (active !== index) highlight(index);
            },
          },
          h("span", { class: "sr-option-top" }, h("bdi", { class: "sr-shortcut", dir: "ltr" }, `/${reply.shortcut}`), h("bdi", { class: "sr-title" }, reply.title), h("span", { class: "sr-scope" }, scopeLabel(reply))),
          h("bdi", { class: "sr-preview" }, fillVariables(reply.body, values)),
        ),
      ),
    );
    input.setAttribute("aria-activedescendant", `${pickerId}-${active}`);
  }

  function highlight(index) {
    active = index;
    for (const [i, option] of Array.from(picker.querySelectorAll(".sr-option")).entries()) option.setAttribute("aria-selected", i === index ? "true" : "false");
    input.setAttribute("aria-activedescendant", `${pickerId}-${index}`);
    const option = picker.querySelector(`[aria-selected="true"]`);
    if (option) option.scrollIntoView({ block: "nearest" });
  }

  async function update() {
    const query = slashQuery(input.value);
    if (query === null) {
      close();
      return;
    }
    const { queueId } = context();
    if (!open) active = 0;
    const wanted = `${queueId}|${input.value}`;
    loadingFor = wanted;
    let replies;
    try {
      replies = await repliesFor(queueId);
    } catch (err) {
      if (toast) toast(t("replies.load_failed", { error: err.message }), "warn");
      return;
    }
    // Still the same text in the same chat (the agent may have typed on meanwhile).
    if (loadingFor !== wanted || slashQuery(input.value) === null) return;
    draw(query, replies);
  }

  function insert(reply) {
    const { values } = context();
    input.value = fillVariables(reply.body, values);
    close();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
    // The console's own listener resizes the box and tells the visitor "typing".
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  input.addEventListener("input", update);
  input.addEventListener("blur", close);
  // Capture: seen before the console's own Enter-to-send on the same element.
  input.addEventListener(
    "keydown",
    (event) => {
      if (!open) return;
      const stop = () => {
        event.preventDefault();
        event.stopImmediatePropagation();
      };
      if (event.key === "Escape") {
        stop();
        close();
      } else if (event.key === "ArrowDown" && shown.length) {
        stop();
        highlight((active + 1) % shown.length);
      } else if (event.key === "ArrowUp" && shown.length) {
        stop();
        highlight((active - 1 + shown.length) % shown.length);
      } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && !event.isComposing && shown.length) {
        stop();
        insert(shown[active]);
      } else if (event.key === "Enter" && !shown.length) {
        // Nothing to pick: "/typo" is not sent by accident.
        stop();
      }
    },
    { capture: true },
  );

  // ---------------------------------------------------------------- the dialog

  const els = {
    list: dialog.querySelector("[data-sr=list]"),
    form: dialog.querySelector("[data-sr=form]"),
    shortcut: dialog.querySelector("[data-sr=shortcut]"),
    title: dialog.querySelector("[data-sr=title]"),
    body: dialog.querySelector("[data-sr=body]"),
    scope: dialog.querySelector("[data-sr=scope]"),
    scopeField: dialog.querySelector("[data-sr=scope-field]"),
    error: dialog.querySelector("[data-sr=error]"),
  };

  function canShare() {
    const me = user();
    return !!me && (me.role === "supervisor" || me.role === "admin");
  }

  function drawScopes() {
    const { queueId, queueName } = context();
    const options = [h("option", { value: "personal" }, t("replies.scope.personal_long"))];
    if (canShare()) {
      if (queueId) options.push(h("option", { value: `queue:${queueId}` }, t("replies.scope.queue_long", { queue: queueName || queueId })));
      options.push(h("option", { value: "global" }, t("replies.scope.global_long")));
    }
    els.scope.replaceChildren(...options);
    els.scopeField.hidden = options.length < 2;
  }

  async function drawList() {
    els.list.replaceChildren(h("li", { class: "sr-empty" }, t("replies.loading")));
    let replies;
    try {
      cache.clear();
      replies = await repliesFor(context().queueId);
    } catch (err) {
      els.list.replaceChildren(h("li", { class: "sr-empty" }, t("replies.load_failed", { error: err.message })));
      return;
    }
    if (!replies.length) {
      els.list.replaceChildren(h("li", { class: "sr-empty" }, t("replies.none_yet")));
      return;
    }
    els.list.replaceChildren(
      ...replies.map((reply) =>
        h(
          "li",
          { class: "sr-item", "data-shortcut": reply.shortcut },
          h(
            "div",
            { class: "sr-item-text" },
            h("span", { class: "sr-option-top" }, h("bdi", { class: "sr-shortcut", dir: "ltr" }, `/${reply.shortcut}`), h("bdi", { class: "sr-title" }, reply.title), h("span", { class: "sr-scope" }, scopeLabel(reply))),
            h("bdi", { class: "sr-preview" }, reply.body),
          ),
          reply.editable
            ? h("button", { type: "button", class: "btn ghost small", "aria-label": t("replies.delete_named", { shortcut: `/${reply.shortcut}` }), onclick: () => remove(reply) }, t("replies.delete"))
            : null,
        ),
      ),
    );
  }

  async function remove(reply) {
    try {
      await api("DELETE", `/api/saved-replies/${encodeURIComponent(reply.id)}`);
    } catch (err) {
      els.error.textContent = err.message;
      return;
    }
    await drawList();
  }

  els.form.addEventListener("submit", async (event) => {
    event.preventDefault();
    els.error.textContent = "";
    const choice = els.scope.value || "personal";
    const body = { shortcut: els.shortcut.value.trim().toLowerCase(), title: els.title.value.trim(), body: els.body.value.trim() };
    if (choice.startsWith("queue:")) Object.assign(body, { scope: "queue", queue_id: choice.slice(6) });
    else body.scope = choice;
    if (!/^[a-z0-9_-]{1,32}$/.test(body.shortcut)) {
      els.error.textContent = t("replies.bad_shortcut");
      els.shortcut.focus();
      return;
    }
    if (!body.title || !body.body) {
      els.error.textContent = t("replies.title_and_body_needed");
      return;
    }
    try {
      await api("POST", "/api/saved-replies", body);
    } catch (err) {
      els.error.textContent = err.message;
      return;
    }
    els.shortcut.value = "";
    els.title.value = "";
    els.body.value = "";
    await drawList();
    els.shortcut.focus();
  });

  for (const button of dialog.querySelectorAll("[data-close]")) button.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    cache.clear();
    input.focus();
  });

  openButton.addEventListener("click", () => {
    els.error.textContent = "";
    drawScopes();
    dialog.showModal();
    drawList();
  });

  return { close, refresh: () => cache.clear() };
}
