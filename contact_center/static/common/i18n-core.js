/*
 * The translator the pages share: the widget (the server splices the part between the
 * markers into /widget.js, as it does the call engine) and the staff pages (which
 * import it as a module).
 *
 *   const t = createTranslator(bundle);   // bundle: GET /api/locales/{widget|staff}
 *   t("call.ended_after", { duration: "4:05" })   // "Call ended · 4:05"
 *
 * A message is a string with {name} placeholders, or an object of CLDR plural forms
 * ({one, other}) picked by Intl.PluralRules for params.count.  Numbers are written
 * with the locale's digits (Persian in fa); text put into a sentence is isolated
 * (U+2068 ... U+2069) when its direction may differ from the page's, so an English
 * name or an order number inside a Persian sentence keeps its place.  Dates go through
 * Intl.DateTimeFormat with the bundle's Intl locale (fa-IR-u-ca-persian: the Jalali
 * calendar).  A missing key shows the key itself.
 */

// ---- i18n: begin ----
const I18N_RTL_TEXT = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/;

function createTranslator(bundle) {
  const data = bundle || {};
  const messages = data.messages || {};
  const locale = data.locale || "en";
  const dir = data.dir === "rtl" ? "rtl" : "ltr";
  const intl = data.intl || locale;
  const plurals = new Intl.PluralRules(intl);
  const numbers = new Intl.NumberFormat(intl);
  const localDigits = Array.from({ length: 10 }, (_, d) => new Intl.NumberFormat(intl, { useGrouping: false }).format(d));
  const latinDigits = localDigits.join("") === "0123456789";
  const formats = new Map();

  function isolate(text) {
    const value = String(text);
    if (!value) return value;
    const needed = dir === "rtl" ? /[A-Za-z0-9#@]/.test(value) : I18N_RTL_TEXT.test(value);
    return needed ? `\u2068${value}\u2069` : value;
  }

  function num(value, options) {
    if (value === null || value === undefined || !Number.isFinite(Number(value))) return "–";
    if (!options) return numbers.format(value);
    const key = JSON.stringify(options);
    if (!formats.has(key)) formats.set(key, new Intl.NumberFormat(intl, options));
    return formats.get(key).format(value);
  }

  /** ASCII digits in a string (a clock "4:05", an id) written with the locale's. */
  function digits(text) {
    const value = String(text);
    return latinDigits ? value : value.replace(/[0-9]/g, (d) => localDigits[Number(d)]);
  }

  function pick(value, params) {
    if (value && typeof value === "object") {
      const count = params && typeof params.count === "number" ? params.count : 0;
      return value[plurals.select(count)] || value.other || Object.values(value)[0] || "";
    }
    return value;
  }

  function t(key, params) {
    const raw = Object.prototype.hasOwnProperty.call(messages, key) ? pick(messages[key], params) : key;
    if (!params) return raw;
    return String(raw).replace(/\{(\w+)\}/g, (whole, name) => {
      if (!Object.prototype.hasOwnProperty.call(params, name)) return whole;
      const value = params[name];
      if (typeof value === "number") return num(value);
      return isolate(value === null || value === undefined ? "" : value);
    });
  }

  const dateFormats = new Map();
  /** An epoch-seconds instant through Intl.DateTimeFormat (the locale's calendar). */
  function date(at, options) {
    if (at === null || at === undefined || at === "") return "";
    const key = JSON.stringify(options || {});
    if (!dateFormats.has(key)) dateFormats.set(key, new Intl.DateTimeFormat(intl, options));
    const when = at instanceof Date ? at : new Date(Number(at) * 1000);
    return dateFormats.get(key).format(when);
  }

  t.locale = locale;
  t.dir = dir;
  t.intl = intl;
  t.localeName = data.name || locale;
  t.available = data.available || [{ code: locale, name: data.name || locale, dir }];
  t.has = (key) => Object.prototype.hasOwnProperty.call(messages, key);
  t.num = num;
  t.digits = digits;
  t.isolate = isolate;
  t.date = date;
  t.time = (at) => date(at, { hour: "2-digit", minute: "2-digit" });
  t.list = (items) => (Intl.ListFormat ? new Intl.ListFormat(intl, { type: "conjunction" }).format(items) : items.join(", "));
  return t;
}
// ---- i18n: end ----

export { createTranslator };
