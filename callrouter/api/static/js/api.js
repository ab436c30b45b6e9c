// The JSON API: the access token from sessionStorage, errors as ApiFailure with the API's stable id.
import { _ } from "./i18n.js";

export const API = "/api/v1";
const TOKEN_KEY = "callrouter.access_token";
const ERRORS = {
  "pbx-unavailable": () => _("The phone system cannot be reached right now. Try again in a minute."),
  "pbx-refused": () => _("The phone system refused the call."),
  "no-dial-target": () => _("No phone is set up for you yet. Ask an administrator to set your dial target."),
  "invalid-phone-number": () => _("This is not a phone number that can be dialled."),
  "missed-call-closed": () => _("This missed call is already closed."),
  "invalid-credentials": () => _("Wrong login or password."),
  forbidden: () => _("You are not allowed to do this."),
};
let onUnauthorized = () => {};

export class ApiFailure extends Error {
  constructor(status, body) {
    const id = (body && body.error) || `http-${status}`;
    super(ERRORS[id] ? ERRORS[id]() : _("Something went wrong (%(id)s).", { id }));
    this.status = status;
    this.errorId = id;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  const bearer = token.get();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  // the routing dry-run lives outside the versioned API, at /routing/dry-run
  const response = await fetch(path.startsWith("/routing/") ? path : API + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.status === 401 && path !== "/auth/login") onUnauthorized();
  if (!response.ok) throw new ApiFailure(response.status, data);
  return data;
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(key, String(value));
  }
  return `?${search}`;
}
