// The manager console (public/manager/) in real chromium against the real bot: change an FAQ answer, fail the check on a forbidden phrase, fix it, run the stories, publish, see the web chat answer with the new text, roll back, and see the day's conversations in the reports.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { describeBrowser, suiteBrowser } from './support/browser.ts';
import { startTestBot, type TestBot } from './support/bot.ts';

const WAIT = { timeout: 15_000, interval: 100 };
const ADMIN = { username: 'admin', password: 'admin-pass-123' };
const NEW_ANSWER = '全场满59元包邮（新规），偏远地区除外。';
const FORBIDDEN = '有意见打投诉电话吧';

describeBrowser('manager console', () => {
  let bot: TestBot;
  const pages = suiteBrowser();

  beforeAll(async () => {
    bot = await startTestBot({ env: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password } });
  });

  afterAll(async () => {
    await bot?.close();
  });

  async function newPage(path: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
    const page = await pages.open({ viewport, locale: 'zh-CN' });
    await page.goto(new URL(path, bot.url).href);
    return page;
  }

  async function signIn(): Promise<Page> {
    const page = await newPage('/manager/');
    await page.getByTestId('login-username').fill(ADMIN.username);
    await page.getByTestId('login-password').fill(ADMIN.password);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('faq-row').first().waitFor();
    return page;
  }

  /** Edits the answer of an FAQ entry in the draft and waits until the table shows it. */
  async function editAnswer(page: Page, id: string, zh: string): Promise<void> {
    await page.getByTestId('tab-library').click();
    const row = page.locator(`[data-testid="faq-row"][data-id="${id}"]`);
    await row.getByTestId('faq-edit').click();
    await page.getByTestId('faq-answer-zh').fill(zh);
    await page.getByTestId('faq-save').click();
    await expect.poll(() => row.getByTestId('faq-answer').textContent(), WAIT).toBe(zh);
  }

  /** The customer's web chat: asks and returns the newest bot reply's text. */
  async function ask(chat: Page, text: string): Promise<string> {
    const before = await chat.getByTestId('msg-bot').count();
    await chat.getByTestId('chat-input').fill(text);
    await chat.getByTestId('chat-input').press('Enter');
    await expect.poll(() => chat.getByTestId('msg-bot').count(), WAIT).toBeGreaterThan(before);
    return (await chat.getByTestId('msg-bot').last().textContent()) ?? '';
  }

  it('change an FAQ answer, fail the check on a forbidden phrase, fix, test, publish, see it in the web chat, roll back; reports show the day', async () => {
    const manager = await signIn();
    const entry = manager.locator('[data-testid="faq-row"][data-id="free_shipping"]');
    const oldAnswer = (await entry.getByTestId('faq-answer').textContent()) ?? '';
    expect(oldAnswer).toMatch(/包邮/);
    await entry.getByTestId('faq-edit').click();
    // The English part of the answer sits in its own field, split at the `---en---` line.
    expect(await manager.getByTestId('faq-answer-en').inputValue()).toMatch(/free shipping|shipping/i);
    await manager.getByTestId('faq-cancel').click();

    await editAnswer(manager, 'free_shipping', `满59元包邮，${FORBIDDEN}`);
    await manager.getByTestId('tab-publish').click();
    await manager.getByTestId('check-run').click();
    await expect.poll(() => manager.getByTestId('check-result').getAttribute('data-state'), WAIT).toBe('failed');
    const problem = manager.getByTestId('check-problems').getByTestId('check-problem').filter({ hasText: FORBIDDEN });
    await expect.poll(() => problem.count(), WAIT).toBeGreaterThan(0);
    expect(await problem.first().getByTestId('problem-where').textContent()).toBe('faq free_shipping answer');
    // Publishing is refused while the check fails, with the same problem listed.
    await manager.getByTestId('publish-comment').fill('运费新规');
    await manager.getByTestId('publish-submit').click();
    await expect.poll(() => manager.getByTestId('publish-result').getAttribute('data-state'), WAIT).toBe('failed');
    await expect.poll(() => manager.getByTestId('publish-problems').textContent(), WAIT).toContain(FORBIDDEN);

    await editAnswer(manager, 'free_shipping', NEW_ANSWER);
    await manager.getByTestId('tab-publish').click();
    await manager.getByTestId('check-run').click();
    await expect.poll(() => manager.getByTestId('check-result').getAttribute('data-state'), WAIT).toBe('ok');
    expect(await manager.getByTestId('check-problems').getByTestId('check-problem').count()).toBe(0);
    // The refusal of the earlier publish is cleared by the passing check.
    expect(await manager.getByTestId('publish-problems').getByTestId('check-problem').count()).toBe(0);

    // The stories: run, or "not available in this build" (501) said politely; either way the outcome is shown.
    await manager.getByTestId('stories-run').click();
    await expect.poll(() => manager.getByTestId('stories-result').getAttribute('data-state'), WAIT).toMatch(/^(passed|failed|unavailable)$/);
    const stories = manager.getByTestId('stories-result');
    expect(await stories.isVisible()).toBe(true);
    if ((await stories.getAttribute('data-state')) === 'unavailable') expect(await stories.textContent()).toContain('剧本测试暂不可用');
    else expect(await stories.getAttribute('data-state')).toBe('passed');

    await manager.getByTestId('diff-run').click();
    const faqDiff = manager.locator('[data-testid="diff-file"][data-name="faq.csv"]');
    await expect.poll(() => faqDiff.getByTestId('diff-line').filter({ hasText: NEW_ANSWER }).count(), WAIT).toBe(1);

    await manager.getByTestId('publish-comment').fill('运费新规：满59元包邮');
    await manager.getByTestId('publish-submit').click();
    await expect.poll(() => manager.getByTestId('publish-result').textContent(), WAIT).toContain('已发布版本 2');
    const live = manager.locator('[data-testid="version-row"][data-live="true"]');
    await expect.poll(() => live.getAttribute('data-version'), WAIT).toBe('2');
    expect(await live.locator('td').nth(3).textContent()).toBe('运费新规：满59元包邮');

    const chat = await newPage('/', { width: 375, height: 667 });
    await chat.getByTestId('chat-input').waitFor();
    await expect.poll(() => ask(chat, '包邮吗'), WAIT).toContain(NEW_ANSWER);

    const first = manager.locator('[data-testid="version-row"][data-version="1"]').getByTestId('rollback');
    await first.click();
    await first.click();
    await expect.poll(() => live.getAttribute('data-version'), WAIT).toBe('1');
    expect(await manager.getByTestId('publish-result').textContent()).toContain('版本 1');
    await expect.poll(() => ask(chat, '包邮吗'), WAIT).toContain(oldAnswer.slice(0, 12));
    await expect.poll(() => manager.getByTestId('audit-row').filter({ hasText: '回滚' }).count(), WAIT).toBeGreaterThan(0);

    await manager.getByTestId('tab-reports').click();
    await manager.getByTestId('range-today').click();
    await expect.poll(async () => Number(await manager.getByTestId('report-conversations').textContent()), WAIT).toBeGreaterThan(0);
    expect(Number(await manager.getByTestId('report-messages').textContent())).toBeGreaterThanOrEqual(2);
    expect(await manager.getByTestId('chart-daily').locator('rect').count()).toBeGreaterThan(0);
    const csv = await manager.getByTestId('csv-days').getAttribute('href');
    expect(csv).toMatch(/^\/api\/reports\.csv\?table=days&from=\d{4}-\d{2}-\d{2}&to=\d{4}-\d{2}-\d{2}$/);
    const download = await manager.evaluate(async (href) => (await fetch(href)).text(), csv!);
    expect(download.replace(/^\uFEFF/, '').split('\r\n')[0]).toMatch(/^day,conversations,/);
  }, 90_000);

  it('shows a flow\'s schema problems at their line, keeps the draft, and switches labels to English', async () => {
    const manager = await signIn();
    await manager.getByTestId('part-flows').click();
    await manager.getByTestId('flow-select').selectOption('greeting');
    const editor = manager.getByTestId('flow-yaml');
    await expect.poll(() => editor.inputValue(), WAIT).toContain('id: greeting');
    const original = await editor.inputValue();
    const broken = original.split('\n');
    broken.splice(1, 0, 'colour: blue');
    await editor.fill(broken.join('\n'));
    await manager.getByTestId('flow-save').click();
    const problem = manager.getByTestId('flow-problem').first();
    await expect.poll(() => problem.getAttribute('data-line'), WAIT).toBe('2');
    expect(await problem.textContent()).toContain('flows/greeting.yaml:2');
    expect(await manager.getByTestId('flow-error-line').first().textContent()).toBe('2');
    await manager.getByTestId('flow-revert').click();
    expect(await editor.inputValue()).toBe(original);

    await manager.getByTestId('lang-toggle').click();
    expect(await manager.getByTestId('tab-library').textContent()).toBe('Script library');
    expect(await manager.getByTestId('tab-reports').textContent()).toBe('Reports');
    await manager.getByTestId('lang-toggle').click();
    expect(await manager.getByTestId('tab-library').textContent()).toBe('脚本库');
  }, 60_000);
});
