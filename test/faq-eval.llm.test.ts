/**
 * `npm run faq:eval -- --llm`: the bot helped by a model where the FAQ is unsure, measured with
 * the same figures. Against the local OpenAI-compatible stand-in only (no network): a model that
 * picks the expected entry for half the questions, one that cites an entry it was not offered,
 * and one that times out. Also resolveWithModel and modelCandidates on their own.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseCasesCsv, type EvalCase } from '../src/knowledge/eval.ts';
import { createFaqIndex, parseFaqCsv, type FaqEntry, type FaqIndex } from '../src/knowledge/faq.ts';
import { modelCandidates, resolveWithModel } from '../src/knowledge/model-resolve.ts';
import type { LlmWordedAnswer, WordAnswerInput } from '../src/llm/types.ts';
import { startFakeOpenAi, type FakeOpenAi, type ReceivedRequest, type ScriptedReply } from './support/openai-server.ts';

const run = promisify(execFile);
const ROOT = new URL('../', import.meta.url);

type Report = Record<string, unknown> & {
  system: string; n: number; top1: number; mrr: number; answerRate: number; clarifyRate: number; abstainRate: number;
  falseAnswerRate: number; oosRejectRate: number; p50Ms: number; p99Ms: number;
  modelAsked?: number; modelPicked?: number; modelCalls?: number;
  modelFailures?: Record<string, number>; modelDiscarded?: Record<string, number>;
};

const FIGURES = ['n', 'top1', 'mrr', 'answerRate', 'clarifyRate', 'abstainRate', 'falseAnswerRate', 'oosRejectRate', 'p50Ms', 'p99Ms'];
const DECISION_FIGURES = ['n', 'top1', 'mrr', 'answerRate', 'clarifyRate', 'abstainRate', 'falseAnswerRate', 'oosRejectRate'] as const;

let model: FakeOpenAi;
let dir: string;
let entries: FaqEntry[];
let index: FaqIndex;
/** The cases of the run, and what the in-process index does with each. */
let cases: (EvalCase & { answeredId: string | null; candidates: string[] })[];

/** The question a wordAnswer request carries, and the entries it offers (id → answer text). */
function requestOf(req: ReceivedRequest): { question: string; offered: Map<string, string> } {
  const user = req.messages.find((m) => m.role === 'user')?.content ?? '';
  const system = req.messages.find((m) => m.role === 'system')?.content ?? '';
  const question = /<customer_question>\n([\s\S]*)\n<\/customer_question>/.exec(user)?.[1] ?? '';
  const json = /FAQ entries \(JSON\):\n([\s\S]*?)\n\nOutput:/.exec(system)?.[1] ?? '[]';
  const list = JSON.parse(json) as { id: string; answer: string }[];
  return { question, offered: new Map(list.map((e) => [e.id, e.answer])) };
}

/** Runs the eval command on the chosen cases with the stand-in model; returns its lines. */
async function evalWithModel(extraEnv: Record<string, string> = {}): Promise<Report[]> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OPENAI_')));
  const { stdout } = await run('npx', ['tsx', 'tools/faq-eval.ts', '--faq', join(dir, 'faq.csv'), '--cases', join(dir, 'cases.csv'), '--baseline', 'off', '--llm'], {
    cwd: ROOT,
    env: { ...env, OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: model.baseURL, OPENAI_MODEL: 'test-model', OPENAI_TIMEOUT_MS: '1000', ...extraEnv },
  });
  return stdout.trim().split('\n').map((l) => JSON.parse(l) as Report);
}

const share = (k: number, of: number): number => Math.round((k / of) * 10_000) / 10_000;

beforeAll(async () => {
  model = await startFakeOpenAi();
  dir = await mkdtemp(join(tmpdir(), 'faq-eval-llm-'));
  // The shipped FAQ without its synonyms file next to it, so the command and this test build the same index.
  await copyFile(new URL('scripts/faq.csv', ROOT), join(dir, 'faq.csv'));
  entries = parseFaqCsv(await readFile(join(dir, 'faq.csv'), 'utf8'), 'faq.csv').entries;
  index = createFaqIndex(entries);
  const all = parseCasesCsv(await readFile(new URL('eval/demo-cases.csv', ROOT), 'utf8')).cases.map((c) => {
    const inspection = index.inspect(c.query, 10);
    return {
      ...c,
      answeredId: inspection.decision.kind === 'answer' ? inspection.decision.entry.id : null,
      candidates: modelCandidates(inspection).map((e) => e.id),
    };
  });
  // A small mix, so the timeout run stays short: questions the model may rescue (the expected
  // entry offered), questions the bot answers itself, and out-of-scope ones with candidates and without.
  const rescuable = all.filter((c) => c.expected && !c.answeredId && c.candidates.includes(c.expected)).slice(0, 12);
  const answered = all.filter((c) => c.expected && c.answeredId).slice(0, 4);
  const oosAsked = all.filter((c) => !c.expected && c.candidates.length > 0 && !c.answeredId).slice(0, 4);
  const oosQuiet = all.filter((c) => !c.expected && c.candidates.length === 0 && !c.answeredId).slice(0, 2);
  cases = [...rescuable, ...answered, ...oosAsked, ...oosQuiet];
  expect(rescuable).toHaveLength(12);
  expect(oosAsked.length).toBeGreaterThan(1);
  const csv = ['query,expected_id', ...cases.map((c) => `"${c.query.replace(/"/g, '""')}",${c.expected}`)].join('\n');
  await writeFile(join(dir, 'cases.csv'), `${csv}\n`);
}, 60_000);
afterAll(async () => { await model?.close(); });
beforeEach(() => { model.reset(); });

describe('npm run faq:eval -- --llm', () => {
  it('(a) a model that picks the expected entry for half the questions: top1 goes up by exactly those, and a wrong pick counts as a false answer', async () => {
    // Every other question (in the order of the cases) is resolved: in scope with the expected
    // entry; out of scope with the first offered entry, a wrong answer the figures must count.
    const resolved = new Set(cases.filter((c) => c.candidates.length > 0 && !c.answeredId).filter((_, i) => i % 2 === 0).map((c) => c.query));
    const expectedOf = new Map(cases.map((c) => [c.query, c.expected]));
    model.fallback = {
      reply: (req): ScriptedReply => {
        const { question, offered } = requestOf(req);
        if (!resolved.has(question)) return { json: { answered: false, text: '', citedId: null } };
        const id = expectedOf.get(question) || [...offered.keys()][0] || '';
        return { json: { answered: true, text: offered.get(id) ?? '', citedId: id } };
      },
    };
    const [bot, helped] = await evalWithModel();
    expect(bot?.system).toBe('bot');
    expect(helped?.system).toBe('bot+llm');
    for (const k of FIGURES) expect(helped, k).toHaveProperty(k);

    const inScope = cases.filter((c) => c.expected);
    const rightAlone = inScope.filter((c) => c.answeredId === c.expected).length;
    const wrongAlone = cases.filter((c) => c.answeredId !== null && c.answeredId !== c.expected).length;
    const rescued = inScope.filter((c) => resolved.has(c.query)).length;
    const wronglyPicked = cases.filter((c) => !c.expected && resolved.has(c.query)).length;
    const asked = cases.filter((c) => c.candidates.length > 0 && !c.answeredId).length;
    expect(rescued).toBe(6);
    expect(wronglyPicked).toBeGreaterThan(0);

    expect(bot?.top1).toBe(share(rightAlone, inScope.length));
    expect(helped?.top1).toBe(share(rightAlone + rescued, inScope.length));
    expect(helped!.top1).toBeGreaterThan(bot!.top1);
    expect(bot?.falseAnswerRate).toBe(share(wrongAlone, cases.length));
    expect(helped?.falseAnswerRate).toBe(share(wrongAlone + wronglyPicked, cases.length));
    expect(helped?.answerRate).toBe(share(cases.filter((c) => c.answeredId).length + rescued + wronglyPicked, cases.length));
    expect(helped?.oosRejectRate).toBe(share(cases.filter((c) => !c.expected && !c.answeredId && !resolved.has(c.query)).length, cases.length - inScope.length));
    expect(helped!.mrr).toBeGreaterThanOrEqual(bot!.mrr);
    expect(helped).toMatchObject({ modelAsked: asked, modelPicked: rescued + wronglyPicked, modelCalls: asked, modelDiscarded: { unsupported: asked - rescued - wronglyPicked } });
    // One request per question the bot would have asked back on or left, none for the others.
    expect(model.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(asked);
  }, 60_000);

  it('(b) a model that cites an entry it was not offered: discarded every time, the figures are the bot\'s own', async () => {
    model.fallback = {
      reply: (req): ScriptedReply => {
        const { offered } = requestOf(req);
        const other = entries.find((e) => !offered.has(e.id))!;
        return { json: { answered: true, text: other.answer.split('\n')[0] ?? '', citedId: other.id } };
      },
    };
    const [bot, helped] = await evalWithModel();
    const asked = cases.filter((c) => c.candidates.length > 0 && !c.answeredId).length;
    for (const k of DECISION_FIGURES) expect(helped?.[k], k).toBe(bot?.[k]);
    expect(helped).toMatchObject({ system: 'bot+llm', modelAsked: asked, modelPicked: 0, modelDiscarded: { citation_not_offered: asked } });
  }, 60_000);

  it('(c) a model that times out: the figures are the bot\'s own, and the time per question includes the wait', async () => {
    model.fallback = { delayMs: 1500 };
    const [bot, helped] = await evalWithModel({ OPENAI_TIMEOUT_MS: '200' });
    const asked = cases.filter((c) => c.candidates.length > 0 && !c.answeredId).length;
    for (const k of DECISION_FIGURES) expect(helped?.[k], k).toBe(bot?.[k]);
    expect(helped).toMatchObject({ modelAsked: asked, modelPicked: 0, modelFailures: { timeout: asked } });
    // More than half the questions went to the model, so the median is a model call's time.
    expect(asked * 2).toBeGreaterThan(cases.length);
    expect(helped!.p50Ms).toBeGreaterThanOrEqual(190);
    expect(helped!.p99Ms).toBeLessThan(1500);
    expect(bot!.p99Ms).toBeLessThan(190);
  }, 60_000);

  it('refuses --llm without a key, naming the variable', async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OPENAI_')));
    const failed = await run('npx', ['tsx', 'tools/faq-eval.ts', '--faq', join(dir, 'faq.csv'), '--cases', join(dir, 'cases.csv'), '--llm'], { cwd: ROOT, env })
      .then(() => null, (error: { code?: number; stderr?: string }) => error);
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toMatch(/OPENAI_API_KEY/);
  }, 30_000);
});

describe('resolveWithModel', () => {
  const offered: FaqEntry[] = [
    { id: 'a', question: '包邮吗', answer: '满99包邮。\n---en---\nFree shipping over 99.', alternates: [], tags: [] },
    { id: 'b', question: '开发票吗', answer: '可以开电子发票。', alternates: [], tags: [] },
    { id: 'a', question: 'duplicate', answer: 'x', alternates: [], tags: [] },
  ];
  /** A stand-in Llm without guardrails: whatever it cites is returned as is. */
  function citing(citedId: string | null, seen: WordAnswerInput[] = []): { wordAnswer(input: WordAnswerInput): Promise<LlmWordedAnswer | null> } {
    return { wordAnswer: (input) => { seen.push(input); return Promise.resolve(citedId === null ? null : { text: 'x', citedId }); } };
  }

  it('returns the offered entry the model cites, offering each entry once in the customer\'s language', async () => {
    const seen: WordAnswerInput[] = [];
    expect(await resolveWithModel({ question: 'shipping free?', lang: 'en', candidates: offered }, citing('b', seen))).toBe(offered[1]);
    expect(seen[0]?.entries).toEqual([{ id: 'a', question: '包邮吗', answer: 'Free shipping over 99.' }, { id: 'b', question: '开发票吗', answer: '可以开电子发票。' }]);
  });

  it('never returns an entry that was not offered, and null when the model says none, fails or throws', async () => {
    expect(await resolveWithModel({ question: 'q', lang: 'zh', candidates: offered }, citing('c'))).toBeNull();
    expect(await resolveWithModel({ question: 'q', lang: 'zh', candidates: offered }, citing(null))).toBeNull();
    expect(await resolveWithModel({ question: 'q', lang: 'zh', candidates: offered }, { wordAnswer: () => Promise.reject(new Error('boom')) })).toBeNull();
  });

  it('does not call the model without candidates', async () => {
    const seen: WordAnswerInput[] = [];
    expect(await resolveWithModel({ question: 'q', lang: 'zh', candidates: [] }, citing('a', seen))).toBeNull();
    expect(seen).toHaveLength(0);
  });
});

describe('modelCandidates', () => {
  it('offers a clarify decision\'s entries, an abstaining question\'s close hits (at most 3), and nothing when the bot answers', () => {
    for (const c of cases) {
      const inspection = index.inspect(c.query, 10);
      const got = modelCandidates(inspection);
      expect(got.length).toBeLessThanOrEqual(3);
      if (inspection.decision.kind === 'answer') expect(got).toEqual([]);
      if (inspection.decision.kind === 'clarify') expect(got).toEqual(inspection.decision.entries.slice(0, 3));
      if (inspection.decision.kind === 'abstain') expect(got.map((e) => e.id)).toEqual(inspection.hits.slice(0, got.length).map((h) => h.entry.id));
    }
  });
});
