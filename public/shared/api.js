// The consoles' HTTP client: JSON in and out, the httpOnly staff_session cookie (set by the server) as the only credential, errors as ApiError.

/** A non-2xx answer (`status` 0 when the network failed); `code`, `message` and `problems` come from `{error: {...}}`. */
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message || `HTTP ${status} ${code}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || '';
    this.body = body;
    const problems = body && body.error && Array.isArray(body.error.problems) ? body.error.problems : [];
    this.problems = problems.filter((p) => p && typeof p.where === 'string' && typeof p.message === 'string');
  }
}

/**
 * A client for one console. The token is never read or kept by the page: the browser sends the
 * httpOnly cookie, so nothing secret sits in script-reachable storage.
 */
export function createApiClient({ timeoutMs }) {
  let onUnauthorized = () => {};
  return {
    /** Called when a staff route answers 401: the session expired or was ended elsewhere. */
    setUnauthorizedHandler(handler) {
      onUnauthorized = handler;
    },

    /** Calls the API; `body` is sent as JSON, or as it is with `opts.contentType` (YAML flows, CSV uploads). */
    async api(method, path, body, opts = {}) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      const headers = { accept: 'application/json' };
      let payload;
      if (body !== undefined) {
        headers['content-type'] = opts.contentType || 'application/json';
        payload = opts.contentType ? body : JSON.stringify(body);
      }
      let res;
      try {
        res = await fetch(path, { method, credentials: 'same-origin', cache: 'no-store', headers, body: payload, signal: controller.signal });
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
    },
  };
}
