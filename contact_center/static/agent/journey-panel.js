/*
 * The visitor's journey beside a conversation in the agent console.
 *
 *   <script src="/static/agent/journey-panel.js"></script>   (or import it as a module)
 *   await window.JourneyPanel.render(container, visitorId, token, { currentContactId, limit });
 *   await window.JourneyPanel.refresh(container);   // same visitor, fresh data
 *   window.JourneyPanel.clear(container);
 *
 * It fetches GET /api/visitors/{visitorId}/journey with the agent's bearer token and
 * draws where the visitor first came from (source, landing page), the stages it went
 * through, and a timeline: pages seen (title, link, stage), earlier contacts with their
 * channel, wait, outcome, rating and agent, and conversions with their value.  The
 * contact named by ``currentContactId`` is marked "this conversation".
 *
 * Self-contained: it loads its own stylesheet (/static/agent/journey-panel.css, class
 * names prefixed "jp-"), builds its DOM with createElement/textContent only (visitor
 * data is never parsed as HTML), and only links http(s) URLs.  render() resolves to the
 * journey JSON (or null on error; the panel then shows the error).
 */
(function () {
  "use strict";

  const CSS_HREF = "/static/agent/journey-panel.css";
  // Texts come from the page's translator (options.t, else the staff pages' one from
  // static/common/i18n.js); the keys are the "jp.*" and "label.*" ones of the staff
  // catalogue.
  let t = (key) => key;
  const known = (key) => (t.has ? t.has(key) : false);
  const labelOf = (prefix, code) => (known(`${prefix}.${code}`) ? t(`${prefix}.${code}`) : String(code || "").replace(/_/g, " "));
  const state = new WeakMap();

  function ensureStyles() {
    if (document.querySelector(`link[href="${CSS_HREF}"]`)) return;
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = CSS_HREF;
    document.head.append(link);
  }

  function h(tag, cls, ...children) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false || child === "") continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function safeLink(url, text) {
    try {
      const parsed = new URL(url, location.href);
      if (parsed.protocol === "http:" || parsed.protocol === "https:") {
        const a = h("a", "jp-link", text || parsed.pathname + parsed.search);
        a.dir = "auto";
        a.href = parsed.href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.title = parsed.href;
        return a;
      }
    } catch {
      /* not a URL: shown as text */
    }
    return h("span", "jp-link", text || url);
  }

  function pathOf(url) {
    try {
      const parsed = new URL(url, location.href);
      return parsed.pathname + parsed.search;
    } catch {
      return url;
    }
  }

  function when(seconds) {
    const date = new Date(seconds * 1000);
    const now = new Date();
    const time = t.time(seconds);
    const day = { year: "numeric", month: "numeric", day: "numeric" };
    if (t.date(date, day) === t.date(now, day)) return time;
    const days = Math.round((now - date) / 86400000);
    if (days < 7) return t("jp.when", { day: t.date(date, { weekday: "short" }), time });
    return t("jp.when", { day: t.date(date, { day: "numeric", month: "short" }), time });
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "";
    if (seconds < 90) return t("jp.duration.s", { n: Math.round(seconds) });
    if (seconds < 5400) return t("jp.duration.min", { n: Math.round(seconds / 60) });
    return t("jp.duration.h", { n: t.num(seconds / 3600, { maximumFractionDigits: 1, minimumFractionDigits: 1 }) });
  }

  function money(value, currency) {
    if (value === null || value === undefined) return "";
    const amount = t.num(Number(value), { maximumFractionDigits: 2 });
    return currency ? t("jp.money", { amount, currency }) : amount;
  }

  function stagePill(stage, source) {
    const code = known(`label.stage.${stage}`) ? stage : "unknown";
    const pill = h("span", `jp-stage jp-stage-${code}`, labelOf("label.stage", stage));
    if (source) pill.title = labelOf("jp.stage_source", source);
    return pill;
  }

  function sourceLine(visitor) {
    if (!visitor) return h("p", "jp-muted", t("jp.no_first_visit"));
    const utm = [visitor.first_utm_medium, visitor.first_utm_campaign].filter(Boolean).join(" · ");
    const source = h("strong", null, h("bdi", null, visitor.first_source || t("jp.direct")));
    const parts = t(utm ? "jp.first_came_from_utm" : "jp.first_came_from", { when: when(visitor.first_seen_at) }).split(/\{(source|utm)\}/);
    const line = h("p", "jp-source", ...parts.map((part) => (part === "source" ? source : part === "utm" ? h("bdi", null, utm) : part)));
    if (visitor.first_landing_url) line.append(h("br"), t("jp.landed_on"), " ", safeLink(visitor.first_landing_url));
    return line;
  }

  function stagePath(items) {
    const seen = [];
    for (const item of items) {
      if (item.stage && item.stage !== "unknown" && seen[seen.length - 1] !== item.stage) seen.push(item.stage);
    }
    if (!seen.length) return null;
    const path = h("div", "jp-path");
    seen.slice(-6).forEach((stage, i) => {
      if (i) path.append(h("span", "jp-arrow flip-rtl", "→"));
      path.append(stagePill(stage));
    });
    return path;
  }

  /** Consecutive page views in the same stage fold into one entry with a count. */
  function fold(items) {
    const out = [];
    for (const item of items) {
      const last = out[out.length - 1];
      if (item.kind === "page_view" && last && last.kind === "page_view" && last.stage === item.stage) {
        last.pages.push(item);
        continue;
      }
      out.push(item.kind === "page_view" ? { ...item, pages: [item] } : item);
    }
    return out;
  }

  function pageEntry(entry) {
    const last = entry.pages[entry.pages.length - 1];
    const body = h(
      "div",
      "jp-body",
      h("div", "jp-line", safeLink(last.url, last.title || pathOf(last.url)), stagePill(entry.stage, last.stage_source)),
    );
    if (entry.pages.length > 1) {
      const others = entry.pages.slice(0, -1).map((page) => page.title || pathOf(page.url));
      body.append(h("div", "jp-muted", t("jp.more_pages", { count: entry.pages.length - 1, pages: others.slice(-3).join(" · ") })));
    }
    return body;
  }

  function contactEntry(item, currentContactId) {
    const channel = item.kind === "offline_message" ? "offline" : item.channel;
    const outcome = item.outcome ? labelOf("jp.outcome", item.outcome) : item.status === "active" ? t("jp.in_progress") : item.status === "queued" ? t("jp.waiting") : "";
    const facts = [];
    if (item.wait_s !== null && item.wait_s !== undefined) facts.push(t("jp.waited", { duration: duration(item.wait_s) }));
    if (item.handle_s) facts.push(t("jp.talked", { duration: duration(item.handle_s) }));
    if (item.agent_name) facts.push(t("jp.with", { name: item.agent_name }));
    const body = h(
      "div",
      "jp-body",
      h(
        "div",
        "jp-line",
        h("strong", null, labelOf("jp.channel", channel)),
        outcome ? h("span", `jp-outcome jp-outcome-${item.outcome === "abandoned" ? "bad" : "ok"}`, outcome) : null,
        stagePill(item.stage, item.stage_source),
      ),
    );
    if (facts.length) body.append(h("div", "jp-muted", facts.join(" · ")));
    if (item.csat !== null && item.csat !== undefined) {
      const stars = h("div", `jp-csat jp-csat-${item.csat >= 4 ? "good" : item.csat <= 2 ? "bad" : "mid"}`, `${"★".repeat(item.csat)}${"☆".repeat(5 - item.csat)}`);
      stars.title = t("jp.rated", { rating: item.csat, best: 5 });
      body.append(stars);
    }
    if (item.contact_id && item.contact_id === currentContactId) body.append(h("div", "jp-current", t("jp.this_conversation")));
    return body;
  }

  function conversionEntry(item) {
    // A conversion's name is the site's own event name (e.g. purchase_completed).
    const name = (item.outcome || t("jp.kind.conversion")).replace(/_/g, " ");
    return h(
      "div",
      "jp-body",
      h("div", "jp-line", h("strong", null, h("bdi", null, name.charAt(0).toUpperCase() + name.slice(1))), item.value !== null && item.value !== undefined ? h("span", "jp-value", money(item.value, item.currency)) : null),
    );
  }

  function draw(container, journey, options) {
    container.replaceChildren();
    const root = h("section", "jp-panel");
    root.setAttribute("aria-label", t("jp.aria"));
    const summary = [t("jp.pages", { count: journey.page_views }), t("jp.contacts", { count: journey.contacts })];
    if (journey.conversions) summary.push(t("jp.conversions", { count: journey.conversions, value: money(journey.conversion_value) }));
    root.append(h("div", "jp-head", h("h3", "jp-title", t("jp.title")), h("span", "jp-muted", summary.join(" · "))));
    root.append(sourceLine(journey.visitor));
    const path = stagePath(journey.items);
    if (path) root.append(path);
    if (!journey.items.length) {
      root.append(h("p", "jp-muted", t("jp.empty")));
      container.append(root);
      return;
    }
    const list = h("ol", "jp-timeline");
    const entries = fold(journey.items);
    for (const entry of entries.reverse()) {
      const kind = entry.kind;
      const li = h("li", `jp-item jp-${kind}${entry.contact_id && entry.contact_id === options.currentContactId ? " jp-is-current" : ""}`);
      li.append(h("div", "jp-when", when(entry.at)), h("span", "jp-dot"));
      li.append(h("div", "jp-kind", labelOf("jp.kind", kind)));
      if (kind === "page_view") li.append(pageEntry(entry));
      else if (kind === "conversion") li.append(conversionEntry(entry));
      else li.append(contactEntry(entry, options.currentContactId));
      list.append(li);
    }
    root.append(list);
    if (journey.truncated) root.append(h("p", "jp-muted", t("jp.truncated")));
    container.append(root);
  }

  async function render(container, visitorId, token, options) {
    if (!container || !visitorId) return null;
    ensureStyles();
    const opts = { limit: 100, ...(options || {}) };
    // The page's translator: given, or the staff pages' (static/common/i18n.js).
    if (!opts.t && window.StaffI18nReady) opts.t = await window.StaffI18nReady;
    if (opts.t) t = opts.t;
    state.set(container, { visitorId, token, options: opts });
    if (!container.firstChild) container.append(h("p", "jp-muted jp-loading", t("jp.loading")));
    try {
      const response = await fetch(`/api/visitors/${encodeURIComponent(visitorId)}/journey?limit=${encodeURIComponent(opts.limit)}`, {
        headers: { Authorization: `Bearer ${token}`, "Accept-Language": t.locale || "en" },
      });
      if (!response.ok) {
        throw new Error(response.status === 404 ? t("jp.not_available") : t("jp.failed_status", { status: String(response.status) }));
      }
      const journey = await response.json();
      const current = state.get(container);
      if (!current || current.visitorId !== visitorId) return null; // another visitor was asked for meanwhile
      draw(container, journey, opts);
      return journey;
    } catch (error) {
      const current = state.get(container);
      if (current && current.visitorId === visitorId) {
        container.replaceChildren(h("p", "jp-error", error.message || t("jp.failed")));
      }
      return null;
    }
  }

  function refresh(container) {
    const current = state.get(container);
    return current ? render(container, current.visitorId, current.token, current.options) : Promise.resolve(null);
  }

  function clear(container) {
    state.delete(container);
    container.replaceChildren();
  }

  window.JourneyPanel = { render, refresh, clear };
})();
