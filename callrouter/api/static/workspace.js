// The managers' workspace: missed calls to call back, the client card, click-to-call and WhatsApp links.
// Plain browser JavaScript over the JSON API. Data only ever reaches the page as text (textContent,
// createTextNode, setAttribute on safe attributes), never as markup.
"use strict";

const API = "/api/v1";
const TOKEN_KEY = "callrouter.access_token";
const PAGE = 200;
const REASONS = {
  manager_no_answer: "manager did not answer",
  chain_no_answer: "nobody answered",
  busy: "busy",
  unavailable: "unavailable",
  abandoned: "caller hung up",
  short_abandon: "caller hung up quickly",
  after_hours: "after hours",
  not_answered_by_person: "reached voicemail/IVR",
};
const ERRORS = {
  "pbx-unavailable": "The phone system cannot be reached right now. Try again in a minute.",
  "pbx-refused": "The phone system refused the call.",
  "no-dial-target": "No phone is set up for you yet. Ask an administrator to set your dial target.",
  "invalid-phone-number": "This is not a phone number that can be dialled.",
  "missed-call-closed": "This missed call is already closed.",
};

const state = { me: null, names: new Map(), resolving: null };
const $ = (id) => document.getElementById(id);

class ApiFailure extends Error {
  constructor(status, body) {
    const id = (body && body.error) || `http-${status}`;
    super(ERRORS[id] || (typeof body?.detail === "string" ? body.detail : id));
    this.status = status;
    this.errorId = id;
  }
}

/** An element with attributes and children; strings become text nodes, never markup. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "onclick") node.addEventListener("click", value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function toast(message, bad = false) {
  const box = $("toast");
  box.textContent = message;
  box.classList.toggle("bad", bad);
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, bad ? 8000 : 5000);
}

async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.status === 401 && path !== "/auth/login") {
    logout("Your session has ended. Please log in again.");
  }
  if (!response.ok) throw new ApiFailure(response.status, data);
  return data;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(key, String(value));
  }
  return `?${search}`;
}

// ---- formatting -------------------------------------------------------------------------------

function since(iso) {
  const minutes = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "—";
}

function waLink(e164) {
  const digits = String(e164).replace(/\D/g, "");
  return el("a", {
    class: "button wa", href: `https://wa.me/${digits}`, target: "_blank", rel: "noopener noreferrer",
  }, "Write in WhatsApp");
}

function callButton(number, counterpartyId) {
  const button = el("button", { type: "button" }, "Call");
  button.addEventListener("click", () => clickToCall(button, number, counterpartyId));
  return button;
}

function numberActions(number, counterpartyId) {
  return [callButton(number, counterpartyId), waLink(number)];
}

// ---- login ------------------------------------------------------------------------------------

function showView(loggedIn) {
  $("login-view").hidden = loggedIn;
  $("app-view").hidden = !loggedIn;
  $("whoami").hidden = !loggedIn;
}

function logout(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.me = null;
  showView(false);
  $("login-error").textContent = message || "";
}

async function login(event) {
  event.preventDefault();
  const form = event.target;
  $("login-error").textContent = "";
  try {
    const token = await api("/auth/login", {
      method: "POST", body: { login: form.login.value.trim(), password: form.password.value },
    });
    sessionStorage.setItem(TOKEN_KEY, token.access_token);
    form.password.value = "";
    await start();
  } catch (error) {
    $("login-error").textContent =
      error.errorId === "invalid-credentials" ? "Wrong login or password." : error.message;
  }
}

async function start() {
  if (!sessionStorage.getItem(TOKEN_KEY)) return logout();
  try {
    state.me = await api("/auth/me");
  } catch (error) {
    return logout(error.status === 401 ? "" : error.message);
  }
  $("me-name").textContent = state.me.name;
  showView(true);
  await Promise.all([loadMissed(), loadNotifications()]);
}

// ---- notifications ----------------------------------------------------------------------------

/** My unread in-app notifications (missed calls, escalations), newest first. */
async function loadNotifications() {
  const list = $("notes-list");
  try {
    const notes = await api(`/notifications${query({ unread: true, limit: 50 })}`);
    list.replaceChildren(...(notes.length ? notes.map(noteItem)
      : [el("li", { class: "muted" }, "No unread notifications.")]));
  } catch (error) {
    list.replaceChildren(el("li", { class: "error" }, error.message));
  }
}

function noteItem(note) {
  const read = el("button", { type: "button", class: "secondary" }, "Mark read");
  read.addEventListener("click", async () => {
    try {
      await api(`/notifications/${note.id}/read`, { method: "POST" });
      await loadNotifications();
    } catch (error) {
      toast(error.message, true);
    }
  });
  return el("li", { title: when(note.created_at) }, el("strong", {}, note.title), ` · ${note.body} `, read);
}

// ---- missed calls -----------------------------------------------------------------------------

async function counterpartyName(id) {
  if (id === null || id === undefined) return null;
  if (!state.names.has(id)) {
    state.names.set(id, api(`/counterparties/${id}`).then((c) => c.name, () => null));
  }
  return state.names.get(id);
}

/** Open missed calls assigned to me, oldest first (the API lists newest first). */
async function openMissedCalls() {
  const filter = { status: "open", manager_id: state.me.id, limit: PAGE };
  let page = await api(`/missed-calls${query(filter)}`);
  if (page.total > page.items.length) {
    page = await api(`/missed-calls${query({ ...filter, offset: page.total - PAGE })}`);
  }
  return { items: page.items.slice().reverse(), total: page.total };
}

async function loadMissed() {
  const status = $("missed-status");
  status.textContent = "Loading…";
  try {
    const { items, total } = await openMissedCalls();
    const names = await Promise.all(items.map((m) => counterpartyName(m.counterparty_id)));
    $("missed-rows").replaceChildren(...items.map((m, i) => missedRow(m, names[i])));
    status.textContent = total === 0 ? "Nothing to call back. Well done."
      : total > items.length ? `${total} open; the oldest ${items.length} are shown.` : `${total} open.`;
  } catch (error) {
    status.textContent = error.message;
  }
}

function missedRow(missed, name) {
  const waitedHours = (Date.now() - Date.parse(missed.created_at)) / 3600000;
  const client = missed.counterparty_id
    ? el("button", { type: "button", class: "link", onclick: () => openCard(missed.counterparty_id) },
      name || `Client #${missed.counterparty_id}`)
    : el("span", { class: "muted" }, "unknown number");
  const resolve = el("button", { type: "button", class: "secondary" }, "Called back / close…");
  resolve.addEventListener("click", () => openResolve(missed, name));
  return el("tr", {},
    el("td", { class: waitedHours >= 1 ? "overdue" : null, title: when(missed.created_at) },
      since(missed.created_at)),
    el("td", {}, client),
    el("td", { class: "number" }, missed.caller_number),
    el("td", {}, REASONS[missed.reason] || missed.reason),
    el("td", {}, missed.attempts),
    el("td", { class: "actions" }, ...numberActions(missed.caller_number, missed.counterparty_id), resolve));
}

function openResolve(missed, name) {
  state.resolving = missed;
  $("resolve-title").textContent = `${name || missed.caller_number} · missed ${when(missed.created_at)}`;
  $("resolve-comment").value = "";
  $("resolve-error").textContent = "";
  $("resolve-dialog").showModal();
}

async function submitResolve(event) {
  event.preventDefault();
  const action = event.submitter && event.submitter.value;
  const comment = $("resolve-comment").value.trim();
  if (!action || !state.resolving) return;
  if (!comment) {
    $("resolve-error").textContent = "Write a short comment first.";
    return;
  }
  try {
    await api(`/missed-calls/${state.resolving.id}/resolution`, { method: "POST", body: { action, comment } });
    $("resolve-dialog").close();
    toast(action === "close" ? "Closed." : "Marked as called back.");
    await loadMissed();
  } catch (error) {
    $("resolve-error").textContent = error.message;
  }
}

// ---- click-to-call ----------------------------------------------------------------------------

async function clickToCall(button, number, counterpartyId) {
  button.disabled = true;
  try {
    const queued = await api("/calls/click-to-call", {
      method: "POST", body: { number, counterparty_id: counterpartyId ?? undefined },
    });
    toast(`Your phone is ringing. Pick up to be connected to ${queued.number}.`);
  } catch (error) {
    toast(error.message, true);
  } finally {
    setTimeout(() => { button.disabled = false; }, 5000); // one click, one call
  }
}

// ---- client card ------------------------------------------------------------------------------

async function search(event) {
  event.preventDefault();
  const q = $("search-q").value.trim();
  const results = $("search-results");
  if (!q) return results.replaceChildren();
  try {
    const page = await api(`/counterparties${query({ q, limit: 20 })}`);
    results.replaceChildren(...(page.items.length ? page.items.map((c) => el("li", {},
      el("button", { type: "button", class: "link", onclick: () => openCard(c.id) }, c.name),
      c.tax_id ? el("span", { class: "muted" }, ` · ${c.tax_id}`) : null))
      : [el("li", { class: "muted" }, "No client found.")]));
  } catch (error) {
    results.replaceChildren(el("li", { class: "error" }, error.message));
  }
}

function numberList(phones, counterpartyId) {
  if (!phones.length) return el("p", { class: "muted" }, "No numbers.");
  return el("ul", { class: "numbers" }, phones.map((p) => el("li", {},
    el("span", { class: "number" }, p.e164),
    p.label ? el("span", { class: "muted" }, p.label) : null,
    ...numberActions(p.e164, counterpartyId))));
}

function facts(pairs) {
  return el("dl", { class: "facts" },
    pairs.filter(([, value]) => value).flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
}

function callsTable(calls) {
  if (!calls.length) return el("p", { class: "muted" }, "No calls yet.");
  return el("table", { class: "list" },
    el("thead", {}, el("tr", {}, ["When", "Direction", "Number", "Outcome", "Talk"].map((h) => el("th", {}, h)))),
    el("tbody", {}, calls.map((c) => el("tr", {},
      el("td", {}, when(c.started_at)),
      el("td", {}, c.direction),
      el("td", { class: "number" }, c.direction === "outbound" ? c.callee_number : c.caller_number),
      el("td", {}, c.disposition.replace(/_/g, " ")),
      el("td", {}, c.talk_seconds ? `${Math.round(c.talk_seconds)} s` : "—")))));
}

function interactionList(items) {
  if (!items.length) return el("p", { class: "muted" }, "No interactions yet.");
  const recent = items.slice().sort((a, b) => Date.parse(b.occurred_at) - Date.parse(a.occurred_at));
  return el("ul", { class: "results" }, recent.slice(0, 10).map((i) => el("li", {},
    el("span", { class: "muted" }, `${when(i.occurred_at)} · ${i.kind}`), " ", i.summary || "")));
}

async function openCard(id) {
  const card = $("card");
  card.replaceChildren(el("p", { class: "muted" }, "Loading…"));
  try {
    const [client, phones, contacts, calls, interactions] = await Promise.all([
      api(`/counterparties/${id}`),
      api(`/phones${query({ counterparty_id: id, limit: PAGE })}`),
      api(`/contacts${query({ counterparty_id: id, limit: PAGE })}`),
      api(`/calls${query({ counterparty_id: id, limit: 10 })}`),
      api(`/interactions${query({ counterparty_id: id, limit: PAGE })}`),
    ]);
    const contactPhones = await Promise.all(contacts.items.map(
      (c) => api(`/phones${query({ contact_person_id: c.id, limit: PAGE })}`)));
    card.replaceChildren(
      el("h3", {}, client.name),
      facts([["Status", client.status.replace(/_/g, " ")], ["Tax id", client.tax_id],
        ["Region", client.region], ["Notes", client.notes]]),
      el("h3", {}, "Numbers"), numberList(phones.items, id),
      el("h3", {}, "Contacts"),
      contacts.items.length ? el("ul", { class: "results" }, contacts.items.map((c, i) => el("li", {},
        el("strong", {}, c.name), c.position ? ` · ${c.position}` : "", c.email ? ` · ${c.email}` : "",
        numberList(contactPhones[i].items, id)))) : el("p", { class: "muted" }, "No contacts."),
      el("h3", {}, "Recent calls"), callsTable(calls.items),
      el("h3", {}, "Interactions"), interactionList(interactions.items));
  } catch (error) {
    card.replaceChildren(el("p", { class: "error" }, error.message));
  }
}

// ---- start ------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", () => logout());
  $("missed-refresh").addEventListener("click", () => Promise.all([loadMissed(), loadNotifications()]));
  $("search-form").addEventListener("submit", search);
  $("resolve-form").addEventListener("submit", submitResolve);
  $("resolve-cancel").addEventListener("click", () => $("resolve-dialog").close());
  start();
});
