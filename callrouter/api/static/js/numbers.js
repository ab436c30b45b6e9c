// "Numbers to register": this month's numbers that belong to no card, each with a one-click register form.
import { api, query } from "./api.js";
import { $, el } from "./dom.js";
import { _, companyDate, ngettext } from "./i18n.js";
import { registerForm } from "./card.js";

export async function loadNumbers() {
  const list = $("numbers-list");
  list.replaceChildren(el("li", { class: "muted" }, _("Loading…")));
  try {
    const report = await api(`/reports/unregistered-numbers${query({ scope: "mine", month: companyDate(0).slice(0, 7) })}`);
    const numbers = (report.managers || []).flatMap((m) => m.numbers);
    list.replaceChildren(...(numbers.length ? numbers.map((n) => {
      const item = el("li", { class: "capture" },
        el("strong", { class: "number" }, n.number), " ",
        el("span", { class: "muted" }, ngettext("%(num)d call", "%(num)d calls", n.calls.length)));
      item.append(registerForm(n.number, () => item.remove()));
      return item;
    }) : [el("li", { class: "muted" }, _("Every number is registered."))]));
  } catch (error) {
    list.replaceChildren(el("li", { class: "error" }, error.message));
  }
}
