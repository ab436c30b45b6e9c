// The analytics page (/workspace/analytics) for controllers, directors and admins: charts from the
// analytics API drawn as inline SVG, the forgotten clients and the monthly KPIs, exports per section.
// The numbers come ready from the API (scoped by role); this script only draws them.
import { API, ApiFailure, api, query, token, whenUnauthorized } from "./api.js";
import { STATUSES } from "./card.js";
import { drawingWidth, horizontalBars, legend, matrix, stackedBars, verticalBars } from "./charts.js";
import { $, el, toast } from "./dom.js";
import { _, companyDate, duration, LANG, when } from "./i18n.js";

const ALLOWED = new Set(["controller", "director", "admin"]);
const STATUS_ORDER = ["potential", "one_time_fresh", "regular", "one_time_old", "departed"];
// each colour keeps a 3:1 contrast against the white panel (WCAG 1.4.11)
const STATUS_COLORS = {
  potential: "#59626f", one_time_fresh: "#1f5fcc", regular: "#0b6b5f", one_time_old: "#a15c07", departed: "#b42318",
};
const STAGES = {
  lead: () => _("lead"), qualification: () => _("qualification"), proposal: () => _("proposal"),
  negotiation: () => _("negotiation"), won: () => _("won"), lost: () => _("lost"),
};
const percent = new Intl.NumberFormat(LANG, { style: "percent", maximumFractionDigits: 0 });
const number = new Intl.NumberFormat(LANG);
const money = new Intl.NumberFormat(LANG, { maximumFractionDigits: 0 });
const monthName = new Intl.DateTimeFormat(LANG, { month: "short", year: "numeric", timeZone: "UTC" });
const dayMonth = new Intl.DateTimeFormat(LANG, { day: "numeric", month: "short", timeZone: "UTC" });
const PAGE_SIZE = 20;
const forgottenState = { page: 1, total: 0 };

const status = (code) => (STATUSES[code] ? STATUSES[code]() : code);
const month = (ym) => monthName.format(new Date(`${ym}-01T00:00:00Z`));
const day = (iso) => dayMonth.format(new Date(`${iso}T00:00:00Z`));

function settings() {
  return { as_of: $("as-of").value, months: $("months").value, step: $("step").value };
}

/** The query each section's JSON and files are read with (the export buttons reuse it). */
const PARAMS = {
  "/analytics/status-distribution": () => ({ as_of: settings().as_of }),
  "/analytics/status-transitions": () => ({ as_of: settings().as_of, months: settings().months }),
  "/analytics/abc-xyz": () => ({ as_of: settings().as_of }),
  "/analytics/funnel": () => ({ as_of: settings().as_of, months: settings().months, per: "month_manager" }),
  "/analytics/callback-trend": () => ({
    as_of: settings().as_of, step: settings().step, periods: settings().step === "week" ? 12 : settings().months,
  }),
  "/analytics/forgotten": () => ({
    as_of: settings().as_of, days: $("forgotten-days").value, manager_id: $("forgotten-manager").value,
  }),
  "/analytics/kpi": () => ({ month: $("kpi-month").value }),
};

function chartBox(section) {
  return $(section).querySelector(".chart");
}

/** The width to draw a section's chart for (its box, in CSS pixels). */
function widthOf(section) {
  return drawingWidth(chartBox(section).clientWidth);
}

function show(section, ...nodes) {
  chartBox(section).replaceChildren(...nodes);
}

function failed(section, error) {
  show(section, el("p", { class: "error" }, error.message));
}

function empty(section, text) {
  show(section, el("p", { class: "muted" }, text));
}

async function loadStatuses() {
  const report = await api(`/analytics/status-distribution${query(PARAMS["/analytics/status-distribution"]())}`);
  const total = report.items.reduce((sum, s) => sum + s.clients, 0);
  const items = report.items.map((s) => ({
    key: s.status, label: status(s.status), value: s.clients, color: STATUS_COLORS[s.status],
    text: s.share === null ? number.format(s.clients) : `${number.format(s.clients)} (${percent.format(s.share)})`,
  }));
  show("statuses",
    horizontalBars(items, _("Clients by status on %(day)s: %(total)s in all", { day: report.as_of, total }), widthOf("statuses")),
    el("p", { class: "muted" }, _("%(total)s clients in all", { total: number.format(total) })));
}

async function loadTransitions() {
  const report = await api(`/analytics/status-transitions${query(PARAMS["/analytics/status-transitions"]())}`);
  if (!report.items.length) {
    empty("transitions", _("No status changes in these months."));
    return;
  }
  const months = [...new Set(report.items.map((m) => m.month))];
  const groups = months.map((ym) => ({
    key: ym,
    label: month(ym),
    segments: report.items.filter((m) => m.month === ym)
      .sort((a, b) => STATUS_ORDER.indexOf(a.to_status) - STATUS_ORDER.indexOf(b.to_status))
      .map((m) => ({
        value: m.clients, color: STATUS_COLORS[m.to_status],
        text: `${status(m.from_status)} → ${status(m.to_status)}: ${number.format(m.clients)}`,
      })),
  }));
  show("transitions",
    stackedBars(groups, _("Status changes per month, coloured by the new status"), widthOf("transitions")),
    legend(STATUS_ORDER.map((code) => ({ color: STATUS_COLORS[code], text: _("into: %(status)s", { status: status(code) }) }))));
}

async function loadMatrix() {
  const report = await api(`/analytics/abc-xyz${query(PARAMS["/analytics/abc-xyz"]())}`);
  const cells = report.items.map((c) => ({
    row: c.abc, column: c.xyz, value: c.clients,
    lines: [number.format(c.clients), money.format(Number(c.revenue))],
    title: _("%(cell)s: %(clients)s clients, revenue %(revenue)s", {
      cell: `${c.abc}${c.xyz}`, clients: number.format(c.clients), revenue: money.format(Number(c.revenue)),
    }),
  }));
  show("matrix", matrix(["A", "B", "C"], ["X", "Y", "Z"], cells,
    _("ABC × XYZ matrix: clients and revenue per cell"), widthOf("matrix")));
}

async function loadFunnel() {
  const params = { ...PARAMS["/analytics/funnel"](), per: "total", limit: 200 };
  const page = await api(`/analytics/funnel${query(params)}`);
  if (!page.items.length || page.items[0].deals === 0) {
    empty("funnel", _("No deals were created in these months."));
    return;
  }
  const items = page.items.map((row) => ({
    key: row.stage, label: STAGES[row.stage](), value: row.deals,
    color: row.stage === "lost" ? STATUS_COLORS.departed : row.stage === "won" ? STATUS_COLORS.regular : STATUS_COLORS.one_time_fresh,
    text: row.conversion === null ? number.format(row.deals) : `${number.format(row.deals)} (${percent.format(row.conversion)})`,
  }));
  show("funnel", horizontalBars(items, _("Deal funnel: deals that reached each stage"), widthOf("funnel")));
}

function seconds(value) {
  return value === null ? "—" : duration(value);
}

async function loadCallbacks() {
  const report = await api(`/analytics/callback-trend${query(PARAMS["/analytics/callback-trend"]())}`);
  const weekly = settings().step === "week";
  const label = (p) => (weekly ? day(p.start) : month(p.start.slice(0, 7)));
  const items = report.items.map((p) => ({
    key: p.start, label: label(p), value: p.callback_rate, color: STATUS_COLORS.one_time_fresh,
    text: _("%(rate)s called back, median %(median)s", {
      rate: percent.format(p.callback_rate ?? 0), median: seconds(p.median_callback_seconds),
    }),
  }));
  const heads = [_("Period"), _("Missed"), _("Called back"), _("Callback rate"), _("Median"), _("90th percentile"), _("Escalations")];
  // newest first: on a phone the rows become cards, each cell labelled with its column
  const rows = [...report.items].reverse().map((p) => el("tr", {}, ...[
    [weekly ? `${day(p.start)} – ${day(p.end)}` : month(p.start.slice(0, 7))],
    [p.missed], [p.called_back],
    [p.callback_rate === null ? "—" : percent.format(p.callback_rate), p.callback_rate !== null && p.callback_rate < 0.8 ? "overdue" : null],
    [seconds(p.median_callback_seconds)], [seconds(p.p90_callback_seconds)], [p.escalated],
  ].map(([text, cls], index) => el("td", { class: cls, "data-label": heads[index] }, text))));
  show("callbacks",
    verticalBars(items, _("Share of missed calls called back per period"), _("no missed calls"), widthOf("callbacks")),
    el("div", { class: "scroll" }, el("table", { class: "list labelled" },
      el("thead", {}, el("tr", {}, heads.map((head) => el("th", {}, head)))),
      el("tbody", {}, rows))));
}

/** A section whose endpoint another part of the system provides: 404 means "not available yet". */
async function optional(section, path) {
  const box = $(section);
  try {
    const data = await api(path);
    box.classList.remove("unavailable");
    return data;
  } catch (error) {
    if (!(error instanceof ApiFailure) || error.status !== 404) throw error;
    box.classList.add("unavailable");
    box.querySelector(".status").textContent = _("This section is not available on this server yet.");
    box.querySelector("tbody").replaceChildren();
    return null;
  }
}

async function loadForgotten() {
  const section = $("forgotten");
  const params = { ...PARAMS["/analytics/forgotten"](), page: forgottenState.page, page_size: PAGE_SIZE };
  const data = await optional("forgotten", `/analytics/forgotten${query(params)}`);
  if (!data) return;
  forgottenState.total = data.total;
  section.querySelector(".status").textContent = data.total
    ? _("%(total)s forgotten clients", { total: number.format(data.total) })
    : _("Nobody is forgotten. Well done.");
  section.querySelector("tbody").replaceChildren(...data.items.map((c) => el("tr", {},
    el("td", {}, c.counterparty_name),
    el("td", {}, c.manager_name || _("nobody")),
    el("td", {}, c.never_contacted ? _("never contacted") : when(c.last_contact_at)),
    el("td", { class: "number" }, c.days_silent ?? "—"))));
  const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
  section.querySelector(".page-label").textContent = _("page %(page)s of %(pages)s", { page: forgottenState.page, pages });
  section.querySelector("[data-page='-1']").disabled = forgottenState.page <= 1;
  section.querySelector("[data-page='1']").disabled = forgottenState.page >= pages;
}

async function loadKpi() {
  const section = $("kpi");
  const data = await optional("kpi", `/analytics/kpi${query(PARAMS["/analytics/kpi"]())}`);
  if (!data) return;
  section.querySelector(".status").textContent = data.items.length ? "" : _("No figures for this month.");
  section.querySelector("tbody").replaceChildren(...data.items.map((k) => el("tr", {},
    el("td", {}, k.manager_name),
    el("td", { class: "number" }, k.refined_counterparties ?? "—"),
    el("td", { class: "number" }, k.refined_contacts ?? "—"),
    el("td", { class: "number" }, k.calls_answered ?? "—"),
    el("td", { class: "number" }, k.missed ?? "—"),
    el("td", { class: "number" }, k.callback_rate === null || k.callback_rate === undefined ? "—" : percent.format(k.callback_rate)))));
}

async function loadManagers() {
  try {
    const page = await api(`/managers${query({ limit: 200 })}`);
    const items = Array.isArray(page) ? page : page.items;
    $("forgotten-manager").append(...items.map((m) => el("option", { value: m.id }, m.name)));
  } catch (error) {
    toast(error.message, true);
  }
}

const CHARTS = {
  statuses: loadStatuses, transitions: loadTransitions, matrix: loadMatrix, funnel: loadFunnel, callbacks: loadCallbacks,
};

async function loadAll() {
  await Promise.all([
    ...Object.entries(CHARTS).map(([section, load]) => load().catch((error) => failed(section, error))),
    loadForgotten().catch((error) => toast(error.message, true)),
    loadKpi().catch((error) => toast(error.message, true)),
  ]);
  document.body.dataset.loaded = "yes";
}

/** Download a section as CSV or XLSX: the API needs the token, so the file is fetched, then saved. */
async function download(path, format, name) {
  const headers = { Authorization: `Bearer ${token.get()}` };
  const response = await fetch(`${API}${path}${query({ ...PARAMS[path](), format })}`, { headers });
  if (!response.ok) {
    throw new ApiFailure(response.status, await response.json().catch(() => null));
  }
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `${name}-${settings().as_of}.${format}` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

function exportButtons() {
  for (const box of document.querySelectorAll(".exports")) {
    const { export: path, name } = box.dataset;
    box.replaceChildren(...["csv", "xlsx"].map((format) => el("button", {
      type: "button", class: "secondary", "aria-label": _("Download “%(name)s” as %(format)s", { name, format: format.toUpperCase() }),
      onclick: () => download(path, format, path.split("/").pop()).catch((error) => toast(error.message, true)),
    }, format.toUpperCase())));
  }
}

function bind() {
  $("analytics-form").addEventListener("submit", (event) => { event.preventDefault(); forgottenState.page = 1; loadAll(); });
  $("forgotten-form").addEventListener("submit", (event) => {
    event.preventDefault();
    forgottenState.page = 1;
    loadForgotten().catch((error) => toast(error.message, true));
  });
  $("kpi-form").addEventListener("submit", (event) => { event.preventDefault(); loadKpi().catch((error) => toast(error.message, true)); });
  for (const button of document.querySelectorAll("#forgotten [data-page]")) {
    button.addEventListener("click", () => {
      forgottenState.page += Number(button.dataset.page);
      loadForgotten().catch((error) => toast(error.message, true));
    });
  }
}

function gate(text) {
  $("gate-text").textContent = text;
  $("gate").hidden = false;
}

async function start() {
  if (!token.get()) {
    gate(_("Log in on the workspace first, then open the analytics again."));
    return;
  }
  let me;
  try {
    me = await api("/me");
  } catch (error) {
    gate(error.status === 401 ? _("Log in on the workspace first, then open the analytics again.") : error.message);
    return;
  }
  $("me-name").textContent = me.name;
  if (!ALLOWED.has(me.role)) {
    gate(_("The analytics page is for controllers, directors and administrators."));
    return;
  }
  $("as-of").value = companyDate(0);
  $("kpi-month").value = companyDate(0).slice(0, 7);
  $("analytics-view").hidden = false;
  exportButtons();
  bind();
  await Promise.all([loadManagers(), loadAll()]);
}

document.addEventListener("DOMContentLoaded", () => {
  whenUnauthorized(() => gate(_("Your session has ended. Log in on the workspace again.")));
  start();
});
