// Open missed calls: mine, the team's (supervisors) and the unknown-number queue. One request per list
// (names come with the rows), rows kept live by the event stream, waiting times ticking.
import { api, query } from "./api.js";
import { $, el, toast } from "./dom.js";
import { _, ngettext, since, when } from "./i18n.js";
import { callActions } from "./phone.js";

const PAGE_SIZE = 100;
const REASONS = {
  manager_no_answer: () => _("manager did not answer"),
  chain_no_answer: () => _("nobody answered"),
  busy: () => _("busy"),
  unavailable: () => _("unavailable"),
  abandoned: () => _("caller hung up"),
  short_abandon: () => _("caller hung up quickly"),
  after_hours: () => _("after hours"),
  not_answered_by_person: () => _("reached voicemail or IVR"),
};
const LISTS = {
  missed: { scope: "mine", rows: "missed-rows", status: "missed-status" },
  team: { scope: "team", rows: "team-rows", status: "team-status" },
  unknown: { scope: "unknown", rows: "unknown-rows", status: "unknown-status" },
};

export const missedState = { me: null, loaded: new Set(), byId: new Map(), openCard: () => {} };

const ageSeconds = (m) => (Date.now() - Date.parse(m.created_at)) / 1000;
const managerName = (m) => m.manager_name ?? m.assigned_manager_name ?? null;
const clientName = (m) => m.counterparty_name || null;

function overdue(m) {
  if (m.overdue !== undefined) return m.overdue;
  if (m.due_at) return Date.parse(m.due_at) < Date.now();
  return ageSeconds(m) >= 3600;
}

function waitingCell(m) {
  return el("td", { class: overdue(m) ? "overdue" : null, title: when(m.created_at), "data-since": m.created_at },
    since(m.created_at));
}

function clientCell(m) {
  if (!m.counterparty_id) return el("td", {}, el("span", { class: "muted" }, _("unknown number")));
  return el("td", {}, el("button", {
    type: "button", class: "link", onclick: () => missedState.openCard(m.counterparty_id),
  }, clientName(m) || _("Client #%(id)s", { id: m.counterparty_id })));
}

function resolveButton(m) {
  const who = clientName(m) || m.caller_number;
  return el("button", {
    type: "button", class: "secondary", "aria-label": _("Result of the callback to %(who)s", { who }),
    onclick: () => openResolve(m),
  }, _("Result…"));
}

function assignButton(m) {
  return el("button", {
    type: "button", class: "secondary",
    "aria-label": _("Assign the call from %(who)s", { who: clientName(m) || m.caller_number }),
    onclick: () => assign(m),
  }, _("Assign…"));
}

function row(view, m) {
  const who = clientName(m) || m.caller_number;
  const actions = el("td", { class: "actions" }, ...callActions(m.caller_number, m.counterparty_id, who),
    resolveButton(m), view !== "missed" ? assignButton(m) : null);
  const attempts = el("td", {}, m.attempts);
  const cells = {
    missed: [waitingCell(m), clientCell(m), el("td", { class: "number" }, m.caller_number),
      el("td", {}, REASONS[m.reason] ? REASONS[m.reason]() : m.reason), attempts, actions],
    team: [waitingCell(m), clientCell(m), el("td", { class: "number" }, m.caller_number),
      el("td", {}, managerName(m) || (m.assigned_manager_id
        ? _("Manager #%(id)s", { id: m.assigned_manager_id }) : el("span", { class: "muted" }, _("nobody")))),
      attempts, actions],
    unknown: [waitingCell(m), el("td", { class: "number" }, m.caller_number), attempts, actions],
  }[view];
  return el("tr", { "data-missed-id": m.id, class: overdue(m) ? "late" : null }, ...cells);
}

function statusText(view, total, shown) {
  if (total === 0) {
    return view === "missed" ? _("Nothing to call back. Well done.") : _("No open missed calls.");
  }
  const open = ngettext("%(num)d open missed call", "%(num)d open missed calls", total);
  return shown < total ? _("%(open)s; the latest %(shown)s are shown.", { open, shown }) : open;
}

/** Load a list: one request, oldest first, names included. */
export async function loadList(view) {
  const list = LISTS[view];
  const status = $(list.status);
  status.textContent = _("Loading…");
  try {
    const filter = { status: "open", scope: list.scope, page: 1, page_size: PAGE_SIZE, limit: PAGE_SIZE };
    const page = await api(`/missed-calls${query(filter)}`);
    const items = page.items.slice().sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
    for (const m of items) missedState.byId.set(m.id, m);
    $(list.rows).replaceChildren(...items.map((m) => row(view, m)));
    status.textContent = statusText(view, page.total, items.length);
    status.dataset.total = String(page.total);
    if (view === "missed") $("missed-count").textContent = page.total ? String(page.total) : "";
    missedState.loaded.add(view);
  } catch (error) {
    status.textContent = error.message;
  }
}

let reloadTimer = null;

/** A `missed-call` event: closed rows go at once; opened or updated ones reload the lists on screen. */
export function onMissedEvent(data) {
  const missed = data.missed_call || {};
  if (data.action === "closed") {
    for (const node of document.querySelectorAll(`tr[data-missed-id="${Number(missed.id)}"]`)) node.remove();
    missedState.byId.delete(missed.id);
  }
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => {
    for (const view of missedState.loaded) loadList(view);
  }, 150);
  return missed;
}

export function tick() {
  for (const cell of document.querySelectorAll("td[data-since]")) cell.textContent = since(cell.dataset.since);
}

// ---- after a call: outcome and note --------------------------------------------------------------

let resolving = null;

export async function openResolve(m) {
  resolving = m;
  $("resolve-title").textContent = _("%(who)s · missed %(when)s", {
    who: clientName(m) || m.caller_number, when: when(m.created_at),
  });
  $("resolve-note").value = "";
  $("resolve-reason").value = "";
  $("resolve-reason-label").hidden = true;
  $("resolve-error").textContent = "";
  $("resolve-dialog").showModal();
}

export async function openResolveById(id) {
  const m = missedState.byId.get(id) || await api(`/missed-calls/${id}`);
  if (m.counterparty_id) missedState.openCard(m.counterparty_id);
  if (m.status === "open") openResolve(m);
}

async function submitResolve(event) {
  event.preventDefault();
  const outcome = event.submitter && event.submitter.value;
  if (!outcome || !resolving) return;
  const note = $("resolve-note").value.trim();
  const select = $("resolve-reason");
  const reason = select.value ? select.options[select.selectedIndex].text : "";
  if (outcome === "closed" && !reason) {
    $("resolve-reason-label").hidden = false;
    $("resolve-error").textContent = _("Choose why you close it without a callback.");
    $("resolve-reason").focus();
    return;
  }
  try {
    await api(`/missed-calls/${resolving.id}/resolve`, {
      method: "POST", body: { outcome, reason: outcome === "closed" ? reason : null, note: note || null },
    });
    $("resolve-dialog").close();
    onMissedEvent({ action: "closed", missed_call: resolving });
    toast(outcome === "closed" ? _("Closed without a callback.") : _("Called back: well done."));
  } catch (error) {
    $("resolve-error").textContent = error.message;
  }
}

// ---- reassigning (supervisors, reception) --------------------------------------------------------

let managers = null;

async function assign(m) {
  try {
    managers = managers || (await api("/missed-calls/assignees"));
  } catch (error) {
    return toast(error.message, true);
  }
  const dialog = $("assign-dialog");
  const select = $("assign-manager");
  select.replaceChildren(...managers.map((x) => el("option", { value: x.id }, x.name)));
  $("assign-title").textContent = _("Assign the call from %(who)s", { who: clientName(m) || m.caller_number });
  dialog.returnValue = "";
  dialog.showModal();
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "assign") return;
    try {
      await api(`/missed-calls/${m.id}/assign`, { method: "POST", body: { manager_id: Number(select.value) } });
      toast(_("Assigned."));
      onMissedEvent({ action: "updated", missed_call: m });
    } catch (error) {
      toast(error.message, true);
    }
  }, { once: true });
}

export function bindMissed() {
  $("resolve-form").addEventListener("submit", submitResolve);
  $("resolve-cancel").addEventListener("click", () => $("resolve-dialog").close());
}
