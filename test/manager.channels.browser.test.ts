// The manager console's 渠道 tab in real chromium against the real bot with WeChat on through wechaty-puppet-mock and Telegram long-polling a local Bot API: the QR code while the mock waits for a scan (and a new one when it changes), the account after the mock login, logout only after the in-page confirm; a bot without channels shows 未启用, and polling stops when the tab is left.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ScanStatus } from 'wechaty';
import type { Bot } from '../src/bot.ts';
import { describeBrowser, suiteBrowser } from './support/browser.ts';
import { startTestBot } from './support/bot.ts';
import { freePort, sleep, startBot, until } from './support/channel-bot.ts';
import { startFakeTelegram, type FakeTelegram } from './support/telegram-server.ts';
import { createFakeWechat, type FakeWechat } from './support/wechat.ts';

const WAIT = { timeout: 15_000, interval: 100 };
const ADMIN = { username: 'admin', password: 'admin-pass-123' };
const ADMIN_ENV = { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password };
const QR_1 = 'https://login.weixin.qq.com/l/manager-test-1';
const QR_2 = 'https://login.weixin.qq.com/l/manager-test-2';
/** The console polls every 3 s; a little more than one period. */
const POLL_PERIOD_MS = 3000;

describeBrowser('manager console: channels', () => {
  let bot: Bot;
  let url: string;
  let wechat: FakeWechat;
  let telegram: FakeTelegram;
  let uploads: string;
  const pages = suiteBrowser();

  beforeAll(async () => {
    wechat = createFakeWechat();
    telegram = await startFakeTelegram();
    uploads = mkdtempSync(path.join(os.tmpdir(), 'manager-channels-'));
    const port = await freePort();
    ({ bot } = await startBot(
      { PORT: String(port), ...ADMIN_ENV, TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.apiRoot },
      { channels: { wechatPuppet: wechat.puppet, uploadsDir: uploads, holder: { retryMs: 50 } } },
    ));
    url = `http://127.0.0.1:${port}`;
    await until('WeChat started', () => bot.channels.wechat?.status().state === 'starting');
    await until('Telegram polling', () => bot.channels.telegram?.status().state === 'running');
  });

  afterAll(async () => {
    await bot?.close();
    await telegram?.close();
    if (uploads) rmSync(uploads, { recursive: true, force: true });
  });

  async function signIn(base: string): Promise<Page> {
    const page = await pages.open({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
    await page.goto(new URL('/manager/', base).href);
    await page.getByTestId('login-username').fill(ADMIN.username);
    await page.getByTestId('login-password').fill(ADMIN.password);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('faq-row').first().waitFor();
    return page;
  }

  /** The QR image as the page has it: its address and natural width once loaded (0 while loading or broken). */
  function qrImage(page: Page): Promise<{ src: string; width: number; visible: boolean }> {
    return page.getByTestId('wechat-qr').evaluate((node) => {
      const img = node as HTMLImageElement;
      return { src: img.getAttribute('src') ?? '', width: img.complete ? img.naturalWidth : 0, visible: img.offsetParent !== null };
    });
  }

  it('shows the QR code while WeChat waits for a scan, the account after login, and logs out after the in-page confirm', async () => {
    const page = await signIn(url);
    await page.getByTestId('channels-tab').click();
    const state = page.getByTestId('wechat-state');
    await expect.poll(() => state.textContent(), WAIT).toBe('正在启动');

    // Telegram polls from this process, with no error.
    const tg = page.getByTestId('telegram-state');
    expect(await tg.textContent()).toBe('运行中');
    expect(await page.getByTestId('telegram-mode').textContent()).toContain('长轮询');
    expect(await page.getByTestId('telegram-holder').textContent()).toBe('本进程');
    expect(await page.getByTestId('telegram-username').textContent()).toBe('@shop_test_bot');
    expect(await page.getByTestId('telegram-error').textContent()).toBe('无');

    // The mock puppet offers a login QR code: the next poll shows it as an image from /api/channels/wechat/qr.svg.
    wechat.mocker.scan(QR_1, ScanStatus.Waiting);
    expect(bot.channels.status().wechat).toMatchObject({ state: 'waitingForScan', qrcode: QR_1 });
    await expect.poll(() => state.textContent(), WAIT).toBe('等待扫码');
    await expect.poll(async () => (await qrImage(page)).width, WAIT).toBeGreaterThan(0);
    const first = await qrImage(page);
    expect(first.visible).toBe(true);
    expect(first.src).toMatch(/^\/api\/channels\/wechat\/qr\.svg\?v=/);
    expect(await page.getByTestId('wechat-user').isVisible()).toBe(false);
    expect(await page.getByTestId('wechat-logout').isVisible()).toBe(false);
    await page.screenshot({ path: '/tmp/channels.png', fullPage: true });

    // The code times out and a new one comes: the image is fetched again.
    wechat.mocker.scan(QR_2, ScanStatus.Timeout);
    expect(bot.channels.status().wechat?.qrcode).toBe(QR_2);
    await expect.poll(async () => (await qrImage(page)).src, WAIT).not.toBe(first.src);
    await expect.poll(async () => (await qrImage(page)).width, WAIT).toBeGreaterThan(0);

    // The mock account logs in: the account's name, no QR code.
    wechat.login();
    await expect.poll(() => state.textContent(), WAIT).toBe('已登录');
    expect(await page.getByTestId('wechat-user').textContent()).toBe('小店客服');
    expect(await qrImage(page)).toMatchObject({ src: '', visible: false });

    // English labels, the state still from the server.
    await page.getByTestId('lang-toggle').click();
    await expect.poll(() => state.textContent(), WAIT).toBe('Logged in');
    expect(await page.getByTestId('channels-tab').textContent()).toBe('Channels');
    expect(await page.getByTestId('wechat-logout').textContent()).toBe('Log out');
    await page.getByTestId('lang-toggle').click();
    await expect.poll(() => state.textContent(), WAIT).toBe('已登录');

    // 退出登录 asks first, in the page; cancel keeps the login.
    await page.getByTestId('wechat-logout').click();
    const confirm = page.getByTestId('wechat-logout-confirm');
    expect(await confirm.isVisible()).toBe(true);
    await page.getByTestId('wechat-logout-cancel').click();
    expect(await confirm.isVisible()).toBe(false);
    await page.getByTestId('wechat-logout').click();
    await sleep(POLL_PERIOD_MS + 500);
    // A poll in between does not take the question away, and nothing was logged out yet.
    expect(await confirm.isVisible()).toBe(true);
    expect(bot.channels.status().wechat?.state).toBe('loggedIn');

    await confirm.click();
    await until('WeChat logged out', () => bot.channels.status().wechat?.state !== 'loggedIn', 10_000);
    expect(bot.channels.status().wechat).toMatchObject({ state: 'loggedOut', user: null });
    await expect.poll(() => state.textContent(), WAIT).toBe('已退出登录');
    expect(await page.getByTestId('wechat-user').isVisible()).toBe(false);
    expect(await page.getByTestId('wechat-status').textContent()).toContain('已退出登录');
  }, 90_000);

  it('shows 未启用 for channels that are off, and stops polling when the tab is left', async () => {
    const plain = await startTestBot({ env: ADMIN_ENV });
    try {
      const page = await signIn(plain.url);
      let polls = 0;
      page.on('request', (request) => { if (new URL(request.url()).pathname === '/api/channels') polls += 1; });
      await page.getByTestId('channels-tab').click();
      await expect.poll(() => page.getByTestId('wechat-state').textContent(), WAIT).toBe('未启用');
      expect(await page.getByTestId('telegram-state').textContent()).toBe('未启用');
      expect(await page.getByTestId('wechat-qr').isVisible()).toBe(false);
      expect(await page.getByTestId('wechat-logout').isVisible()).toBe(false);

      // Polled while open...
      await expect.poll(() => polls, { timeout: 10_000, interval: 100 }).toBeGreaterThanOrEqual(2);
      // ...and not once the manager is on another tab.
      await page.getByTestId('tab-staff').click();
      await page.getByTestId('staff-row').first().waitFor();
      const after = polls;
      await sleep(POLL_PERIOD_MS * 1.5);
      expect(polls).toBe(after);
    } finally {
      await plain.close();
    }
  }, 60_000);
});
