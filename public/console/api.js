// The console's HTTP client: JSON in and out, the staff_session cookie (httpOnly, set by the server) as the only credential, errors as ApiError.

const TIMEOUT_MS = 15_000;

/** A non-2xx answer (`status` 0 when the network failed); `code` and `body` come from `{error: {code, message}}`. */
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message || `HTTP ${status} ${code}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || '';
    this.body = body;
  }
}

let onUnauthorized = () => {};

/** Called when a staff route answers 401: the session expired or was ended elsewhere. */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

/**
 * Calls the API. The token is never read or kept by the page: the browser sends the httpOnly
 * cookie, so nothing secret sits in script-reachable storage.
 */
export async function api(method, path, body, opts = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  let res;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
    });
  } catch (error) {
    throw new ApiError(0, 'network', error instanceof Error ? error.message : String(error), null);
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const error = data && typeof data === 'object' && data.error && typeof data.error === 'object' ? data.error : {};
    const failure = new ApiError(res.status, typeof error.code === 'string' ? error.code : '', typeof error.message === 'string' ? error.message : '', data);
    if (res.status === 401 && !opts.quietUnauthorized) onUnauthorized();
    throw failure;
  }
  return data;
}

/** Path segment encoding for ids such as `web:<sessionId>`. */
export function seg(value) {
  return encodeURIComponent(String(value));
}
