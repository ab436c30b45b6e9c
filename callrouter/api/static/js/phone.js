// Call (click-to-call through the PBX) and "Write in WhatsApp", each labelled with whom it reaches.
import { api } from "./api.js";
import { el, toast } from "./dom.js";
import { _ } from "./i18n.js";

async function clickToCall(button, number, counterpartyId) {
  button.disabled = true;
  try {
    const queued = await api("/calls/click-to-call", {
      method: "POST", body: { number, counterparty_id: counterpartyId ?? undefined },
    });
    toast(_("Your phone is ringing. Pick up to be connected to %(number)s.", { number: queued.number }));
  } catch (error) {
    toast(error.message, true);
  } finally {
    setTimeout(() => { button.disabled = false; }, 5000); // one click, one call
  }
}

export function callActions(number, counterpartyId, who) {
  const call = el("button", { type: "button", "aria-label": _("Call %(who)s", { who }) }, _("Call"));
  call.addEventListener("click", () => clickToCall(call, number, counterpartyId));
  const digits = String(number).replace(/\D/g, "");
  const whatsapp = el("a", {
    class: "button wa", href: `https://wa.me/${digits}`, target: "_blank", rel: "noopener noreferrer",
    "aria-label": _("Write to %(who)s in WhatsApp", { who }),
  }, _("WhatsApp"));
  return [call, whatsapp];
}
