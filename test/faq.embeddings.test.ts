/**
 * The FAQ ranked with embeddings too (a model with OPENAI_EMBEDDING_MODEL): a question that
 * shares no word with its entry is answered when the model's vectors say what it means; vectors
 * that mean nothing do not make the FAQ answer wrongly; the model failing leaves the words to
 * answer. Models: the stand-ins of test/support/concepts.ts, through the local OpenAI-compatible
 * server for the bot and the eval command.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { preferred, unitVector, type DenseFaq } from '../src/knowledge/dense.ts';
import { createFaqEmbeddings } from '../src/knowledge/embeddings.ts';
import { parseCasesCsv } from '../src/knowledge/eval.ts';
import { answerIn, createFaqIndex, parseFaqCsv, type FaqDecision, type FaqEntry, type FaqIndex } from '../src/knowledge/faq.ts';
import { knowingModel, noiseModel, randomModel } from './support/concepts.ts';
import { startFakeOpenAi, type FakeOpenAi } from './support/openai-server.ts';
import { startTestBot, type TestBot } from './support/bot.ts';
import { talk } from './support/transcript.ts';

const ROOT = new URL('../', import.meta.url);
const run = promisify(execFile);

/** Questions the stand-in model is told the meaning of; none shares a word with its entry's wordings. */
const ABOUT = { '买错了想还回去': 'seven_day_return', '报销用的票怎么弄': 'invoice' };

let entries: FaqEntry[];
let index: FaqIndex;

const idOf = (d: FaqDecision): string => (d.kind === 'answer' ? d.entry.id : d.kind);

/**
 * The FAQ with embeddings from a stand-in model, built the way the bot builds it; `ask` decides
 * as a turn does: the words first, the vectors when the words do not answer (dense.ts's `preferred`).
 */
async function denseWith(model: (texts: string[]) => number[][]): Promise<{ dense: DenseFaq; ask(q: string): FaqDecision }> {
  const embeddings = createFaqEmbeddings(async (texts) => model(texts));
  const dense = await embeddings.build(index);
  if (!dense) throw new Error('no dense FAQ');
  return {
    dense,
    ask(q) {
      const words = index.inspect(q, 10);
      return words.decision.kind === 'answer' ? words.decision : preferred(words, dense.inspect(q, unitVector(model([q])[0] ?? [])!, 10)).decision;
    },
  };
}

beforeAll(async () => {
  entries = parseFaqCsv(await readFile(new URL('scripts/faq.csv', ROOT), 'utf8'), 'faq.csv').entries;
  const synonyms = parse(await readFile(new URL('scripts/synonyms.yaml', ROOT), 'utf8')) as string[][];
  index = createFaqIndex(entries, { synonyms });
});

describe('the FAQ with embeddings', () => {
  it('answers a question that shares no word with its entry when the vectors say what it means', async () => {
    const { ask } = await denseWith(knowingModel(entries, ABOUT));
    for (const [question, id] of Object.entries(ABOUT)) {
      expect(index.decide(question).kind, question).not.toBe('answer');
      expect(idOf(ask(question)), question).toBe(id);
    }
    // Still quiet about what no entry answers.
    expect(ask('明天天气怎么样').kind).toBe('abstain');
  });

  it('learns how far to trust the vectors from the FAQ itself: vectors that mean nothing add no wrong answers, and never silence an ask-back', async () => {
    const { ask } = await denseWith(randomModel);
    const { cases } = parseCasesCsv(await readFile(new URL('eval/demo-cases.csv', ROOT), 'utf8'));
    let wordsRight = 0;
    let wordsWrong = 0;
    let bothRight = 0;
    let bothWrong = 0;
    let silenced = 0;
    for (const c of cases) {
      const words = index.decide(c.query);
      const both = ask(c.query);
      if (words.kind === 'clarify' && both.kind === 'abstain') silenced++;
      if (words.kind === 'answer') {
        if (words.entry.id === c.expected) wordsRight++;
        else wordsWrong++;
      }
      if (both.kind === 'answer') {
        if (both.entry.id === c.expected) bothRight++;
        else bothWrong++;
      }
    }
    expect(silenced).toBe(0);
    expect(bothWrong).toBeLessThanOrEqual(wordsWrong + 1);
    expect(bothRight).toBeGreaterThanOrEqual(wordsRight);
  });

  it('embeds an FAQ once, a new version only for what changed, and a question once while remembered', async () => {
    const embedded: string[] = [];
    const model = knowingModel(entries, ABOUT);
    const embeddings = createFaqEmbeddings(async (texts) => {
      embedded.push(...texts);
      return model(texts);
    });
    expect(embeddings.denseFor(index)).toBeNull(); // starts the build; the words answer meanwhile
    await vi.waitFor(() => expect(embeddings.denseFor(index)).not.toBeNull());
    const first = embedded.length;
    expect(first).toBe(index.embeddingTraining().texts.length);
    const changed = createFaqIndex([...entries.slice(1), { ...entries[0]!, alternates: [...entries[0]!.alternates, '发货快不快呀'] }], { synonyms: [] });
    expect(await embeddings.build(changed)).not.toBeNull();
    const again = embedded.slice(first);
    expect(again).toContain('发货快不快呀');
    expect(again.length).toBeLessThan(first / 2);
    const before = embedded.length;
    await embeddings.vectorOf('买错了想还回去');
    await embeddings.vectorOf('买错了想还回去');
    expect(embedded.length).toBe(before + 1);
  });

  it('a model that fails leaves the words to answer, and is tried again later', async () => {
    let now = 0;
    let failing = true;
    const model = knowingModel(entries, ABOUT);
    const warnings: object[] = [];
    const embeddings = createFaqEmbeddings(async (texts) => (failing ? null : model(texts)), {
      now: () => now, retryMs: 60_000, log: { info: () => undefined, warn: (o) => void warnings.push(o) },
    });
    expect(await embeddings.build(index)).toBeNull();
    expect(warnings).toHaveLength(1);
    expect(await embeddings.vectorOf('买错了想还回去')).toBeNull();
    failing = false;
    expect(embeddings.denseFor(index)).toBeNull(); // too soon to try again
    now += 60_000;
    expect(embeddings.denseFor(index)).toBeNull();
    await vi.waitFor(() => expect(embeddings.denseFor(index)).not.toBeNull());
  });

  it('an FAQ too large to embed answers from words alone, with a warning', async () => {
    const warnings: object[] = [];
    const embeddings = createFaqEmbeddings(async (texts) => noiseModel(texts), { maxTexts: 10, log: { info: () => undefined, warn: (o) => void warnings.push(o) } });
    expect(await embeddings.build(index)).toBeNull();
    expect(warnings[0]).toMatchObject({ maxTexts: 10 });
  });
});

describe('the bot with an embeddings model', () => {
  let server: FakeOpenAi;
  let t: TestBot;

  beforeAll(async () => {
    server = await startFakeOpenAi();
    server.fallback = { embeddings: knowingModel(entries, ABOUT) };
    t = await startTestBot({ env: { OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: server.baseURL, OPENAI_MODEL: 'test-model', OPENAI_EMBEDDING_MODEL: 'test-embed', OPENAI_TIMEOUT_MS: '800' } });
  });
  afterAll(async () => { await t?.close(); await server?.close(); });

  it('answers with the entry the vectors found, in the entry\'s own words', async () => {
    const invoice = entries.find((e) => e.id === 'invoice')!;
    const answer = answerIn(invoice, 'zh').slice(0, 12);
    await vi.waitFor(async () => {
      await talk(t.url).user('报销用的票怎么弄').expectReply(answer);
    }, { timeout: 15_000, interval: 200 });
    expect(server.requests.some((r) => r.path === '/v1/embeddings' && JSON.stringify(r.body).includes('报销用的票怎么弄'))).toBe(true);
  });

  it('an order number, a phone tail or a flow\'s answer is never sent to be embedded', async () => {
    await talk(t.url).user('E20261030002 到哪了').expectReply(/./);
    await talk(t.url).user('查一下我的订单').expectReply(/订单号|order number/).user('E20261029001').expectReply(/./);
    const embedded = server.requests.filter((r) => r.path === '/v1/embeddings').map((r) => r.raw).join('\n');
    expect(embedded).not.toMatch(/E2026103000|E20261029001/);
    // A question the rules did not place is embedded.
    await talk(t.url).user('票据报销咋整').expectReply(/./);
    expect(server.requests.some((r) => r.path === '/v1/embeddings' && r.raw.includes('票据报销咋整'))).toBe(true);
  });

  it('the embeddings failing leaves the words to answer, in the same turn', async () => {
    server.fallback = { status: 500 };
    const before = server.requests.length;
    const started = Date.now();
    // Words alone ask back here ("您是想问…"), or say they did not understand: never an error.
    await talk(t.url).user('东西报销用的票怎么搞').expectReply(/您是想问|没有完全理解|人工|转/);
    expect(Date.now() - started).toBeLessThan(3000);
    const asked = server.requests.slice(before);
    expect(asked.some((r) => r.path === '/v1/embeddings' && r.raw.includes('东西报销用的票怎么搞'))).toBe(true);
    // The provider just failed: the turn asks it nothing more (one time limit, not two).
    expect(asked.some((r) => r.path === '/v1/chat/completions' && r.raw.includes('东西报销用的票怎么搞'))).toBe(false);
    server.fallback = { embeddings: knowingModel(entries, ABOUT) };
  });
});

describe('npm run faq:eval -- --llm with an embeddings model', () => {
  it('prints the bot with embeddings beside the bot', async () => {
    const server = await startFakeOpenAi();
    server.fallback = { embeddings: knowingModel(entries, ABOUT) };
    try {
      const dir = await mkdtemp(join(tmpdir(), 'faq-emb-'));
      await copyFile(new URL('scripts/faq.csv', ROOT), join(dir, 'faq.csv'));
      await copyFile(new URL('scripts/synonyms.yaml', ROOT), join(dir, 'synonyms.yaml'));
      await writeFile(join(dir, 'cases.csv'), 'query,expected_id\n买错了想还回去,seven_day_return\n报销用的票怎么弄,invoice\n明天天气怎么样,\n');
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OPENAI_')));
      const { stdout } = await run('npx', ['tsx', 'tools/faq-eval.ts', '--faq', join(dir, 'faq.csv'), '--cases', join(dir, 'cases.csv'), '--baseline', 'off', '--llm'], {
        cwd: ROOT,
        env: { ...env, OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: server.baseURL, OPENAI_MODEL: 'test-model', OPENAI_EMBEDDING_MODEL: 'test-embed', OPENAI_TIMEOUT_MS: '1000' },
      });
      const [bot, helped] = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);
      expect(bot).toMatchObject({ system: 'bot', top1: 0 });
      expect(helped).toMatchObject({ system: 'bot+llm+embeddings', n: 3, top1: 1, falseAnswerRate: 0, oosRejectRate: 1 });
      expect(helped?.embeddingCalls).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  }, 60_000);
});
