// Callback discipline for a chosen period: per manager, the callback rate, median and p90 time to
// callback and escalations (`GET /reports/missed-calls`).
import { api, query } from "./api.js";
import { $, el } from "./dom.js";
import { _, companyDate, duration, TIMEZONE } from "./i18n.js";

const percent = new Intl.NumberFormat(document.documentElement.lang, { style: "percent" });

function isoAt(day) {
  // midnight in the company timezone: the browser's offset there, found via Intl
  const probe = new Date(`${day}T00:00:00Z`);
  const local = new Date(probe.toLocaleString("en-US", { timeZone: TIMEZONE }));
  const offset = local.getTime() - probe.getTime();
  return new Date(probe.getTime() - offset).toISOString();
}

export async function loadStats() {
  const from = $("period-from");
  const to = $("period-to");
  if (!from.value) from.value = companyDate(-6);
  if (!to.value) to.value = companyDate(0);
  const until = new Date(Date.parse(isoAt(to.value)) + 86400000).toISOString();
  const rows = $("stats-rows");
  try {
    const stats = await api(`/reports/missed-calls${query({ since: isoAt(from.value), until })}`);
    rows.replaceChildren(...(stats.length ? stats.map((s) => el("tr", {},
      el("td", {}, s.manager_name || _("nobody")),
      el("td", {}, s.missed), el("td", {}, s.called_back),
      el("td", { class: s.callback_rate < 0.8 ? "overdue" : null }, percent.format(s.callback_rate)),
      el("td", {}, s.median_callback_seconds === null ? "—" : duration(s.median_callback_seconds)),
      el("td", {}, s.p90_callback_seconds === null ? "—" : duration(s.p90_callback_seconds)),
      el("td", {}, s.escalated)))
      : [el("tr", {}, el("td", { colspan: 7, class: "muted" }, _("No missed calls in this period.")))]));
  } catch (error) {
    rows.replaceChildren(el("tr", {}, el("td", { colspan: 7, class: "error" }, error.message)));
  }
}

export function bindSupervisor() {
  $("period-form").addEventListener("submit", (event) => { event.preventDefault(); loadStats(); });
}
