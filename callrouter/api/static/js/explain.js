// The routing explainer: type a number written any way, see where a call from it goes now and why.
import { api, query } from "./api.js";
import { $, el } from "./dom.js";
import { _, ngettext } from "./i18n.js";

const KINDS = {
  manager: () => _("to the client's personal manager"),
  fallback: () => _("to the fallback chain: the personal manager cannot be rung"),
  blacklist: () => _("blacklisted: the call is refused"),
  list: () => _("by a number list"),
  unknown: () => _("unknown number: to reception"),
  default: () => _("to the default route (reception)"),
};

async function explain(event) {
  event.preventDefault();
  const out = $("explain-result");
  const number = $("explain-number").value.trim();
  out.replaceChildren(el("p", { class: "muted" }, _("Loading…")));
  try {
    const d = await api(`/routing/dry-run${query({ number })}`);
    const details = el("details", {}, el("summary", {}, _("The router's own explanation")),
      el("p", {}, d.reason), ...d.notes.map((n) => el("p", { class: "muted" }, n)));
    const parts = [
      el("p", {}, el("strong", {}, KINDS[d.kind] ? KINDS[d.kind]() : d.kind)),
      d.steps.length ? el("ol", {}, d.steps.map((s) => el("li", {},
        ngettext("ring %(target)s for %(num)d second", "ring %(target)s for %(num)d seconds", s.timeout_s,
          { target: s.target }))))
        : el("p", { class: "muted" }, _("No phone rings.")),
      d.register_number ? el("p", {}, _("The number is in no card: it will be offered for registration.")) : null,
      d.after_hours ? el("p", {}, _("Outside business hours.")) : null,
      d.degraded ? el("p", { class: "error" }, _("The routing data could not be read: a safe default is used.")) : null,
      details,
    ];
    out.replaceChildren(...parts.filter(Boolean));
  } catch (error) {
    out.replaceChildren(el("p", { class: "error" }, error.message));
  }
}

export function bindExplain() {
  $("explain-form").addEventListener("submit", explain);
}
