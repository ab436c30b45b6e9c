// The live stream: `GET /api/v1/events` as Server-Sent Events (the token as `access_token`, since an
// EventSource cannot send headers); the browser reconnects by itself and sends Last-Event-ID.
import { API, token } from "./api.js";
import { _ } from "./i18n.js";

let source = null;

export function connect(handlers) {
  disconnect();
  const bearer = token.get();
  if (!bearer) return;
  source = new EventSource(`${API}/events?access_token=${encodeURIComponent(bearer)}`);
  for (const [name, handler] of Object.entries(handlers)) {
    source.addEventListener(name, (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      handler(data);
    });
  }
  source.addEventListener("open", () => { document.body.dataset.live = "on"; });
  source.addEventListener("error", () => { document.body.dataset.live = "off"; });
}

export function disconnect() {
  if (source) source.close();
  source = null;
  delete document.body.dataset.live;
}

// ---- optional sound and desktop notification ---------------------------------------------------

const SOUND_KEY = "callrouter.sound";

export function alertsOn() {
  return localStorage.getItem(SOUND_KEY) === "on";
}

export function setAlerts(on) {
  localStorage.setItem(SOUND_KEY, on ? "on" : "off");
  if (on && "Notification" in window && Notification.permission === "default") Notification.requestPermission();
}

function beep() {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.value = 0.08;
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.25);
  } catch {
    // no audio device: the visual update is enough
  }
}

export function alertUser(title, body) {
  if (!alertsOn()) return;
  beep();
  if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
    new Notification(title || _("callrouter"), { body, icon: "/workspace/static/favicon.svg" });
  }
}
