/** Managers change the library safely while the bot is live: draft, check, diff, publish, roll back, audit. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBot, type TestBot } from './support/bot.ts';
import { talk } from './support/transcript.ts';
import { describeRedis, uniqueKeyPrefix } from './support/redis.ts';
import { createRedisStore } from '../src/store/redis.ts';

const env = { ADMIN_USER: 'admin', ADMIN_PASSWORD: 'admin-pass-123' };

async function call(base: string, method: string, path: string, token: string, body?: unknown, contentType = 'application/json') {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': contentType, authorization: `Bearer ${token}` },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

async function login(base: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  return ((await res.json()) as { token: string }).token;
}

const NEW_ANSWER = { question: '包邮吗？', answer: '全场满59元包邮（新规）。\n---en---\nFree shipping over ¥59 (new rule).', alternates: ['运费多少', '免运费吗', '要运费吗'], tags: ['运费'] };

describe('library management (memory store)', () => {
  let t: TestBot;
  let admin: string;
  beforeAll(async () => {
    t = await startTestBot({ env });
    admin = await login(t.url, 'admin', 'admin-pass-123');
  });
  afterAll(async () => { await t.close(); });

  it('is for managers only', async () => {
    await call(t.url, 'POST', '/api/staff', admin, { username: 'wang', password: 'wang-pass-123', role: 'agent' });
    const agent = await login(t.url, 'wang', 'wang-pass-123');
    expect((await call(t.url, 'GET', '/api/library', agent)).status).toBe(403);
    expect((await call(t.url, 'POST', '/api/library/publish', agent, { comment: 'x' })).status).toBe(403);
  });

  it('starts from the shipped library as version 1', async () => {
    const live = await call(t.url, 'GET', '/api/library', admin);
    expect(live.body).toMatchObject({ version: 1, publishedBy: 'system', content: { files: expect.objectContaining({ 'faq.csv': expect.any(String) }) } });
  });

  it('a forbidden phrase fails the check and blocks publishing; fixed, it publishes and the bot answers with the new text; rollback brings the old one back', async () => {
    const before = await talk(t.url).user('你们包邮吗').expectReply(/包邮/);
    void before;
    const bad = await call(t.url, 'PUT', '/api/library/draft/faq/free_shipping', admin, { ...NEW_ANSWER, answer: '满59包邮，有意见打投诉电话吧' });
    expect(bad.status).toBe(200);
    const check = await call(t.url, 'POST', '/api/library/draft/check', admin);
    expect(check.body.ok).toBe(false);
    expect(check.body.problems).toContainEqual({ where: 'faq free_shipping answer', message: 'contains the forbidden phrase "有意见打投诉电话吧"' });
    const refused = await call(t.url, 'POST', '/api/library/publish', admin, { comment: '运费新规' });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ error: { code: 'check_failed' } });

    expect((await call(t.url, 'PUT', '/api/library/draft/faq/free_shipping', admin, NEW_ANSWER)).status).toBe(200);
    expect((await call(t.url, 'POST', '/api/library/draft/check', admin)).body).toEqual({ ok: true, problems: [] });
    const diff = await call(t.url, 'GET', '/api/library/draft/diff', admin);
    const changed = (diff.body.files as { name: string; status: string; hunks: { lines: string[] }[] }[]);
    expect(changed.map((f) => `${f.name}:${f.status}`)).toEqual(['faq.csv:changed']);
    expect(changed[0]!.hunks.flatMap((h) => h.lines).some((l) => l.startsWith('+') && l.includes('59元'))).toBe(true);

    const published = await call(t.url, 'POST', '/api/library/publish', admin, { comment: '运费新规' });
    expect(published.body).toMatchObject({ version: 2, publishedBy: 'admin', comment: '运费新规' });
    await expect.poll(async () => {
      const res = await fetch(`${t.url}/api/webchat/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: `s-poll-${Date.now()}`, text: '你们包邮吗' }) });
      return ((await res.json()) as { replies: { text: string }[] }).replies[0]?.text;
    }).toMatch(/59元/);

    const rolledBack = await call(t.url, 'POST', '/api/library/rollback', admin, { version: 1 });
    expect(rolledBack.body).toMatchObject({ version: 1 });
    await talk(t.url).user('你们包邮吗').expectReply(/99元/);
    const versions = await call(t.url, 'GET', '/api/library/versions', admin);
    expect(versions.body).toMatchObject({ live: 1, versions: [expect.objectContaining({ version: 2 }), expect.objectContaining({ version: 1 })] });
    const audit = (await call(t.url, 'GET', '/api/library/audit', admin)).body.audit as { action: string; by: string }[];
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['seeded', 'edited', 'checked', 'published', 'rolled_back']));
    expect(audit.find((a) => a.action === 'published')?.by).toBe('admin');
  });

  it('refuses a malformed flow with its line and reason, and keeps the draft', async () => {
    const before = (await call(t.url, 'GET', '/api/library/draft', admin)).body.revision;
    const res = await call(t.url, 'PUT', '/api/library/draft/flows/promo', admin, 'id: promo\ntitle: { zh: 活动, en: Promotions }\nsteps:\n  - id: a\n    type: say\n    text: { zh: 你好 }\n', 'text/yaml');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'invalid_part', problems: [{ where: 'flows/promo.yaml:6 steps[0].text.en', message: expect.any(String) }] } });
    expect((await call(t.url, 'GET', '/api/library/draft', admin)).body.revision).toBe(before);
  });

  it('imports an FAQ CSV, and turns an agent\'s suggestion into an entry', async () => {
    const csv = 'id,question,answer,alternates,tags\nimported_entry_check,可以送货上楼吗？,可以，快递员会送货上门。,送上楼吗|能送到家吗,配送\n';
    expect((await call(t.url, 'POST', '/api/library/draft/faq-import', admin, csv, 'text/csv')).body).toEqual({ added: 1, replaced: 0 });
    const badCsv = await call(t.url, 'POST', '/api/library/draft/faq-import', admin, 'id,question,answer,alternates,tags\nx,,no question,,\n', 'text/csv');
    expect(badCsv.status).toBe(400);
    await t.bot.store.docs.put('faq_suggestions', 'S1', { question: '周末送货吗', answer: '周末正常配送', ticketId: 'T0000000000', by: 'wang', at: new Date().toISOString(), status: 'new' }, 0);
    const accepted = await call(t.url, 'POST', '/api/library/suggestions/S1/accept', admin, { entryId: 'weekend_delivery', question: '周末送货吗？', answer: '周末正常配送。', alternates: ['周六日发货吗'] });
    expect(accepted.status).toBe(200);
    const draft = (await call(t.url, 'GET', '/api/library/draft', admin)).body as { files: Record<string, string> };
    expect(draft.files['faq.csv']).toMatch(/imported_entry_check/);
    expect(draft.files['faq.csv']).toMatch(/weekend_delivery/);
    expect((await t.bot.store.docs.get('faq_suggestions', 'S1'))?.doc.status).toBe('accepted');
  });
});

describeRedis('library: every process follows a publish', (server) => {
  it('a publish in one process reaches the other within seconds, without a restart', async () => {
    const keyPrefix = uniqueKeyPrefix('library');
    const a = await startTestBot({ env, store: await createRedisStore(server().url, { keyPrefix }) });
    const b = await startTestBot({ env, store: await createRedisStore(server().url, { keyPrefix }) });
    try {
      const admin = await login(a.url, 'admin', 'admin-pass-123');
      await call(a.url, 'PUT', '/api/library/draft/faq/free_shipping', admin, NEW_ANSWER);
      expect((await call(a.url, 'POST', '/api/library/publish', admin, { comment: '运费新规' })).status).toBe(200);
      await expect.poll(async () => {
        const res = await fetch(`${b.url}/api/webchat/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: `s-b-${Date.now()}`, text: '你们包邮吗' }) });
        return ((await res.json()) as { replies: { text: string }[] }).replies[0]?.text;
      // The other process compiles the published version first (about 3 s here, more on a busy CI machine).
      }, { timeout: 20_000, interval: 250 }).toMatch(/59元/);
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);
});

describe('stories against the draft', () => {
  it('runs the library\'s stories on the draft, in a sandbox, and says which failed', async () => {
    const t = await startTestBot({ env });
    try {
      const admin = await login(t.url, 'admin', 'admin-pass-123');
      const before = await t.bot.shop.order('E20261030001');
      const ok = await call(t.url, 'POST', '/api/library/draft/test', admin);
      expect(ok.status).toBe(200);
      expect(ok.body.failed).toBe(0);
      expect(Number(ok.body.passed)).toBeGreaterThanOrEqual(60);
      // A draft that words the closing question differently breaks the stories that expect it.
      expect((await call(t.url, 'PUT', '/api/library/draft/replies/anythingElse', admin, { zh: '还需要别的吗？', en: 'Need anything more?' })).status).toBe(200);
      const broken = await call(t.url, 'POST', '/api/library/draft/test', admin);
      expect(Number(broken.body.failed)).toBeGreaterThanOrEqual(1);
      // The sandbox changed no real order.
      expect(await t.bot.shop.order('E20261030001')).toEqual(before);
    } finally {
      await t.close();
    }
  }, 60_000);
});
