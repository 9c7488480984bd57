// Calls the server as the signed-in person: the session cookie (which the page never sees)
// goes by itself; every change also carries the session's CSRF token. An error answer becomes an
// ApiError with the server's code, which the page shows translated.
export const session = { csrf: "", me: null };

/** An error answer of the server: its code (`illegal_transition`…) and English message. */
export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/** Calls `url`; resolves with the JSON answer, rejects with an ApiError. */
export async function call(method, url, body) {
  const headers = body === undefined ? {} : { "Content-Type": "application/json" };
  if (method !== "GET" && session.csrf) headers["X-CSRF-Token"] = session.csrf;
  let res;
  try {
    res = await fetch(url, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError("network", "the server cannot be reached", 0);
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    throw new ApiError(data?.error?.code || String(res.status), data?.error?.message || "", res.status);
  }
  return data;
}

/** A query string of the non-empty entries of `params`. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}
