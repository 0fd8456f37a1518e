/**
 * The story tests (scripts/stories/*.yaml, part of the library) through the real pipeline, engine, shipped library and demo
 * shop: each story gets a fresh shop and store (so stories do not see each other's changes) and the
 * library compiled once, so a whole file runs in seconds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIBRARY_DIR, loadLibrary } from '../src/bot.ts';
import { DEMO_SHOP_PATH, loadShopData } from '../src/commerce/demo-shop.ts';
import { parseStoryFile, runStories, type MakeStoryBot } from '../src/flows/stories.ts';
import { storyBots } from '../src/library/story-bot.ts';

const STORIES_DIR = fileURLToPath(new URL('../scripts/stories/', import.meta.url));
const files = readdirSync(STORIES_DIR).filter((f) => f.endsWith('.yaml')).sort();

let makeBot: MakeStoryBot;
beforeAll(async () => {
  const [library, data] = await Promise.all([loadLibrary(DEFAULT_LIBRARY_DIR), loadShopData(DEMO_SHOP_PATH)]);
  makeBot = storyBots(library, data);
});

describe.each(files)('stories: %s', (file) => {
  const parsed = parseStoryFile(readFileSync(join(STORIES_DIR, file), 'utf8'), file);
  it.each(parsed.stories.map((s) => [s.name, s] as const))('%s', async (_name, story) => {
    const { results: [result] } = await runStories([story], makeBot);
    expect(result?.problems ?? ['no result'], `\n${result?.transcript.join('\n') ?? ''}\n`).toEqual([]);
  });
});

describe('the story files', () => {
  it('hold at least 60 stories, in Chinese and English', () => {
    const stories = files.flatMap((f) => parseStoryFile(readFileSync(join(STORIES_DIR, f), 'utf8'), f).stories);
    expect(stories.length).toBeGreaterThanOrEqual(60);
    const english = stories.filter((s) => s.turns.every((t) => !/[\u4e00-\u9fff]/.test(t.user)));
    expect(english.length).toBeGreaterThanOrEqual(15);
  });

  it('refuse a story that is not well-formed, naming where', () => {
    expect(() => parseStoryFile('theme: x\nstories:\n  - name: a\n    turns: []\n', 'bad.yaml')).toThrow(/bad\.yaml stories\.0\.turns/);
    expect(() => parseStoryFile('theme: x\nstories:\n  - name: a\n    turns: [{ usr: hi }]\n', 'bad.yaml')).toThrow(/bad\.yaml stories\.0\.turns\.0/);
  });
});
