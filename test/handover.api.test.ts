/** The shift-handover table through its HTTP API, on the memory store and on a real redis-server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startTestBot, type TestBot } from './support/bot.ts';
import { talk } from './support/transcript.ts';
import { describeRedis, uniqueKeyPrefix } from './support/redis.ts';
import { createRedisStore } from '../src/store/redis.ts';
import type { Ticket } from '../src/handover/ticket.ts';

interface Api {
  get(path: string, token?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  post(path: string, body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }>;
}

function api(base: string): Api {
  const call = async (method: string, path: string, body: unknown, token?: string) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json() as Record<string, unknown> };
  };
  return { get: (p, t) => call('GET', p, undefined, t), post: (p, b, t) => call('POST', p, b, t) };
}

function handoverContract(makeBot: (now: () => Date) => Promise<TestBot>): void {
  let t: TestBot;
  let http: Api;
  let manager: string;
  let wang: string;
  let li: string;
  let offset = 0;

  beforeAll(async () => {
    t = await makeBot(() => new Date(Date.now() + offset));
    http = api(t.url);
    manager = String((await http.post('/api/auth/login', { username: 'admin', password: 'admin-pass-123' })).body.token);
    for (const username of ['wang', 'lina']) {
      const created = await http.post('/api/staff', { username, password: `${username}-pass-123`, role: 'agent', displayName: username === 'wang' ? '小王' : '小李' }, manager);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
    }
    wang = String((await http.post('/api/auth/login', { username: 'wang', password: 'wang-pass-123' })).body.token);
    li = String((await http.post('/api/auth/login', { username: 'lina', password: 'lina-pass-123' })).body.token);
  });
  afterAll(async () => { await t?.close(); });

  /** A web customer asks for a person; returns the session and the ticket it opened. */
  async function escalated(lines: string[] = ['查订单', 'E20261029001']): Promise<{ sessionId: string; ticket: Ticket }> {
    const chat = talk(t.url);
    for (const line of lines) chat.user(line);
    await chat.user('转人工').expectReply(/人工客服/);
    const { body } = await http.get('/api/handover/tickets?status=open', wang);
    const ticket = (body.tickets as Ticket[]).find((x) => x.conversationId === `web:${chat.sessionId}`);
    expect(ticket, 'a ticket for the conversation').toBeDefined();
    return { sessionId: chat.sessionId, ticket: ticket! };
  }

  async function transcript(sessionId: string): Promise<{ from: string; text: string }[]> {
    return (await http.get(`/api/conversations/web:${sessionId}`, wang)).body.transcript as { from: string; text: string }[];
  }

  describe('login and roles', () => {
    it('refuses wrong passwords, then limits attempts', async () => {
      const username = 'lina';
      for (let i = 0; i < 5; i++) expect((await http.post('/api/auth/login', { username, password: 'wrong-password' })).status).toBe(401);
      const blocked = await http.post('/api/auth/login', { username, password: 'lina-pass-123' });
      expect(blocked.status).toBe(429);
      expect(blocked.body).toMatchObject({ error: { code: 'too_many_attempts' } });
    });

    it('sets an httpOnly cookie and knows who you are', async () => {
      const res = await fetch(`${t.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'wang', password: 'wang-pass-123' }) });
      expect(res.headers.get('set-cookie')).toMatch(/staff_session=.+; Path=\/; HttpOnly; SameSite=Strict/);
      const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
      const me = await fetch(`${t.url}/api/auth/me`, { headers: { cookie } });
      expect(await me.json()).toEqual({ username: 'wang', role: 'agent', displayName: '小王' });
    });

    it('logout ends the session in every process: the token is refused afterwards', async () => {
      const token = String((await http.post('/api/auth/login', { username: 'wang', password: 'wang-pass-123' })).body.token);
      expect((await http.get('/api/auth/me', token)).status).toBe(200);
      expect((await http.post('/api/auth/logout', {}, token)).status).toBe(200);
      expect((await http.get('/api/auth/me', token)).status).toBe(401);
      expect((await http.get('/api/auth/me', wang)).status).toBe(200);
    });

    it('needs a login, and staff accounts are for managers only', async () => {
      expect((await http.get('/api/handover/tickets')).status).toBe(401);
      expect((await http.get('/api/handover/tickets', 'forged.token')).status).toBe(401);
      expect((await http.post('/api/staff', { username: 'zhao', password: 'zhao-pass-123', role: 'manager' }, wang)).status).toBe(403);
      expect((await http.get('/api/staff', wang)).status).toBe(403);
      const staff = (await http.get('/api/staff', manager)).body.staff as { username: string; role: string }[];
      expect(staff.map((s) => `${s.username}:${s.role}`)).toEqual(['admin:manager', 'lina:agent', 'wang:agent']);
      expect(JSON.stringify(staff)).not.toMatch(/scrypt|passwordHash/);
      expect((await http.post('/api/staff', { username: 'wang', password: 'another-pass', role: 'agent' }, manager)).status).toBe(409);
    });
  });

  describe('tickets', () => {
    it('a handoff opens a ticket with the story so far, due within the SLA', async () => {
      const { ticket } = await escalated();
      expect(ticket).toMatchObject({ reason: 'customer_request', priority: 'normal', status: 'open', kind: 'handoff', channel: 'web', assignee: null });
      expect(ticket.summary).toMatch(/客户要求人工/);
      expect(ticket.summary).toMatch(/orderId=E20261029001/);
      expect(ticket.context).toMatchObject({ intent: expect.any(String), orderId: 'E20261029001' });
      expect(Date.parse(ticket.dueAt) - Date.parse(ticket.createdAt)).toBe(5 * 60_000);
      expect(['day', 'night']).toContain(ticket.shift);
      const detail = await http.get(`/api/handover/tickets/${ticket.id}`, li);
      expect(detail.body.id).toBe(ticket.id);
    });

    it('two agents claiming at once: one wins, the other gets 409', async () => {
      const { ticket } = await escalated(['在吗']);
      const [a, b] = await Promise.all([http.post(`/api/handover/tickets/${ticket.id}/claim`, {}, wang), http.post(`/api/handover/tickets/${ticket.id}/claim`, {}, li)]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const loser = a.status === 409 ? a : b;
      expect(loser.body).toMatchObject({ error: { code: 'already_claimed' } });
    });

    it('the claimant replies and the customer gets it; others may not; forbidden phrases are refused', async () => {
      const { sessionId, ticket } = await escalated(['在吗']);
      expect((await http.post(`/api/handover/tickets/${ticket.id}/reply`, { text: '您好' }, wang)).status).toBe(409);
      await http.post(`/api/handover/tickets/${ticket.id}/claim`, {}, wang);
      const refused = await http.post(`/api/handover/tickets/${ticket.id}/reply`, { text: '这个不关我的事' }, wang);
      expect(refused.status).toBe(422);
      expect(refused.body).toMatchObject({ error: { code: 'forbidden_phrase', phrases: ['不关我的事'] } });
      expect((await http.post('/api/handover/check-reply', { text: '我现在很忙，你等会再打来' }, wang)).body).toMatchObject({ ok: false });
      expect((await http.post(`/api/handover/tickets/${ticket.id}/reply`, { text: '您好，我是客服小王' }, li)).status).toBe(409);
      const sent = await http.post(`/api/handover/tickets/${ticket.id}/reply`, { text: '您好，我是客服{{agent}}，请问有什么可以帮您？' }, wang);
      expect(sent.status).toBe(200);
      expect((sent.body.ticket as Ticket).firstResponseAt).not.toBeNull();
      await expect.poll(async () => (await transcript(sessionId)).map((l) => `${l.from}:${l.text}`)).toContain('agent:您好，我是客服小王，请问有什么可以帮您？');
      expect((await transcript(sessionId)).map((l) => l.text)).not.toContain('这个不关我的事');
    });

    it('while a person has it, the customer\'s messages reach the console live and the bot stays quiet', async () => {
      const { sessionId } = await escalated(['在吗']);
      const controller = new AbortController();
      const res = await fetch(`${t.url}/api/handover/events`, { headers: { authorization: `Bearer ${wang}` }, signal: controller.signal });
      const reader = res.body!.getReader();
      await reader.read();
      await talk(t.url, sessionId).user('我的衣服破了个洞').expectReply(/客服已经收到/);
      let received = '';
      while (!received.includes('我的衣服破了个洞')) received += new TextDecoder().decode((await reader.read()).value);
      controller.abort();
      expect(received).toContain(`"conversationId":"web:${sessionId}"`);
      const conversation = await http.get(`/api/conversations/web:${sessionId}`, wang);
      expect(conversation.body).toMatchObject({ id: `web:${sessionId}`, channel: 'web', mode: 'human' });
    });

    it('resolve: the customer is asked for satisfaction (回访), the score lands on the ticket, the bot is back', async () => {
      const { sessionId, ticket } = await escalated(['在吗']);
      await http.post(`/api/handover/tickets/${ticket.id}/claim`, {}, li);
      expect((await http.post(`/api/handover/tickets/${ticket.id}/resolve`, {}, wang)).status).toBe(409);
      const resolved = await http.post(`/api/handover/tickets/${ticket.id}/resolve`, {}, li);
      expect(resolved.body).toMatchObject({ status: 'resolved', assignee: 'lina' });
      await expect.poll(async () => (await transcript(sessionId)).at(-1)?.text).toMatch(/打分/);
      await talk(t.url, sessionId).user('5').expectReply(/感谢您的评价/);
      expect((await http.get(`/api/handover/tickets/${ticket.id}`, li)).body).toMatchObject({ satisfaction: { score: 5 } });
      await talk(t.url, sessionId).user('在吗').expectReply(/您好/);
    });

    it('return to bot: the flow goes on where it was', async () => {
      const sessionId = `s-${randomUUID()}`;
      await talk(t.url, sessionId).user('查订单').expectReply(/订单号/).user('E20261029001').expectReply(/后4位/).user('人工').expectReply(/人工客服/);
      const ticket = ((await http.get('/api/handover/tickets?status=open', wang)).body.tickets as Ticket[]).find((x) => x.conversationId === `web:${sessionId}`)!;
      expect(ticket.context).toMatchObject({ flow: 'track_order', step: 'ask_last4' });
      await http.post(`/api/handover/tickets/${ticket.id}/claim`, {}, wang);
      expect((await http.post(`/api/handover/tickets/${ticket.id}/return-to-bot`, {}, wang)).body).toMatchObject({ status: 'returned_to_bot' });
      await expect.poll(async () => (await transcript(sessionId)).at(-1)?.text).toMatch(/后4位/);
      await talk(t.url, sessionId).user('5432').expectOrderCard('E20261029001');
    });

    it('notes, FAQ suggestions, canned replies, orders', async () => {
      const { ticket } = await escalated(['在吗']);
      const noted = await http.post(`/api/handover/tickets/${ticket.id}/note`, { text: '客户说周末不在家' }, li);
      expect((noted.body as unknown as Ticket).notes.at(-1)).toMatchObject({ by: 'lina', text: '客户说周末不在家' });
      expect((await http.post(`/api/handover/tickets/${ticket.id}/faq-suggestion`, { question: '周末送货吗', answer: '周末正常配送' }, li)).status).toBe(201);
      const canned = (await http.get('/api/handover/canned', li)).body.canned as { id: string }[];
      expect(canned.map((c) => c.id)).toContain('apology');
      const order = await http.get('/api/orders/E20261029001', li);
      expect(order.body).toMatchObject({ id: 'E20261029001', status: 'paid', items: [expect.objectContaining({ productName: expect.any(String) })] });
      expect((await http.get('/api/orders/NOPE', li)).status).toBe(404);
      expect((await http.get('/api/handover/tickets?status=bogus', li)).status).toBe(400);
    });

    it('shift end: claimed and open tickets move to the next shift with the leaving agent\'s note', async () => {
      const { ticket } = await escalated(['在吗']);
      await http.post('/api/handover/shift/start', {}, wang);
      await http.post(`/api/handover/tickets/${ticket.id}/claim`, {}, wang);
      const before = (await http.get('/api/handover/shifts', wang)).body as { current: { id: string }; next: { id: string }; onDuty: string[] };
      expect(before.onDuty).toContain('wang');
      const staff = (await http.get('/api/staff', manager)).body.staff as { username: string; onDuty: boolean }[];
      expect(staff.find((x) => x.username === 'wang')?.onDuty).toBe(true);
      expect((await http.post('/api/handover/shift/end', {}, wang)).status).toBe(400);
      const ended = await http.post('/api/handover/shift/end', { note: '客户等退款，明早跟进' }, wang);
      expect(ended.body.moved).toBeGreaterThanOrEqual(1);
      const moved = (await http.get(`/api/handover/tickets/${ticket.id}`, li)).body as unknown as Ticket;
      expect(moved).toMatchObject({ status: 'open', assignee: null, shift: before.next.id });
      expect(moved.handovers.at(-1)).toMatchObject({ by: 'wang', fromShift: before.current.id, toShift: before.next.id, note: '客户等退款，明早跟进' });
      const after = (await http.get('/api/handover/shifts', li)).body as { handedOver: { shift: string; notes: { note: string }[] }[]; onDuty: string[] };
      expect(after.onDuty).not.toContain('wang');
      expect(after.handedOver.find((h) => h.shift === before.next.id)?.notes.map((n) => n.note)).toContain('客户等退款，明早跟进');
    });

    it('a ticket handed over by hand needs a note and moves too', async () => {
      const { ticket } = await escalated(['在吗']);
      expect((await http.post(`/api/handover/tickets/${ticket.id}/handover`, { note: '' }, li)).status).toBe(400);
      const moved = await http.post(`/api/handover/tickets/${ticket.id}/handover`, { note: '需要仓库确认' }, li);
      expect((moved.body as unknown as Ticket).handovers.at(-1)).toMatchObject({ note: '需要仓库确认', by: 'lina' });
    });

    it('unanswered past due: the ticket rises in priority and the console hears of it', async () => {
      const { ticket } = await escalated(['在吗']);
      offset += 6 * 60_000;
      await t.bot.desk.sweep();
      const raisedOnce = (await http.get(`/api/handover/tickets/${ticket.id}`, li)).body as unknown as Ticket;
      expect(raisedOnce.priority).toBe('high');
      expect(raisedOnce.breachedAt).not.toBeNull();
      expect(raisedOnce.history.map((h) => h.action)).toContain('sla_breach');
      offset += 6 * 60_000;
      await t.bot.desk.sweep();
      expect(((await http.get(`/api/handover/tickets/${ticket.id}`, li)).body as unknown as Ticket).priority).toBe('urgent');
      const queue = (await http.get('/api/handover/tickets?status=open,claimed', li)).body.tickets as Ticket[];
      expect(queue[0]?.priority).toBe('urgent');
    });
  });
}

describe('handover API: memory store', () => {
  handoverContract((now) => startTestBot({ now, env: { ADMIN_USER: 'admin', ADMIN_PASSWORD: 'admin-pass-123' } }));
});

describeRedis('handover API: redis store', (server) => {
  handoverContract(async (now) => startTestBot({ now, env: { ADMIN_USER: 'admin', ADMIN_PASSWORD: 'admin-pass-123' }, store: await createRedisStore(server().url, { keyPrefix: uniqueKeyPrefix('handover') }) }));
});

describe('outside staffed hours and promises', () => {
  it('tells the customer when a person will answer when no shift is staffed now', async () => {
    const { cp, readFile, writeFile, mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { DEFAULT_LIBRARY_DIR } = await import('../src/bot.ts');
    const dir = await mkdtemp(join(tmpdir(), 'library-'));
    await cp(DEFAULT_LIBRARY_DIR, dir, { recursive: true });
    // Shanghai 09:00–21:00 staffed; the clock says 02:00 there, so the night shift is unstaffed.
    const yaml = (await readFile(join(dir, 'handover.yaml'), 'utf8')).replace(/(id: night[\s\S]*?staffed: )true/, '$1false');
    await writeFile(join(dir, 'handover.yaml'), yaml);
    const t = await startTestBot({ now: () => new Date('2026-11-23T02:00:00+08:00'), env: { LIBRARY_DIR: dir, ADMIN_USER: 'admin', ADMIN_PASSWORD: 'admin-pass-123' } });
    try {
      await talk(t.url).user('转人工').expectReply(/人工客服/).expectReply(/非工作时间.*11月23日 09:00/);
      const [ticket] = await t.bot.desk.list({ status: ['open'] });
      expect(ticket).toMatchObject({ shift: 'day', dueAt: '2026-11-23T01:05:00.000Z' });
    } finally {
      await t.close();
    }
  });
});
