/** The web chat through its HTTP API and the real pipeline, demo shop and shipped library (memory store). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startTestBot, type TestBot } from './support/bot.ts';
import { talk } from './support/transcript.ts';
import { conversationIdOf } from '../src/bots/messages.ts';
import { webRef } from '../src/bots/webchat.ts';

let t: TestBot;
beforeAll(async () => { t = await startTestBot(); });
afterAll(async () => { await t.close(); });

async function post(body: unknown, raw?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${t.url}/api/webchat/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ?? JSON.stringify(body) });
  return { status: res.status, json: await res.json() as Record<string, unknown> };
}

describe('web chat conversations', () => {
  it('greets in Chinese and offers what it can do', async () => {
    await talk(t.url).user('在吗').expectReply(/您好/).expectQuickReplies(['查订单', '转人工']);
  });

  it('greets in English', async () => {
    await talk(t.url).user('hello').expectReply(/Hello/);
  });

  it('shows an order only after the last 4 digits of its phone match', async () => {
    await talk(t.url)
      .user('查订单').expectReply(/订单号/)
      .user('E20261029001').expectReply(/后4位/)
      .user('1234').expectReply(/对不上/).expectNoReplyMatching(/已付款/)
      .check((replies) => expect(replies.some((r) => r.card)).toBe(false));
    await talk(t.url)
      .user('帮我查下订单 e20261029001').expectReply(/后4位/)
      .user('尾号5432').expectReply(/E20261029001.*已付款/).expectOrderCard('E20261029001');
  });

  it('answers a placeholder FAQ question', async () => {
    await talk(t.url).user('你们包邮吗').expectReply(/包邮/);
  });

  it('a repeated messageId is answered {replies: [], duplicate: true} and changes nothing', async () => {
    const chat = talk(t.url);
    const id = randomUUID();
    await chat.user('查订单', id).expectReply(/订单号/).user('查订单', id).expectSilence({ duplicate: true });
    const transcript = await t.bot.store.conversations.transcript(conversationIdOf(webRef(chat.sessionId)));
    expect(transcript.filter((l) => l.from === 'customer').map((l) => l.text)).toEqual(['查订单']);
  });

  it('"转人工" hands to a person; the bot then only acknowledges once; "算了" takes it back', async () => {
    await talk(t.url)
      .user('转人工').expectReply(/人工客服/)
      .user('还要多久').expectReply(/客服已经收到/)
      .user('快点').expectSilence({ duplicate: false })
      .user('算了').expectReply(/取消/).expectReply(/其他问题/);
  });

  it('an odd message gets a polite answer and the offer of a person', async () => {
    await talk(t.url).user('🙂🙂🙂').expectReply(/抱歉/).expectQuickReplies(['转人工']);
  });

  it('keeps the transcript for a reload', async () => {
    const chat = talk(t.url);
    await chat.user('在吗').expectReply(/您好/);
    const res = await fetch(`${t.url}/api/webchat/history?sessionId=${chat.sessionId}`);
    const body = await res.json() as { transcript: { from: string; text: string }[] };
    expect(body.transcript.map((l) => l.from)).toEqual(['customer', 'bot']);
    expect(body.transcript[0]?.text).toBe('在吗');
  });

  it('a later message (an agent reply) reaches the page over server-sent events', async () => {
    const sessionId = `s-${randomUUID()}`;
    const controller = new AbortController();
    const res = await fetch(`${t.url}/api/webchat/events?sessionId=${sessionId}`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    await reader.read(); // the ": connected" comment: the subscription is in place
    await t.pushToSession(sessionId, '您好，我是客服小王');
    let received = '';
    while (!received.includes('data:')) received += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const data = JSON.parse(received.slice(received.indexOf('data:') + 5).split('\n')[0]!) as { text: string; from?: string };
    expect(data).toMatchObject({ text: '您好，我是客服小王', from: 'agent' });
  });
});

describe('web chat API input', () => {
  it('refuses a bad body with a 400 naming the field', async () => {
    const r = await post({ sessionId: 'x', text: 'hi' });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: { code: 'invalid_request', message: expect.stringMatching(/sessionId/) } });
    expect((await post({ sessionId: 'abcdefgh12', text: '' })).status).toBe(400);
    expect((await post({ sessionId: 'abcdefgh12', text: 'hi', extra: 1 })).status).toBe(400);
  });

  it('refuses malformed JSON with 400 and an oversized body with 413', async () => {
    const bad = await post(undefined, '{"sessionId": ');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { code: 'invalid_json' } });
    const big = await post({ sessionId: 'abcdefgh12', text: 'x'.repeat(40_000) });
    expect(big.status).toBe(413);
  });

  it('unknown API routes are JSON 404s', async () => {
    const res = await fetch(`${t.url}/api/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});

describe('operations', () => {
  it('GET /healthz answers {ok: true} when store and shop answer', async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('GET /metrics counts turns in Prometheus format', async () => {
    await talk(t.url).user('在吗').expectReply(/您好/);
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(/bot_turns_total\{channel="web",outcome="complete"\} \d+/);
  });

  it('serves the web chat page', async () => {
    const res = await fetch(`${t.url}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/在线客服/);
  });
});
