// Browser test of the agent console (public/console/) beside the customer web chat (public/), in real chromium against the real bot, started in-process.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { describeBrowser, suiteBrowser } from './support/browser.ts';
import { startTestBot } from './support/bot.ts';

type TestBot = Awaited<ReturnType<typeof startTestBot>>;

const ADMIN = { username: 'admin', password: 'admin-pass-123' };
const AGENT_PASSWORD = 'agent-pass-123';
/** Where the web chat page keeps its session id (public/webchat.js). */
const SESSION_KEY = 'shopchat.sessionId';
const XSS = '<img src=x onerror=alert(1)>';
const WAIT = { timeout: 15_000, interval: 100 };
const LONG = 90_000;

describeBrowser('agent console', () => {
  let bot: TestBot;
  let managerToken = '';
  let agents = 0;
  const pages = suiteBrowser();

  beforeAll(async () => {
    bot = await startTestBot({
      env: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password },
      ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
    });
    const login = await call('POST', '/api/auth/login', ADMIN);
    expect(login.status, `manager login: ${JSON.stringify(login.body)}`).toBe(200);
    managerToken = String((login.body as { token: string }).token);
  });

  afterAll(async () => {
    await bot?.close();
  });

  /** The staff API from the test itself (a manager's bearer token). */
  async function call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(new URL(path, bot.url), {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed };
  }

  /** A fresh agent account, made by the manager through POST /api/staff. */
  async function createAgent(): Promise<string> {
    agents += 1;
    const username = `night_${agents}_${Math.random().toString(36).slice(2, 6)}`;
    const created = await call('POST', '/api/staff', { username, password: AGENT_PASSWORD, role: 'agent', displayName: `夜班${agents}` }, managerToken);
    expect(created.status, `create agent: ${JSON.stringify(created.body)}`).toBe(201);
    return username;
  }

  async function newPage(viewport: { width: number; height: number }, mobile = false): Promise<Page> {
    return pages.open({ viewport, locale: 'zh-CN', ...(mobile ? { isMobile: true, hasTouch: true } : {}) });
  }

  /** A customer on a phone with the real web chat page, listening for pushed messages. */
  async function openChat(): Promise<{ page: Page; conversationId: string }> {
    const page = await newPage({ width: 375, height: 667 }, true);
    await page.goto(new URL('/', bot.url).href);
    await page.getByTestId('chat-input').waitFor();
    await page.waitForFunction(() => document.body.dataset.events === 'open', undefined, { timeout: 10_000 });
    const sessionId = await page.evaluate((key) => localStorage.getItem(key), SESSION_KEY);
    expect(sessionId).toBeTruthy();
    return { page, conversationId: `web:${sessionId}` };
  }

  async function say(chat: Page, text: string): Promise<void> {
    const input = chat.getByTestId('chat-input');
    await input.fill(text);
    await input.press('Enter');
  }

  function chatReplies(chat: Page): Promise<string[]> {
    return chat.locator('[data-testid="msg-bot"], [data-testid="msg-agent"]').allTextContents();
  }

  /** The customer asks for a person and the bot says one is coming. */
  async function askForPerson(chat: Page): Promise<void> {
    const before = (await chatReplies(chat)).length;
    await say(chat, '转人工');
    await expect.poll(async () => (await chatReplies(chat)).slice(before), WAIT).toEqual(expect.arrayContaining([expect.stringMatching(/人工|客服/)]));
  }

  /** An agent signed in to /console/ at desk width, the queue loaded and the live stream open. */
  async function openConsole(username: string, password = AGENT_PASSWORD, viewport = { width: 1280, height: 800 }): Promise<Page> {
    const page = await newPage(viewport);
    await page.goto(new URL('/console/', bot.url).href);
    await page.getByTestId('login-username').fill(username);
    await page.getByTestId('login-password').fill(password);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('queue').waitFor();
    await page.waitForFunction(() => document.body.dataset.events === 'open', undefined, { timeout: 10_000 });
    return page;
  }

  function row(page: Page, conversationId: string) {
    return page.locator(`[data-testid="ticket-row"][data-conversation-id="${conversationId}"]`);
  }

  async function transcript(page: Page): Promise<string[]> {
    return page.getByTestId('transcript-line').allTextContents();
  }

  /** Opens the conversation's ticket from the queue and claims it. */
  async function openAndClaim(page: Page, conversationId: string, username: string): Promise<void> {
    await row(page, conversationId).waitFor({ timeout: WAIT.timeout });
    await row(page, conversationId).click();
    const detail = page.locator(`[data-testid="ticket-detail"][data-conversation-id="${conversationId}"]`);
    await detail.waitFor();
    await expect.poll(() => transcript(page), WAIT).toEqual(expect.arrayContaining([expect.stringContaining('转人工')]));
    await page.getByTestId('ticket-claim').click();
    await expect.poll(() => detail.getAttribute('data-assignee'), WAIT).toBe(username);
    await expect.poll(() => page.getByTestId('ticket-reply-send').isEnabled(), WAIT).toBe(true);
  }

  it('a customer asks for a person; the agent sees it live, claims, replies, resolves; the customer gets the reply and the 回访', async () => {
    const username = await createAgent();
    const agent = await openConsole(username);
    expect(await agent.getByTestId('me-role').textContent()).toBe('客服');
    expect(await agent.getByTestId('staff-tab').isVisible()).toBe(false);
    await agent.getByTestId('shift-start').click();
    await agent.getByTestId('shift-end').waitFor();
    await agent.evaluate(() => {
      (window as Window & { notReloaded?: boolean }).notReloaded = true;
    });

    const { page: chat, conversationId } = await openChat();
    await askForPerson(chat);

    // The ticket arrives without a reload: row, title badge and a beep (the login click unlocked sound).
    await row(agent, conversationId).waitFor({ timeout: WAIT.timeout });
    expect(await agent.evaluate(() => (window as Window & { notReloaded?: boolean }).notReloaded)).toBe(true);
    await expect.poll(() => agent.title(), WAIT).toMatch(/^\(\d+\) 客服工作台$/);
    await expect.poll(() => agent.evaluate(() => Number(document.body.dataset.beeps ?? 0)), WAIT).toBeGreaterThan(0);
    const rowText = (await row(agent, conversationId).textContent()) ?? '';
    expect(rowText).toMatch(/客户要求人工/);
    expect(rowText).toMatch(/网页/);
    expect(rowText).toMatch(/紧急|高|普通|低/);
    expect(rowText).toMatch(/剩 \d|超时 \d/);

    await openAndClaim(agent, conversationId, username);
    await expect.poll(() => agent.title(), WAIT).toBe('客服工作台');

    // A canned reply fills the box in the ticket's language; the agent then writes their own.
    const canned = agent.getByTestId('canned-reply');
    if ((await canned.count()) > 0) {
      await canned.first().click();
      const filled = await agent.getByTestId('ticket-reply-input').inputValue();
      expect(filled.length).toBeGreaterThan(0);
      expect(filled).not.toMatch(/\{\{/);
    }
    const reply = '您好，我是客服小李，马上为您处理。';
    await agent.getByTestId('ticket-reply-input').fill(reply);
    await agent.getByTestId('ticket-reply-send').click();
    await expect.poll(() => transcript(agent), WAIT).toEqual(expect.arrayContaining([expect.stringContaining(reply)]));
    expect(await agent.getByTestId('ticket-forbidden-warning').isVisible()).toBe(false);

    // The web chat shows it as a person's message, labelled 客服.
    await expect.poll(() => chat.getByTestId('msg-agent').allTextContents(), WAIT).toContain(reply);
    const label = await chat.locator('li.msg-agent').filter({ hasText: reply }).locator('.msg-label').textContent();
    expect(label).toBe('客服');

    // The customer's next message (markup and all) appears live in the console, as text.
    const customerText = `好的，谢谢 ${XSS}`;
    await say(chat, customerText);
    await expect.poll(() => transcript(agent), WAIT).toEqual(expect.arrayContaining([expect.stringContaining(customerText)]));
    expect(await agent.locator('[data-testid="transcript"] img, [onerror]').count()).toBe(0);
    await agent.screenshot({ path: '/tmp/console.png' });

    await agent.getByTestId('ticket-note-input').fill('客户已收到答复，准备结单');
    await agent.getByTestId('ticket-note-add').click();
    await expect.poll(() => agent.getByTestId('ticket-notes').textContent(), WAIT).toContain('客户已收到答复');

    const before = (await chatReplies(chat)).length;
    await agent.getByTestId('ticket-resolve').click();
    await expect.poll(async () => (await chatReplies(chat)).slice(before), WAIT).toEqual(expect.arrayContaining([expect.stringMatching(/满意|评价|打分/)]));
    await expect.poll(() => agent.locator('[data-testid="ticket-detail"]').getAttribute('data-status'), WAIT).toBe('resolved');
    await expect.poll(() => row(agent, conversationId).count(), WAIT).toBe(0);

  }, LONG);

  it('warns about a forbidden phrase and does not send the reply, also when only the server catches it', async () => {
    const username = await createAgent();
    const agent = await openConsole(username);
    const { page: chat, conversationId } = await openChat();
    await askForPerson(chat);
    await openAndClaim(agent, conversationId, username);

    // A second agent cannot take it over: 409, and the console says who has it.
    const other = await openConsole(await createAgent());
    await row(other, conversationId).click();
    await other.locator(`[data-testid="ticket-detail"][data-conversation-id="${conversationId}"]`).waitFor();
    await other.getByTestId('ticket-claim').click();
    await expect.poll(() => other.getByTestId('ticket-message').textContent(), WAIT).toBe(`已被 ${username} 认领`);
    expect(await other.getByTestId('ticket-reply-send').isEnabled()).toBe(false);

    const bad = '这个不关我的事，你问别人去';
    await agent.getByTestId('ticket-reply-input').fill(bad);
    await agent.getByTestId('ticket-reply-send').click();
    const warning = agent.getByTestId('ticket-forbidden-warning');
    await warning.waitFor({ state: 'visible', timeout: WAIT.timeout });
    expect(await warning.textContent()).toContain('不关我的事');
    expect(await agent.getByTestId('ticket-reply-input').inputValue()).toBe(bad);

    // Without the console's check the server refuses it (422) and the same warning shows.
    await agent.getByTestId('ticket-reply-input').fill('不关我的事');
    await agent.route('**/api/handover/check-reply', (route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ ok: true, phrases: [] }) }),
    );
    const refused = agent.waitForResponse((res) => res.url().endsWith('/reply') && res.request().method() === 'POST');
    await agent.getByTestId('ticket-reply-send').click();
    expect((await refused).status()).toBe(422);
    await warning.waitFor({ state: 'visible', timeout: WAIT.timeout });
    expect(await warning.textContent()).toContain('不关我的事');
    await agent.unroute('**/api/handover/check-reply');

    // Nothing reached the customer or the transcript.
    const ok = '您好，我来帮您处理这个问题。';
    await agent.getByTestId('ticket-reply-input').fill(ok);
    await agent.getByTestId('ticket-reply-send').click();
    await expect.poll(() => chat.getByTestId('msg-agent').allTextContents(), WAIT).toContain(ok);
    await expect.poll(() => warning.isVisible(), WAIT).toBe(false);
    expect((await chat.getByTestId('msg-agent').allTextContents()).some((text) => text.includes('不关我的事'))).toBe(false);
    expect((await transcript(agent)).some((text) => text.includes('不关我的事'))).toBe(false);
  }, LONG);

  it('hands an open ticket to the next shift with a note, and ending a shift moves claimed ones with the note', async () => {
    const username = await createAgent();
    const agent = await openConsole(username);
    await agent.getByTestId('shift-start').click();
    await agent.getByTestId('shift-end').waitFor();
    const nextShift = agent.getByTestId('shift-next');
    await expect.poll(() => nextShift.getAttribute('data-shift'), WAIT).toMatch(/\S/);
    const nextId = (await nextShift.getAttribute('data-shift')) ?? '';
    const nextName = ((await nextShift.textContent()) ?? '').replace(/\s*\d{1,2}:\d{2}$/, '').trim();

    // 转交下一班 on an open ticket: a note is required.
    const first = await openChat();
    await askForPerson(first.page);
    await row(agent, first.conversationId).waitFor({ timeout: WAIT.timeout });
    await row(agent, first.conversationId).click();
    await agent.locator(`[data-testid="ticket-detail"][data-conversation-id="${first.conversationId}"]`).waitFor();
    await agent.getByTestId('ticket-handover').click();
    await agent.getByTestId('handover-confirm').click();
    expect(await agent.locator('#handover-error').isVisible()).toBe(true);
    const note = '客户要换尺码，已查库存，请白班确认到货后回复';
    await agent.getByTestId('handover-note-input').fill(note);
    await agent.getByTestId('handover-confirm').click();
    await expect.poll(() => row(agent, first.conversationId).getAttribute('data-shift'), WAIT).toBe(nextId);
    expect(await row(agent, first.conversationId).getByTestId('ticket-row-shift').textContent()).toBe(nextName);
    expect(await row(agent, first.conversationId).getByTestId('ticket-row-handover').textContent()).toContain(note);
    await expect.poll(() => agent.getByTestId('ticket-handovers').textContent(), WAIT).toContain(note);
    await expect.poll(() => agent.getByTestId('shift-handovers').textContent(), WAIT).toContain(note);

    // 下班: the agent's claimed ticket moves to the next shift with the end-of-shift note.
    const second = await openChat();
    await askForPerson(second.page);
    await openAndClaim(agent, second.conversationId, username);
    await agent.getByTestId('shift-end').click();
    await agent.getByTestId('shift-end-confirm').click();
    expect(await agent.locator('#shift-end-error').isVisible()).toBe(true);
    const endNote = '夜班交接：这位客户在等退款进度，请上午十点前回复';
    await agent.getByTestId('shift-end-note').fill(endNote);
    await agent.getByTestId('shift-end-confirm').click();
    await agent.getByTestId('shift-start').waitFor();
    await expect.poll(() => row(agent, second.conversationId).getAttribute('data-shift'), WAIT).toBe(nextId);
    await expect.poll(() => row(agent, second.conversationId).getAttribute('data-status'), WAIT).toBe('open');
    expect(await row(agent, second.conversationId).getByTestId('ticket-row-handover').textContent()).toContain(endNote);
    await expect.poll(() => agent.getByTestId('shift-handovers').textContent(), WAIT).toContain(endNote);

    // The next shift's agent sees both, with their notes, after a fresh sign-in.
    const dayAgent = await openConsole(await createAgent());
    await row(dayAgent, first.conversationId).waitFor({ timeout: WAIT.timeout });
    expect(await row(dayAgent, first.conversationId).textContent()).toContain(note);
    expect(await row(dayAgent, second.conversationId).textContent()).toContain(endNote);
  }, LONG);

  it('highlights a ticket that passes its due time unanswered (an sla event) and raises it in the queue', async () => {
    // A bot of its own whose clock the test moves on, so the other tests keep real time.
    let skewMs = 0;
    const slow = await startTestBot({ env: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password }, now: () => new Date(Date.now() + skewMs) });
    const saved = bot;
    try {
      bot = slow;
      const login = await call('POST', '/api/auth/login', ADMIN);
      const token = String((login.body as { token: string }).token);
      const username = `sla_${Math.random().toString(36).slice(2, 7)}`;
      expect((await call('POST', '/api/staff', { username, password: AGENT_PASSWORD, role: 'agent' }, token)).status).toBe(201);
      const agent = await openConsole(username);
      const { page: chat, conversationId } = await openChat();
      await askForPerson(chat);
      const ticket = row(agent, conversationId);
      await ticket.waitFor({ timeout: WAIT.timeout });
      expect(await ticket.getAttribute('data-sla-alert')).toBe('false');
      const rank = ['urgent', 'high', 'normal', 'low'];
      const before = rank.indexOf((await ticket.getAttribute('data-priority')) ?? '');
      const beeps = await agent.evaluate(() => Number(document.body.dataset.beeps ?? 0));

      skewMs = 6 * 60_000; // past the 5-minute first-response SLA; the server's sweep runs every 10 s
      await expect.poll(() => ticket.getAttribute('data-sla-alert'), { timeout: 25_000, interval: 200 }).toBe('true');
      expect(await ticket.evaluate((node) => node.classList.contains('breached'))).toBe(true);
      expect(rank.indexOf((await ticket.getAttribute('data-priority')) ?? '')).toBeLessThan(Math.max(before, 1));
      expect(await agent.evaluate(() => Number(document.body.dataset.beeps ?? 0))).toBeGreaterThan(beeps);

      // Opening it clears the alert; the breach mark stays until someone answers.
      await ticket.click();
      await expect.poll(() => ticket.getAttribute('data-sla-alert'), WAIT).toBe('false');
    } finally {
      await pages.closeAll();
      bot = saved;
      await slow.close();
    }
  }, LONG);

  it('signs in politely, lets a manager create staff, and switches the labels to English', async () => {
    const page = await newPage({ width: 1280, height: 800 });
    await page.goto(new URL('/console/', bot.url).href);
    await page.getByTestId('login-username').fill(ADMIN.username);
    await page.getByTestId('login-password').fill('wrong-password');
    await page.getByTestId('login-submit').click();
    await expect.poll(() => page.getByTestId('login-error').textContent(), WAIT).toBe('用户名或密码错误');
    expect(await page.evaluate(() => JSON.stringify({ ...localStorage }))).not.toMatch(/token|password|session/i);

    await page.getByTestId('login-password').fill(ADMIN.password);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('queue').waitFor();
    expect(await page.getByTestId('me-role').textContent()).toBe('主管');
    expect(await page.evaluate(() => JSON.stringify({ ...localStorage }))).not.toMatch(/token|password/i);
    expect(await page.evaluate(() => document.cookie)).not.toContain('staff_session');

    await page.getByTestId('staff-tab').click();
    const username = `day_${Math.random().toString(36).slice(2, 7)}`;
    await page.getByTestId('staff-username').fill(username);
    await page.getByTestId('staff-password').fill('day-pass-1234');
    await page.getByTestId('staff-role').selectOption('agent');
    await page.getByTestId('staff-create').click();
    await expect.poll(() => page.locator(`[data-testid="staff-row"][data-username="${username}"]`).count(), WAIT).toBe(1);
    await page.getByTestId('staff-username').fill(username);
    await page.getByTestId('staff-password').fill('day-pass-1234');
    await page.getByTestId('staff-create').click();
    await expect.poll(() => page.getByTestId('staff-error').textContent(), WAIT).toBe('该用户名已存在');

    await page.locator('[data-lang-toggle]').last().click();
    expect(await page.getByTestId('logout').textContent()).toBe('Sign out');
    expect(await page.getByTestId('staff-tab').textContent()).toBe('Staff');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    await page.locator('[data-lang-toggle]').last().click();
    expect(await page.getByTestId('logout').textContent()).toBe('退出登录');

    await page.getByTestId('logout').click();
    await page.getByTestId('login-submit').waitFor();
    const agent = await openConsole(username, 'day-pass-1234', { width: 800, height: 1000 });
    expect(await agent.getByTestId('me-role').textContent()).toBe('客服');
    expect(await agent.getByTestId('staff-tab').isVisible()).toBe(false);
  }, LONG);
});
