/**
 * Reports through the real pipeline, desk, shop and HTTP API: events are made by chatting and by
 * agents working tickets, and the report's numbers are asserted, on the memory store and on Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startTestBot, type TestBot } from './support/bot.ts';
import { talk } from './support/transcript.ts';
import { describeRedis } from './support/redis.ts';
import type { Ticket } from '../src/handover/ticket.ts';
import type { Report, Row } from '../src/reports/report.ts';

const env = { ADMIN_USER: 'admin', ADMIN_PASSWORD: 'admin-pass-123' };
/** 10:00 on a Tuesday in Shanghai: the day shift (09:00–21:00 in the shipped handover.yaml). */
const BASE = Date.parse('2026-03-10T10:00:00+08:00');
const DAY = '2026-03-10';
const NEXT_DAY = '2026-03-11';

interface Http {
  status: number;
  body: Record<string, unknown>;
}

function reportsContract(makeBot: (now: () => Date) => Promise<TestBot>): void {
  let t: TestBot;
  /** Moved forward by tests; the bot's clock is BASE + real time since start + offset. */
  let offset = 0;
  const realStart = Date.now();
  let admin: string;
  let agent: string;

  async function call(method: string, path: string, token: string, body?: unknown): Promise<Http> {
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json() as Record<string, unknown> };
  }

  async function login(username: string, password: string): Promise<string> {
    const res = await fetch(`${t.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    return ((await res.json()) as { token: string }).token;
  }

  async function report(from = DAY, to = DAY): Promise<Report> {
    const res = await call('GET', `/api/reports?from=${from}&to=${to}`, admin);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as unknown as Report;
  }

  const dayRow = (r: Report, day = DAY): Row => r.tables.days.rows.find((row) => row.day === day)!;
  const shiftRow = (r: Report, day: string, shift: string): Row => r.tables.shifts.rows.find((row) => row.day === day && row.shift === shift)!;
  const num = (row: Row, column: string): number => Number(row[column] ?? 0);
  /** How much each column grew between two rows. */
  const grew = (before: Row, after: Row, columns: string[]): Record<string, number> => Object.fromEntries(columns.map((c) => [c, num(after, c) - num(before, c)]));

  async function ticketOf(sessionId: string): Promise<Ticket> {
    const { body } = await call('GET', '/api/handover/tickets', agent);
    const found = (body.tickets as Ticket[]).filter((x) => x.conversationId === `web:${sessionId}`).at(-1);
    expect(found, `a ticket for ${sessionId}`).toBeDefined();
    return found!;
  }

  beforeAll(async () => {
    t = await makeBot(() => new Date(BASE + (Date.now() - realStart) + offset));
    admin = await login('admin', 'admin-pass-123');
    expect((await call('POST', '/api/staff', admin, { username: 'wang', password: 'wang-pass-123', role: 'agent' })).status).toBe(201);
    agent = await login('wang', 'wang-pass-123');
  });
  afterAll(async () => { await t?.close(); });

  it('counts conversations, messages and FAQ answers per day and per shift; an FAQ resolution once per conversation', async () => {
    const before = await report();
    await talk(t.url).user('你们包邮吗').expectReply(/包邮/).user('包邮吗').expectReply(/包邮/);
    await talk(t.url).user('火星天气').expectReply(/没有完全理解/);
    const after = await report();
    const columns = ['conversations', 'new_conversations', 'customer_messages', 'bot_messages', 'faq_answered', 'faq_abstained', 'automated', 'automated_faq_answered'];
    const expected = { conversations: 2, new_conversations: 2, customer_messages: 3, bot_messages: 3, faq_answered: 2, faq_abstained: 1, automated: 1, automated_faq_answered: 1 };
    expect(grew(dayRow(before), dayRow(after), columns)).toEqual(expected);
    expect(grew(shiftRow(before, DAY, 'day'), shiftRow(after, DAY, 'day'), columns)).toEqual(expected);
    expect(grew(shiftRow(before, DAY, 'night'), shiftRow(after, DAY, 'night'), columns)).toEqual(Object.fromEntries(columns.map((c) => [c, 0])));
    expect(after.tables.unanswered.rows).toContainEqual({ question: '火星天气', count: 1 });
    expect(after.tables.faq_entries.rows).toContainEqual(expect.objectContaining({ entry: 'free_shipping' }));
    expect(num(dayRow(after), 'faq_answer_rate')).toBeGreaterThan(0);
    expect(after.shifts.map((s) => s.id)).toEqual(['day', 'night']);
  });

  it('a person within 24 hours takes the automated resolution back; handoffs are counted by reason', async () => {
    const chat = talk(t.url).user('你们包邮吗').expectReply(/包邮/);
    await chat;
    const answered = dayRow(await report());
    await chat.user('转人工').expectReply(/人工/);
    const after = await report();
    expect(grew(answered, dayRow(after), ['automated', 'automated_faq_answered', 'automated_taken_back', 'handoffs'])).toEqual({ automated: -1, automated_faq_answered: -1, automated_taken_back: 1, handoffs: 1 });
    expect(after.tables.handoff_reasons.rows).toContainEqual(expect.objectContaining({ kind: 'handoff', reason: 'customer_request' }));
    // The FAQ answered while a person has the conversation in the last 24 h is not the bot's alone.
    await talk(t.url, chat.sessionId).user('算了');
    const again = dayRow(await report());
    await chat.user('你们包邮吗').expectReply(/包邮/);
    expect(grew(again, dayRow(await report()), ['automated_faq_answered'])).toEqual({ automated_faq_answered: 0 });
    expect((await report()).tables.automated.rows).toContainEqual(expect.objectContaining({ outcome: 'faq_answered', with_person_before: 1 }));
  });

  it('the bot changing an order and creating a return count as automated resolutions, with the change and the reason', async () => {
    const before = await report();
    await talk(t.url).user('我要改地址').expectReply(/订单号/).user('E20261029001').expectReply(/后4位/).user('5432').expectReply(/新的收货地址/)
      .user('浙江省杭州市西湖区文三路100号').expectReply(/确认/).user('是').expectReply(/改好了/);
    await talk(t.url).user('我要退货').expectReply(/订单号/).user('E20261027002').expectReply(/后4位/).user('6171').expectReply(/原因/)
      .user('尺码不合适').expectReply(/核对/).user('是').expectReply(/已提交/);
    const after = await report();
    expect(grew(dayRow(before), dayRow(after), ['automated_order_changed', 'automated_return_created', 'returns'])).toEqual({ automated_order_changed: 1, automated_return_created: 1, returns: 1 });
    expect(after.tables.order_changes.rows).toContainEqual({ change: 'address', count: 1 });
    expect(after.tables.returns.rows).toContainEqual({ kind: 'return', reason: '尺码不合适', count: 1 });
  });

  it('a complaint handed to a supervisor is counted once under its category', async () => {
    await talk(t.url).user('我要投诉').expectReply(/慢慢说/).user('客服态度很差，问了三遍都不理我，太让人生气了').expectReply(/补充/)
      .user('另外客服还挂了我的电话').expectReply(/哪个订单/).user('无').expectReply(/哪方面/).user('服务态度').expectReply(/主管/);
    const after = await report();
    expect(after.tables.complaints.rows).toContainEqual({ category: '服务态度', count: 1 });
    expect(after.tables.handoff_reasons.rows).toContainEqual(expect.objectContaining({ kind: 'handoff', reason: 'complaint' }));
  });

  it('agents: first-response time (median, p90), messages, handover between shifts, SLA breaches, satisfaction', async () => {
    const before = dayRow(await report());
    const sessions = [`s-${randomUUID()}`, `s-${randomUUID()}`];
    for (const s of sessions) await talk(t.url, s).user('转人工').expectReply(/人工/);
    const [first, second] = [await ticketOf(sessions[0]!), await ticketOf(sessions[1]!)];
    for (const ticket of [first, second]) expect((await call('POST', `/api/handover/tickets/${ticket.id}/claim`, agent)).status).toBe(200);
    offset += 60_000;
    expect((await call('POST', `/api/handover/tickets/${first.id}/reply`, agent, { text: '您好，我来帮您处理。' })).status).toBe(200);
    offset += 60_000;
    expect((await call('POST', `/api/handover/tickets/${second.id}/reply`, agent, { text: '您好，请问有什么可以帮您？' })).status).toBe(200);
    expect((await call('POST', `/api/handover/tickets/${second.id}/reply`, agent, { text: '我查一下。' })).status).toBe(200);
    expect((await call('POST', `/api/handover/tickets/${second.id}/handover`, agent, { note: '客户等退款，请夜班跟进' })).status).toBe(200);
    expect((await call('POST', `/api/handover/tickets/${first.id}/resolve`, agent)).status).toBe(200);
    await expect.poll(async () => ((await call('GET', `/api/conversations/web:${sessions[0]}`, agent)).body.transcript as { text: string }[]).at(-1)?.text).toMatch(/打分/);
    await talk(t.url, sessions[0]).user('4').expectReply(/感谢/);

    const after = dayRow(await report());
    expect(grew(before, after, ['agent_messages', 'first_response_count', 'handed_over', 'satisfaction_count', 'handoffs'])).toEqual({
      agent_messages: 3, first_response_count: 2, handed_over: 1, satisfaction_count: 1, handoffs: 2,
    });
    // Only these two were answered: about 60 s and 120 s (plus the test's own real time).
    expect(num(after, 'first_response_median_s')).toBeGreaterThanOrEqual(90);
    expect(num(after, 'first_response_median_s')).toBeLessThan(95);
    expect(num(after, 'first_response_p90_s')).toBeGreaterThanOrEqual(114);
    expect(num(after, 'first_response_p90_s')).toBeLessThan(119);
    expect((await report()).tables.satisfaction.rows).toContainEqual({ score: 4, count: 1 });
    expect(after.satisfaction_avg).toBe(4);

    // Earlier tests left tickets nobody answered: past their due time each is one breach, however often the sweep runs.
    offset += 10 * 60_000;
    await t.bot.desk.sweep();
    await t.bot.desk.sweep();
    const breached = (await t.bot.desk.list()).filter((x) => x.breachedAt !== null).length;
    expect(breached).toBeGreaterThan(0);
    expect(num(dayRow(await report()), 'sla_breaches')).toBe(breached);
  });

  it('a night shift after midnight counts under the evening it began; a take-back lands on the day it was counted', async () => {
    const chat = talk(t.url).user('你们包邮吗').expectReply(/包邮/);
    await chat;
    const before = await report(DAY, NEXT_DAY);
    // To 03:00 the next morning: the night shift that began at 21:00 on DAY.
    offset = BASE + 17 * 3_600_000 - (BASE + (Date.now() - realStart));
    // Sessions last 12 hours.
    admin = await login('admin', 'admin-pass-123');
    agent = await login('wang', 'wang-pass-123');
    await chat.user('转人工').expectReply(/人工/);
    const after = await report(DAY, NEXT_DAY);
    expect(grew(dayRow(before, NEXT_DAY), dayRow(after, NEXT_DAY), ['conversations', 'customer_messages', 'handoffs', 'automated_taken_back'])).toEqual({ conversations: 1, customer_messages: 1, handoffs: 1, automated_taken_back: 0 });
    expect(grew(shiftRow(before, DAY, 'night'), shiftRow(after, DAY, 'night'), ['conversations', 'handoffs'])).toEqual({ conversations: 1, handoffs: 1 });
    expect(num(shiftRow(after, NEXT_DAY, 'night'), 'conversations')).toBe(0);
    expect(grew(dayRow(before), dayRow(after), ['automated_taken_back', 'automated_faq_answered'])).toEqual({ automated_taken_back: 1, automated_faq_answered: -1 });
  });

  it('exports each table as CSV; checks the range; is for managers only', async () => {
    const csv = await fetch(`${t.url}/api/reports.csv?table=days&from=${DAY}&to=${NEXT_DAY}`, { headers: { authorization: `Bearer ${admin}` } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="report-days-${DAY}_${NEXT_DAY}.csv"`);
    const text = await csv.text();
    const lines = text.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^day,conversations,new_conversations,/);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual([DAY, NEXT_DAY]);
    const unanswered = await (await fetch(`${t.url}/api/reports.csv?table=unanswered&from=${DAY}&to=${DAY}`, { headers: { authorization: `Bearer ${admin}` } })).text();
    expect(unanswered).toContain('火星天气,1');

    expect((await call('GET', '/api/reports.csv?table=nope', admin)).status).toBe(400);
    expect((await call('GET', `/api/reports?from=${NEXT_DAY}&to=${DAY}`, admin)).status).toBe(400);
    expect((await call('GET', '/api/reports?from=2026-02-30', admin)).status).toBe(400);
    expect((await call('GET', '/api/reports?from=2024-01-01&to=2026-01-01', admin)).status).toBe(400);
    expect((await call('GET', '/api/reports', agent)).status).toBe(403);
    expect((await fetch(`${t.url}/api/reports`)).status).toBe(401);
    // Without a range: the week up to today (shop time).
    const week = (await call('GET', '/api/reports', admin)).body as unknown as Report;
    expect(week.tables.days.rows).toHaveLength(7);
    expect(week.to).toBe(NEXT_DAY);
  });
}

describe('reports (memory store)', () => {
  reportsContract((now) => startTestBot({ env, now }));
});

describeRedis('reports (redis)', (server) => {
  reportsContract((now) => startTestBot({ env, now, redisUrl: server().url }));
});
