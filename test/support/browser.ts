// Test support: Debian's chromium driven by playwright-core, and a describe() that runs, fails or skips by whether chromium exists.
import { accessSync, constants } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

/** Where the browser binary is: CHROMIUM_PATH, or Debian's package. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

/** True when a runnable chromium is installed at {@link chromiumPath}. */
export function browserAvailable(): boolean {
  try {
    accessSync(chromiumPath(), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Launches headless chromium. The flags keep it off the network on its own (this machine and CI
 * have no internet: no QUIC, no update checks, no sync) and let it run as root in a container.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A browser suite: runs when chromium exists; under CI (CI=true) a missing chromium is a failing
 * test, so a green run always means the browser tests ran; elsewhere the suite is skipped and says why.
 */
export function describeBrowser(name: string, fn: () => void): void {
  if (browserAvailable()) {
    describe(name, fn);
    return;
  }
  const path = chromiumPath();
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('chromium is required under CI', () => {
        throw new Error(`chromium is required under CI: no executable at ${path} (install Debian's "chromium" package or set CHROMIUM_PATH)`);
      });
    });
    return;
  }
  const reason = `skipped: no chromium at ${path}; install Debian's "chromium" package or set CHROMIUM_PATH`;
  console.warn(`[${name}] ${reason}`);
  describe.skip(`${name} (${reason})`, fn);
}

/**
 * Notes on `problems` every uncaught page error and every dialog (an alert() would mean injected
 * markup ran), dismissing the dialog; tests assert the list stays empty.
 */
function recordProblems(page: Page, problems: string[]): void {
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog opened: ${dialog.type()} ${dialog.message()}`);
    void dialog.dismiss();
  });
}

/** The pages of a browser suite (see {@link suiteBrowser}). */
export interface SuitePages {
  /** A page in a fresh context (its own storage: a new visitor), closed after the test. */
  open(options: BrowserContextOptions): Promise<Page>;
  /** Closes the pages opened so far (a test that starts over within itself). */
  closeAll(): Promise<void>;
}

/**
 * The browser of a suite: launched before its tests and closed after them. After each test its
 * pages are closed, and none may have thrown or opened a dialog (an alert() would mean injected
 * markup ran; the consoles never open one).
 */
export function suiteBrowser(): SuitePages {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  let problems: string[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  };
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await closeAll();
    const seen = problems;
    problems = [];
    expect(seen).toEqual([]);
  });
  return {
    async open(options) {
      if (!browser) throw new Error('suiteBrowser: the browser is not launched yet (open pages in tests, not in beforeAll)');
      const context = await browser.newContext(options);
      contexts.push(context);
      const page = await context.newPage();
      recordProblems(page, problems);
      return page;
    },
    closeAll,
  };
}
