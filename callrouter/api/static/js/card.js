// The client card (one request), the screen pop while a call rings, and registering an unknown number.
import { api, query } from "./api.js";
import { $, el, toast } from "./dom.js";
import { _, when } from "./i18n.js";
import { callActions } from "./phone.js";

export const STATUSES = {
  potential: () => _("potential client"),
  one_time_fresh: () => _("one-time, recent"),
  regular: () => _("regular client"),
  one_time_old: () => _("one-time, long ago"),
  departed: () => _("departed"),
};

const DISPOSITIONS = {
  answered: () => _("answered"), no_answer: () => _("no answer"), busy: () => _("busy"),
  unavailable: () => _("unavailable"), abandoned: () => _("caller hung up"), rejected: () => _("rejected"),
  failed: () => _("failed"),
};

function facts(pairs) {
  return el("dl", { class: "facts" },
    pairs.filter(([, value]) => value).flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
}

function section(title, items, render, empty) {
  return [el("h3", {}, title), items && items.length
    ? el("ul", { class: "results" }, items.map((item) => el("li", {}, ...render(item))))
    : el("p", { class: "muted" }, empty)];
}

function numbers(card, name) {
  return section(_("Numbers"), card.phones, (p) => [el("span", { class: "number" }, p.e164), " ",
    p.contact_name || p.label ? el("span", { class: "muted" }, `${p.contact_name || p.label} `) : null,
    ...callActions(p.e164, card.client.id, p.contact_name ? `${p.contact_name} (${name})` : name)],
  _("No numbers."));
}

const statusText = (status) => (STATUSES[status] ? STATUSES[status]() : status);
const missedItem = (m) => [el("span", { class: "overdue" }, when(m.created_at)), ` ${m.caller_number}`];

/** The card's content from `GET /counterparties/{id}/card`. */
export function cardContent(card) {
  const c = card.client;
  return [
    el("h3", { class: "client-name" }, el("a", { href: `#/client/${c.id}` }, c.name)),
    facts([[_("Status"), statusText(c.status)], [_("Tax id"), c.tax_id],
      [_("Manager"), c.manager_name], [_("Region"), c.region], [_("Notes"), c.notes]]),
    ...numbers(card, c.name),
    ...section(_("Open missed calls"), card.open_missed_calls, missedItem, _("None.")),
    ...section(_("Recent calls"), card.last_calls, (call) => [
      el("span", { class: "muted" }, when(call.started_at)), " ",
      call.direction === "outbound" ? _("outgoing") : _("incoming"), " · ",
      call.direction === "outbound" ? call.callee_number : call.caller_number, " · ",
      DISPOSITIONS[call.disposition] ? DISPOSITIONS[call.disposition]() : call.disposition,
      call.answered_by_name ? ` · ${call.answered_by_name}` : ""], _("No calls yet.")),
    ...section(_("History"), card.last_interactions, (i) => [
      el("span", { class: "muted" }, when(i.occurred_at)), " ", i.manager_name ? `${i.manager_name}: ` : "",
      i.summary || i.kind], _("No interactions yet.")),
    ...section(_("Open deals"), card.open_deals, (d) => [d.title, d.amount ? ` · ${d.amount}` : ""],
      _("No open deals.")),
    ...section(_("Needs"), card.needs, (n) => [n.product, n.quantity ? ` · ${n.quantity}` : "",
      n.period ? ` · ${n.period}` : ""], _("No needs noted.")),
  ];
}

export async function openCard(id) {
  const box = $("card");
  box.replaceChildren(el("p", { class: "muted" }, _("Loading…")));
  try {
    box.replaceChildren(...cardContent(await api(`/counterparties/${id}/card`)));
  } catch (error) {
    box.replaceChildren(el("p", { class: "error" }, error.message));
  }
}

// ---- registering a number -----------------------------------------------------------------------

/** A form: add `number` to an existing card, to a new counterparty, or to a list with a reason. */
export function registerForm(number, onDone = () => {}) {
  const form = el("form", { class: "register" });
  const kind = el("select", { "aria-label": _("Where to register %(number)s", { number }) },
    el("option", { value: "counterparty" }, _("into an existing card")),
    el("option", { value: "new_counterparty" }, _("as a new client")),
    el("option", { value: "list" }, _("on a list, with a reason")));
  const target = el("input", {
    maxlength: 200, required: true, "aria-label": _("Client name, tax id or number"),
    placeholder: _("Client name, tax id or number"),
  });
  const lists = el("select", { "aria-label": _("List"), hidden: true },
    el("option", { value: "blacklist" }, _("Blacklist")),
    el("option", { value: "job_candidates" }, _("Job candidates")));
  const note = el("input", { maxlength: 500, "aria-label": _("Reason or note"), placeholder: _("Reason or note") });
  const submit = el("button", { type: "submit" }, _("Register"));
  const error = el("p", { class: "error", role: "alert" });
  kind.addEventListener("change", () => {
    const list = kind.value === "list";
    lists.hidden = !list;
    target.hidden = list;
    target.required = !list;
    target.placeholder = kind.value === "new_counterparty" ? _("New client's name") : _("Client name, tax id or number");
    target.setAttribute("aria-label", target.placeholder);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    try {
      const body = { number, target: kind.value, reason: note.value.trim() || null };
      if (kind.value === "list") {
        body.list = lists.value;
        if (!body.reason) throw new Error(_("Give a reason for the list."));
      } else if (kind.value === "new_counterparty") {
        body.name = target.value.trim();
      } else {
        const found = await api(`/counterparties${query({ q: target.value.trim(), limit: 2 })}`);
        if (found.items.length !== 1) {
          throw new Error(found.items.length ? _("Several clients match; be more precise.") : _("No client found."));
        }
        body.counterparty_id = found.items[0].id;
      }
      const result = await api("/numbers/register", { method: "POST", body });
      toast(_("%(number)s registered.", { number: result.e164 || number }));
      onDone(result);
    } catch (failure) {
      error.textContent = failure.message;
    } finally {
      submit.disabled = false;
    }
  });
  form.append(el("h3", {}, _("Register %(number)s", { number })), kind, target, lists, note, submit, error);
  return form;
}

// ---- screen pop ---------------------------------------------------------------------------------

/** A colleague's client ringing me (`card_scope` "caller"): what I need to answer, and no link to a card
 * the API would not show me. */
function callerContent(card) {
  const c = card.client;
  return [
    el("h3", { class: "client-name" }, c.name),
    el("p", { class: "muted" }, _("A colleague's client: what you need to answer the call.")),
    facts([[_("Status"), statusText(c.status)], [_("Manager"), c.manager_name]]),
    ...section(_("Open missed calls"), card.open_missed_calls, missedItem, _("None.")),
  ];
}

/** A `ringing` event for me: the caller's card at once, or a form to register an unknown number. */
export function screenPop(data) {
  const pop = $("pop");
  const close = el("button", { type: "button", class: "secondary", onclick: () => { pop.hidden = true; } },
    _("Hide"));
  const head = el("div", { class: "panel-head" },
    el("h2", {}, _("Incoming call from %(number)s", { number: data.caller })), close);
  const card = data.card && (data.card_scope === "caller" ? callerContent : cardContent);
  const body = card ? card(data.card)
    : [el("p", {}, _("This number is in no card.")), registerForm(data.caller, () => { pop.hidden = true; })];
  pop.replaceChildren(head, ...body);
  pop.hidden = false;
}

export function bindCard() {
  $("search-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = $("search-q").value.trim();
    const results = $("search-results");
    if (!q) return results.replaceChildren();
    try {
      const page = await api(`/counterparties${query({ q, limit: 20 })}`);
      results.replaceChildren(...(page.items.length ? page.items.map((c) => el("li", {},
        el("a", { href: `#/client/${c.id}` }, c.name),
        c.tax_id ? el("span", { class: "muted" }, ` · ${c.tax_id}`) : null))
        : [el("li", { class: "muted" }, _("No client found."))]));
    } catch (error) {
      results.replaceChildren(el("li", { class: "error" }, error.message));
    }
  });
}
