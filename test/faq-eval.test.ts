/**
 * The FAQ evaluation: its figures as DESIGN.md defines them, the command end to end on a tiny
 * FAQ, and the shipped evaluation set (its size, and that its questions are not the entries').
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { evaluate, parseCasesCsv, synthesizeEntries, type FaqSystem, type SystemAnswer } from '../src/knowledge/eval.ts';
import { answerIn, parseFaqCsv } from '../src/knowledge/faq.ts';
import { questionKey } from '../src/knowledge/unanswered.ts';

const run = promisify(execFile);
const ROOT = new URL('../', import.meta.url);

/** A system that answers from a table, so every figure can be worked out by hand. */
function scripted(answers: Record<string, SystemAnswer>): FaqSystem {
  return { name: 'scripted', ask: (q) => answers[q] ?? { ranked: [], kind: 'abstain' } };
}

describe('evaluate', () => {
  it('computes the figures as DESIGN.md defines them', () => {
    const cases = [
      { query: 'right', expected: 'a' }, // answered with a: top1
      { query: 'wrong', expected: 'a' }, // answered with b: a false answer; a is ranked 2nd
      { query: 'asked', expected: 'b' }, // clarified: neither; b ranked 1st
      { query: 'silent', expected: 'c' }, // abstained, c not ranked
      { query: 'oos-answered', expected: '' }, // answered though nothing fits: a false answer
      { query: 'oos-asked', expected: '' }, // clarified: not answered, so rejected
      { query: 'oos-silent', expected: '' }, // rejected
      { query: 'right-2', expected: 'b' }, // answered with b: top1
    ];
    const system = scripted({
      right: { ranked: ['a', 'b'], kind: 'answer', answerId: 'a' },
      wrong: { ranked: ['b', 'a'], kind: 'answer', answerId: 'b' },
      asked: { ranked: ['b', 'c'], kind: 'clarify' },
      silent: { ranked: ['a'], kind: 'abstain' },
      'oos-answered': { ranked: ['a'], kind: 'answer', answerId: 'a' },
      'oos-asked': { ranked: ['a', 'b'], kind: 'clarify' },
      'oos-silent': { ranked: [], kind: 'abstain' },
      'right-2': { ranked: ['b'], kind: 'answer', answerId: 'b' },
    });
    const report = evaluate(system, cases);
    expect(report).toMatchObject({
      system: 'scripted',
      n: 8,
      top1: 0.4, // 2 of 5 in scope
      mrr: 0.7, // (1 + 1/2 + 1 + 0 + 1) / 5
      answerRate: 0.5, // 4 of 8
      clarifyRate: 0.25,
      abstainRate: 0.25,
      falseAnswerRate: 0.25, // wrong + oos-answered, of all 8
      oosRejectRate: 0.6667, // 2 of 3
    });
    expect(report.p50Ms).toBeGreaterThanOrEqual(0);
    expect(report.p99Ms).toBeGreaterThanOrEqual(report.p50Ms);
  });

  it('gives null where a figure has no cases to be about', () => {
    const report = evaluate(scripted({}), [{ query: 'x', expected: '' }]);
    expect(report).toMatchObject({ top1: null, mrr: null, oosRejectRate: 1, falseAnswerRate: 0 });
  });
});

describe('npm run faq:eval', () => {
  it('prints one JSON line for the bot and one for the baseline, with the figures of the cases', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faq-eval-'));
    const faq = [
      'id,question,answer,alternates,tags',
      'shipping_fee,运费怎么算?,满99包邮。,包邮吗|要运费吗|邮费多少|免运费吗|is shipping free,运费',
      'invoice,可以开发票吗?,可以开电子发票。,怎么开发票|能开票吗|要发票|invoice please,发票',
      'washing,衣服怎么洗?,冷水手洗。,可以机洗吗|能用洗衣机吗|洗涤方法|how to wash,保养',
    ].join('\n');
    const cases = ['query,expected_id', '运费怎么算?,shipping_fee', '可以开发票吗?,invoice', '衣服怎么洗?,washing', '明天会下雨吗,'].join('\n');
    await writeFile(join(dir, 'faq.csv'), faq);
    await writeFile(join(dir, 'cases.csv'), cases);
    const { stdout } = await run('npx', ['tsx', 'tools/faq-eval.ts', '--faq', join(dir, 'faq.csv'), '--cases', join(dir, 'cases.csv')], { cwd: ROOT });
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    const keys = ['n', 'top1', 'mrr', 'answerRate', 'clarifyRate', 'abstainRate', 'falseAnswerRate', 'oosRejectRate', 'p50Ms', 'p99Ms'];
    for (const line of lines) for (const k of keys) expect(line, k).toHaveProperty(k);
    expect(lines[0]).toMatchObject({ system: 'bot', n: 4, top1: 1, mrr: 1, falseAnswerRate: 0, oosRejectRate: 1 });
    expect(lines[1]).toMatchObject({ system: 'baseline-minisearch-default', n: 4 });
  }, 30_000);
});

describe('the shipped evaluation set (eval/demo-cases.csv)', () => {
  it('has 80+ FAQ entries with both languages, 4–10 alternates and tags, and 400+ cases with 15%+ that no entry answers', async () => {
    const { entries, problems } = parseFaqCsv(await readFile(new URL('scripts/faq.csv', ROOT), 'utf8'), 'faq.csv');
    expect(problems).toEqual([]);
    expect(entries.length).toBeGreaterThanOrEqual(80);
    for (const e of entries) {
      expect(e.alternates.length, e.id).toBeGreaterThanOrEqual(4);
      expect(e.alternates.length, e.id).toBeLessThanOrEqual(10);
      expect(e.tags.length, e.id).toBeGreaterThan(0);
      expect(answerIn(e, 'en'), e.id).not.toBe(answerIn(e, 'zh'));
    }
    const { cases, problems: caseProblems } = parseCasesCsv(await readFile(new URL('eval/demo-cases.csv', ROOT), 'utf8'));
    expect(caseProblems).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(400);
    expect(cases.filter((c) => !c.expected).length / cases.length).toBeGreaterThanOrEqual(0.15);
    const ids = new Set(entries.map((e) => e.id));
    for (const c of cases) if (c.expected) expect(ids.has(c.expected), c.query).toBe(true);
    expect(new Set(cases.map((c) => c.query)).size).toBe(cases.length);
  });

  it('asks nothing that is an entry\'s question or alternate (after normalisation): tuning on those would be tuning on the test', async () => {
    const { entries } = parseFaqCsv(await readFile(new URL('scripts/faq.csv', ROOT), 'utf8'), 'faq.csv');
    const { cases } = parseCasesCsv(await readFile(new URL('eval/demo-cases.csv', ROOT), 'utf8'));
    const wordings = new Map<string, string>();
    for (const e of entries) for (const w of [e.question, ...e.alternates]) wordings.set(questionKey(w), `${e.id}: ${w}`);
    const copied = cases.filter((c) => wordings.has(questionKey(c.query))).map((c) => `${c.query} = ${wordings.get(questionKey(c.query))}`);
    expect(copied).toEqual([]);
  });
});

describe('synthesizeEntries', () => {
  it('makes an FAQ of any size from the real entries, with unique ids', () => {
    const real = parseFaqCsv('id,question,answer,alternates,tags\na,包邮吗?,满99包邮。,运费多少|免运费吗,运费\nb,怎么洗?,冷水洗。,能机洗吗,保养\n', 'x.csv').entries;
    const made = synthesizeEntries(real, 5);
    expect(made).toHaveLength(5);
    expect(new Set(made.map((e) => e.id)).size).toBe(5);
    expect(made[0]?.question).toBe('包邮吗?');
    expect(made[2]?.question).toMatch(/^包邮吗\? /);
  });
});
