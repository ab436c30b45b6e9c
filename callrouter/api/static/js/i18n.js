// Texts from the server's gettext catalog (embedded in the page as JSON), plural forms by the language's
// rule, and dates in the company timezone written the user's way.
const boot = JSON.parse(document.getElementById("boot").textContent);
export const LANG = boot.lang;
export const TIMEZONE = boot.timezone;
const messages = boot.messages;
const PLURAL_ORDER = { ru: ["one", "few", "many"], en: ["one", "other"] };
const pluralRules = new Intl.PluralRules(LANG);

function fill(text, values) {
  return text.replace(/%\((\w+)\)[sd]/g, (_match, key) => String(values[key] ?? ""));
}

/** The translation of `message`; `%(name)s` placeholders are filled from `values`. */
export function _(message, values = {}) {
  const text = typeof messages[message] === "string" ? messages[message] : message;
  return fill(text, values);
}

/** The plural form for `n` (`%(num)d` stands for `n`). */
export function ngettext(singular, plural, n, values = {}) {
  const forms = messages[singular];
  let text;
  if (Array.isArray(forms)) {
    const order = PLURAL_ORDER[LANG] || ["one", "other"];
    const index = order.indexOf(pluralRules.select(n));
    text = forms[index >= 0 ? index : forms.length - 1];
  } else {
    text = n === 1 ? singular : plural;
  }
  return fill(text, { num: n, ...values });
}

const dateTime = new Intl.DateTimeFormat(LANG, {
  timeZone: TIMEZONE, dateStyle: "short", timeStyle: "short",
});
const dateOnly = new Intl.DateTimeFormat("en-CA", { timeZone: TIMEZONE });

export function when(iso) {
  return iso ? dateTime.format(new Date(iso)) : "—";
}

/** Today in the company timezone as YYYY-MM-DD, shifted by `days`. */
export function companyDate(days = 0) {
  return dateOnly.format(new Date(Date.now() + days * 86400000));
}

export function duration(seconds) {
  const minutes = Math.max(0, Math.floor(seconds / 60));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days) {
    return _("%(days)s %(hours)s", {
      days: ngettext("%(num)d day", "%(num)d days", days),
      hours: ngettext("%(num)d hour", "%(num)d hours", hours),
    });
  }
  if (hours) {
    return _("%(hours)s %(minutes)s", {
      hours: ngettext("%(num)d hour", "%(num)d hours", hours),
      minutes: ngettext("%(num)d minute", "%(num)d minutes", mins),
    });
  }
  return mins ? ngettext("%(num)d minute", "%(num)d minutes", mins) : _("under a minute");
}

export function since(iso) {
  return duration((Date.now() - Date.parse(iso)) / 1000);
}
