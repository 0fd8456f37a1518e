/**
 * Every HTTP route fed malformed, oversized and hostile input: clear 4xx answers in the JSON error
 * shape, never a 5xx, and nothing stored half-way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBot, type TestBot } from './support/bot.ts';

/** A small seeded generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE_STRINGS = [
  '', ' ', '\u0000\u0001\u0007\u001b[31m', '😀'.repeat(500), '<script>alert(1)</script>', '"><img src=x onerror=alert(1)>',
  '{{constructor.constructor("return process")()}}', '../../etc/passwd', '%00%2e%2e%2f', 'a'.repeat(5000), '\ud800', 'DROP TABLE orders;--',
  '__proto__', 'constructor', '\u202eevil', '人工'.repeat(1000), 'E20261029001'.repeat(50),
];

function deeplyNested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

function hostileBodies(random: () => number): string[] {
  const pick = (): string => HOSTILE_STRINGS[Math.floor(random() * HOSTILE_STRINGS.length)]!;
  const values: unknown[] = [null, 0, -1, 1e308, true, [], {}, [pick()], { a: pick() }, pick(), Number.MAX_SAFE_INTEGER];
  const value = (): unknown => values[Math.floor(random() * values.length)];
  return [
    '', '{', '{"a":', 'null', '[]', '"text"', '123', deeplyNested(5000), `{"text":"${'x'.repeat(70_000)}"}`,
    JSON.stringify({ __proto__: { admin: true }, constructor: { prototype: { admin: true } } }),
    ...Array.from({ length: 12 }, () => JSON.stringify({
      sessionId: random() < 0.5 ? pick() : 'abcdefgh12', text: value(), messageId: value(), username: pick(), password: value(),
      role: random() < 0.5 ? 'manager' : pick(), note: value(), question: value(), answer: value(), comment: value(), version: value(), csv: value(),
      [pick()]: value(),
    })),
  ];
}

let t: TestBot;
let manager: string;
beforeAll(async () => {
  t = await startTestBot({ env: { ADMIN_USER: 'admin', ADMIN_PASSWORD: 'admin-pass-123' } });
  const res = await fetch(`${t.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'admin-pass-123' }) });
  manager = ((await res.json()) as { token: string }).token;
});
afterAll(async () => { await t?.close(); });

const ROUTES: [string, string][] = [
  ['POST', '/api/webchat/messages'], ['GET', '/api/webchat/history?sessionId=%3Cscript%3E'], ['GET', '/api/webchat/events?sessionId=..%2F..'],
  ['POST', '/api/auth/login'], ['POST', '/api/staff'], ['GET', '/api/orders/%3Cscript%3E'], ['GET', '/api/conversations/..%2Fetc'],
  ['GET', '/api/handover/tickets?status=%00'], ['POST', '/api/handover/tickets/T0000000000/claim'], ['POST', '/api/handover/tickets/T0000000000/reply'],
  ['POST', '/api/handover/tickets/%3Cx%3E/note'], ['POST', '/api/handover/tickets/T0000000000/handover'], ['POST', '/api/handover/tickets/T0000000000/faq-suggestion'],
  ['POST', '/api/handover/check-reply'], ['POST', '/api/handover/shift/end'],
  ['PUT', '/api/library/draft/faq/%3Cscript%3E'], ['PUT', '/api/library/draft/flows/x'], ['PUT', '/api/library/draft/policy/__proto__'],
  ['PUT', '/api/library/draft/shifts/night'], ['PUT', '/api/library/draft/bogus/x'], ['DELETE', '/api/library/draft/faq/nope'],
  ['POST', '/api/library/draft/faq-import'], ['POST', '/api/library/publish'], ['POST', '/api/library/rollback'], ['GET', '/api/library/versions/abc'],
];

describe('fuzzed HTTP input', () => {
  it('answers every hostile request with a clear 4xx (or a normal 2xx), never a 5xx, always in the JSON error shape', async () => {
    const random = rng(20261122);
    const staffBefore = await t.bot.auth.listStaff();
    const libraryBefore = await t.bot.store.docs.get('library', 'live');
    for (const [method, path] of ROUTES) {
      for (const body of hostileBodies(random)) {
        for (const type of ['application/json', 'text/plain']) {
          const res = await fetch(`${t.url}${path}`, {
            method,
            headers: { 'content-type': type, authorization: `Bearer ${manager}` },
            ...(method === 'GET' ? {} : { body }),
            signal: AbortSignal.timeout(5000),
          }).catch((error: unknown) => error as Error);
          if (res instanceof Error) throw new Error(`${method} ${path} ${body.slice(0, 60)}: ${res.message}`);
          const label = `${method} ${path} [${type}] ${body.slice(0, 80)} → ${res.status}`;
          if (path.includes('/events') && res.status === 200) { await res.body?.cancel(); continue; }
          expect(res.status, label).toBeLessThan(500);
          const text = await res.text();
          if (res.status >= 400) {
            const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
            expect(typeof parsed.error?.code, label).toBe('string');
            expect(typeof parsed.error?.message, label).toBe('string');
            expect(text, label).not.toMatch(/at \w+ \(|node_modules|\.ts:\d+/); // never a stack trace
          }
        }
      }
    }
    // Nothing stored half-way: no account appeared from hostile bodies, the live library is as it was.
    expect(await t.bot.auth.listStaff()).toEqual(staffBefore);
    expect(await t.bot.store.docs.get('library', 'live')).toEqual(libraryBefore);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  }, 120_000);

  it('stores hostile names as plain text and serves them as JSON data', async () => {
    const res = await fetch(`${t.url}/api/staff`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${manager}` },
      body: JSON.stringify({ username: 'xss_test', password: 'xss-pass-123', role: 'agent', displayName: '<img src=x onerror=alert(1)>' }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const staff = await t.bot.auth.listStaff();
    expect(staff.find((s) => s.username === 'xss_test')?.displayName).toBe('<img src=x onerror=alert(1)>');
  });
});
