// The workspace: login, views by hash (deep links like #/missed/24 or #/client/22 open after login),
// the live stream, and logout that leaves nothing behind.
import { api, token, whenUnauthorized } from "./api.js";
import { bindCard, openCard, screenPop } from "./card.js";
import { $, toast } from "./dom.js";
import { bindExplain } from "./explain.js";
import { _, LANG } from "./i18n.js";
import { alertUser, alertsOn, connect, disconnect, setAlerts } from "./live.js";
import { bindMissed, loadList, missedState, onMissedEvent, openResolveById, tick } from "./missed.js";
import { bindNotes, loadNotifications, onNotificationEvent } from "./notes.js";
import { loadNumbers } from "./numbers.js";
import { bindSupervisor, loadStats } from "./supervisor.js";

const LANGUAGE_COOKIE = "callrouter_lang";
// The view a role opens on: supervisors their team, reception the shared queue of unknown numbers.
const HOME = { controller: "team", director: "team", admin: "team", reception: "unknown" };
const VIEWS = ["missed", "team", "unknown", "numbers", "notifications", "explain"];
const LOADERS = {
  missed: () => loadList("missed"),
  team: () => Promise.all([loadList("team"), loadStats()]),
  unknown: () => loadList("unknown"),
  numbers: () => loadNumbers(),
  notifications: () => loadNotifications(),
  explain: () => null,
};
let me = null;
let ticker = null;

function setCookie(language) {
  document.cookie = `${LANGUAGE_COOKIE}=${language}; path=/; max-age=31536000; samesite=strict`;
}

/** Forget the user: token, language cookie and everything drawn; the page reloads empty. */
function logout() {
  token.clear();
  disconnect();
  document.cookie = `${LANGUAGE_COOKIE}=; path=/; max-age=0`;
  document.body.replaceChildren();
  location.reload();
}

function allowed(view) {
  const roles = document.querySelector(`[data-view="${view}"]`)?.dataset.roles;
  return !roles || roles.split(" ").includes(me.role);
}

/** Show the view the hash names: #/missed, #/team, #/missed/24, #/client/22... */
async function route() {
  if (!me) return;
  const [, name = "", id] = location.hash.split("/");
  let view = VIEWS.includes(name) && allowed(name) ? name : HOME[me.role] || "missed";
  if (name === "client" || (name === "missed" && id)) view = "missed";
  for (const v of VIEWS) $(`view-${v}`).hidden = v !== view;
  for (const link of document.querySelectorAll(".tabs a")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  await LOADERS[view]();
  if (name === "client" && id) await openCard(Number(id));
  if (name === "missed" && id) await openResolveById(Number(id)).catch((error) => toast(error.message, true));
}

async function whoAmI() {
  try {
    return await api("/me");
  } catch (error) {
    if (error.status === 404 || error.status === 405) return api("/auth/me");
    throw error;
  }
}

async function start() {
  if (!token.get()) {
    $("login-view").hidden = false;
    return;
  }
  try {
    me = await whoAmI();
  } catch (error) {
    if (error.status === 401) token.clear();
    else $("login-error").textContent = error.message;
    $("login-view").hidden = false;
    return;
  }
  if (me.language && me.language !== LANG) {
    setCookie(me.language);
    location.reload();
    return;
  }
  me.id = me.manager_id ?? me.id;
  missedState.me = me;
  missedState.openCard = (id) => { location.hash = `#/client/${id}`; };
  $("me-name").textContent = me.name;
  $("language").value = LANG;
  $("sound").checked = alertsOn();
  for (const link of document.querySelectorAll("[data-roles]")) link.hidden = !allowed(link.dataset.view);
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  $("whoami").hidden = false;
  connect({
    "missed-call": (data) => {
      const missed = onMissedEvent(data);
      if (data.action === "opened" && missed.assigned_manager_id === me.id) {
        alertUser(_("Missed call"), missed.counterparty_name || missed.caller_number);
      }
    },
    notification: (data) => {
      onNotificationEvent(data);
      if (data.notification) alertUser(data.notification.title, data.notification.body);
    },
    "notifications-read": (data) => onNotificationEvent(data),
    ringing: (data) => screenPop(data),
    resync: () => Promise.all([...missedState.loaded].map((view) => loadList(view)).concat(loadNotifications())),
    "token-expired": () => logout(),
  });
  ticker = setInterval(tick, 5000);
  await Promise.all([route(), loadNotifications(), $("view-missed").hidden ? loadList("missed") : null]);
}

async function login(event) {
  event.preventDefault();
  const form = event.target;
  $("login-error").textContent = "";
  try {
    const issued = await api("/auth/login", {
      method: "POST", body: { login: form.login.value.trim(), password: form.password.value },
    });
    token.set(issued.access_token);
    form.password.value = "";
    await start();
  } catch (error) {
    $("login-error").textContent = error.message;
  }
}

async function changeLanguage() {
  const language = $("language").value;
  try {
    await api("/me", { method: "PATCH", body: { language } });
  } catch (error) {
    toast(error.message, true);
  }
  setCookie(language);
  location.reload();
}

document.addEventListener("DOMContentLoaded", () => {
  whenUnauthorized(() => { if (me) logout(); });
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("language").addEventListener("change", changeLanguage);
  $("sound").addEventListener("change", (event) => setAlerts(event.target.checked));
  window.addEventListener("hashchange", route);
  bindMissed();
  bindCard();
  bindNotes();
  bindSupervisor();
  bindExplain();
  start();
});

window.addEventListener("pagehide", () => { clearInterval(ticker); disconnect(); });
