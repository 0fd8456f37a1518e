// The console's HTTP client: the shared one (../shared/api.js) with the console's time limit.
import { createApiClient } from '../shared/api.js';

export { ApiError } from '../shared/api.js';

const client = createApiClient({ timeoutMs: 15_000 });
export const api = client.api;
export const setUnauthorizedHandler = client.setUnauthorizedHandler;

/** Path segment encoding for ids such as `web:<sessionId>`. */
export function seg(value) {
  return encodeURIComponent(String(value));
}
