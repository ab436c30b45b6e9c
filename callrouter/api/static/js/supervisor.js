// Callback discipline for a chosen period: per manager, the callback rate, median and p90 time to
// callback and escalations (`GET /reports/missed-calls`).
import { api, query } from "./api.js";
import { $, el } from "./dom.js";
import { _, companyDate, duration, TIMEZONE } from "./i18n.js";

const percent = new Intl.NumberFormat(document.documentElement.lang, { style: "percent" });

const wallClock = new Intl.DateTimeFormat("en-US", {
  timeZone: TIMEZONE, hourCycle: "h23",
  year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric",
});

function isoAt(day) {
  // midnight in the company timezone: the zone's offset from UTC at that day, read from Intl's parts
  // (never by parsing a local-time string, which would bring the browser's own timezone in)
  const probe = new Date(`${day}T00:00:00Z`);
  const part = Object.fromEntries(wallClock.formatToParts(probe).map((p) => [p.type, Number(p.value)]));
  const there = Date.UTC(part.year, part.month - 1, part.day, part.hour, part.minute, part.second);
  return new Date(probe.getTime() - (there - probe.getTime())).toISOString();
}

export async function loadStats() {
  const from = $("period-from");
  const to = $("period-to");
  if (!from.value) from.value = companyDate(-6);
  if (!to.value) to.value = companyDate(0);
  const dayAfter = new Date(Date.parse(`${to.value}T00:00:00Z`) + 86400000).toISOString().slice(0, 10);
  const until = isoAt(dayAfter);  // the end of the last day: the next company midnight
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
