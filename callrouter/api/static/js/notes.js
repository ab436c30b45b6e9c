// In-app notifications: deep links into the workspace, an unread counter, mark one or all read.
import { api, query } from "./api.js";
import { $, el, toast } from "./dom.js";
import { _, when } from "./i18n.js";

function link(note) {
  if (note.link) return note.link.replace(/^.*\/workspace/, "");
  return note.missed_call_id ? `#/missed/${note.missed_call_id}` : null;
}

function setUnread(count) {
  $("unread-count").textContent = count ? String(count) : "";
  $("unread-count").setAttribute("aria-label", count ? _("%(num)s unread", { num: count }) : "");
}

function item(note) {
  const href = link(note);
  const read = note.read ? null : el("button", {
    type: "button", class: "secondary", "aria-label": _("Mark “%(title)s” read", { title: note.title }),
    onclick: async () => {
      try {
        await api(`/notifications/${note.id}/read`, { method: "POST" });
        await loadNotifications();
      } catch (error) {
        toast(error.message, true);
      }
    },
  }, _("Mark read"));
  return el("li", { class: note.read ? "read" : "unread" },
    el("span", { class: "muted" }, when(note.created_at)), " ",
    href ? el("a", { href }, note.title) : el("strong", {}, note.title), el("br"), note.body, " ", read);
}

export async function loadNotifications() {
  const list = $("notes-list");
  try {
    const notes = await api(`/notifications${query({ limit: 50 })}`);
    const items = Array.isArray(notes) ? notes : notes.items;
    const unread = Array.isArray(notes) ? items.filter((n) => !n.read).length : notes.unread;
    setUnread(unread);
    list.replaceChildren(...(items.length ? items.map(item)
      : [el("li", { class: "muted" }, _("No notifications."))]));
  } catch (error) {
    list.replaceChildren(el("li", { class: "error" }, error.message));
  }
}

/** A `notification` event: the counter at once, the list refreshed. */
export function onNotificationEvent(data) {
  if (typeof data.unread === "number") setUnread(data.unread);
  loadNotifications();
}

export function bindNotes() {
  $("read-all").addEventListener("click", async () => {
    try {
      await api("/notifications/read-all", { method: "POST" });
      await loadNotifications();
    } catch (error) {
      toast(error.message, true);
    }
  });
}
