/** Unanswered FAQ questions counted for managers: near-identical wordings together, most frequent first. */
import { describe, expect, it } from 'vitest';
import { createMemoryUnansweredLog, questionKey, type UnansweredLog } from '../src/knowledge/unanswered.ts';

const at = (minute: number): Date => new Date(Date.UTC(2026, 10, 22, 2, minute));

describe('questionKey', () => {
  it('groups wordings that differ in greetings, particles, punctuation, width, script and emoji', () => {
    const key = questionKey('包邮吗');
    for (const q of ['亲，包邮吗？？', '包邮嘛', '你好 请问包邮吗😊', '包郵嗎', '  包邮吗!! ']) expect(questionKey(q), q).toBe(key);
  });

  it('keeps apart what differs in meaning, and words that only start like a greeting', () => {
    expect(questionKey('不包邮吗')).not.toBe(questionKey('包邮吗'));
    expect(questionKey('亲子装有吗')).toBe('亲子装有');
    expect(questionKey('history of my order')).toBe('historyofmyorder');
  });

  it('reads any order number or long number as the same', () => {
    expect(questionKey('订单E20261029001怎么还没发')).toBe(questionKey('订单e20261015002怎么还没发'));
  });
});

// The contract every UnansweredLog keeps; a Redis one (src/store) joins this list.
const implementations: [string, () => Promise<UnansweredLog>][] = [
  ['memory', async () => createMemoryUnansweredLog()],
];

describe.each(implementations)('unanswered log contract: %s', (_name, newLog) => {
  it('counts near-identical questions together, per kind, most frequent first, showing the first wording', async () => {
    const log = await newLog();
    await log.record('能寄到国外吗？', 'abstained', at(1));
    await log.record('亲，能寄到国外吗', 'abstained', at(5));
    await log.record('能寄到国外吗', 'clarified', at(6));
    await log.record('有童装吗', 'abstained', at(2));
    await log.record('能寄到国外嘛', 'abstained', at(3));
    expect(await log.top(10)).toEqual([
      { question: '能寄到国外吗？', kind: 'abstained', count: 3, lastAt: at(5) },
      { question: '能寄到国外吗', kind: 'clarified', count: 1, lastAt: at(6) },
      { question: '有童装吗', kind: 'abstained', count: 1, lastAt: at(2) },
    ]);
    expect(await log.top(1)).toHaveLength(1);
    expect(await log.top(0)).toEqual([]);
  });

  it('counts only askings at or after `since`', async () => {
    const log = await newLog();
    for (const m of [1, 2, 3]) await log.record('能开收据吗', 'abstained', at(m));
    await log.record('有童装吗', 'abstained', at(10));
    expect(await log.top(10, at(3))).toEqual([
      { question: '有童装吗', kind: 'abstained', count: 1, lastAt: at(10) },
      { question: '能开收据吗', kind: 'abstained', count: 1, lastAt: at(3) },
    ]);
    expect(await log.top(10, at(11))).toEqual([]);
  });

  it('ignores messages with nothing in them', async () => {
    const log = await newLog();
    await log.record('？？？😂', 'abstained', at(0));
    expect(await log.top(10)).toEqual([]);
  });
});

describe('in-memory unanswered log', () => {
  it('forgets the least recently asked question when full', async () => {
    const log = createMemoryUnansweredLog({ maxQuestions: 2 });
    await log.record('问题一', 'abstained', at(1));
    await log.record('问题二', 'abstained', at(2));
    await log.record('问题一', 'abstained', at(3));
    await log.record('问题三', 'abstained', at(4));
    expect((await log.top(10)).map((r) => [r.question, r.count])).toEqual([['问题一', 2], ['问题三', 1]]);
  });
});
