/**
 * Questions the FAQ could not answer directly (it asked back, or abstained), counted with their
 * frequency so managers see which entries to add. Near-identical wordings are counted together.
 */
import { normalize } from '../understanding/text.ts';

/** Why a question is in the log: the FAQ asked which entry was meant, or had none. */
export type UnansweredKind = 'clarified' | 'abstained';

/** One line of the managers' list: a question (as first asked), how often, and when last. */
export interface UnansweredQuestion {
  question: string;
  kind: UnansweredKind;
  count: number;
  lastAt: Date;
}

/**
 * Where unanswered questions are counted. The in-memory log below serves the demo and tests;
 * a Redis one (src/store) keeps counts across processes and restarts.
 */
export interface UnansweredLog {
  /** Counts one question. */
  record(question: string, kind: UnansweredKind, at: Date): Promise<void>;
  /**
   * The most frequent questions, most frequent first (then the most recent), counting only
   * askings at or after `since` when given.
   */
  top(limit: number, since?: Date): Promise<UnansweredQuestion[]>;
}

// What customers add around a question without changing it: greetings and politeness before,
// particles and punctuation after.
// Words that are also the start of other words (亲子装, history) only count before a separator.
const LEADING = /^(?:(?:你好|您好|在吗|在不在|请问一下|请问|问一下|问下|想问一下|想问下|我想问|麻烦问一下)[\s,.。!~～]*|(?:亲亲|亲|哈喽|hello|hi|hey|麻烦)[\s,.。!~～]+)+/u;
const TRAILING_PARTICLES = /[吗呢啊吧呀哦嘛么啦哈呗]+$/u;
const NOT_WORD = /[^\p{L}\p{N}]+/gu;
const ORDER_ID = /[a-z]\d{11}/g;
const LONG_NUMBER = /\d{5,}/g;

/**
 * The key near-identical questions share: normalised (width, case, traditional characters,
 * emoji), greetings and politeness in front and particles at the end dropped, punctuation and
 * spaces removed, order numbers and long numbers replaced by a placeholder.
 * "亲，包邮吗？？" and "包邮嘛" share the key "包邮"; "包邮吗" and "不包邮吗" do not.
 */
export function questionKey(question: string): string {
  let s = normalize(question);
  s = s.replace(ORDER_ID, '#').replace(LONG_NUMBER, '#');
  s = s.replace(LEADING, '');
  s = s.replace(NOT_WORD, '');
  s = s.replace(TRAILING_PARTICLES, '');
  return s;
}

interface Tally {
  question: string;
  kind: UnansweredKind;
  /** Times the question was asked, oldest first (only kept for `since`). */
  times: number[];
  lastAt: number;
}

/** Options of {@link createMemoryUnansweredLog}. */
export interface MemoryUnansweredLogOptions {
  /**
   * At most this many distinct questions are kept (default 10,000): when full, the one asked
   * least recently is forgotten, so a flood of one-off messages cannot grow memory.
   */
  maxQuestions?: number;
  /** At most this many times are kept per question for `since` (default 1,000; older ones are only counted). */
  maxTimesPerQuestion?: number;
}

/**
 * The in-memory log: the demo and tests. Counts are per question key and kind; the question
 * shown is the first wording seen.
 */
export function createMemoryUnansweredLog(opts: MemoryUnansweredLogOptions = {}): UnansweredLog {
  const maxQuestions = opts.maxQuestions ?? 10_000;
  const maxTimes = opts.maxTimesPerQuestion ?? 1_000;
  // Insertion order is recency order: a recorded question is moved to the end.
  const tallies = new Map<string, Tally & { dropped: number }>();
  return {
    async record(question, kind, at) {
      const text = question.trim();
      const key = questionKey(text);
      if (!key) return;
      const id = `${kind}:${key}`;
      const tally = tallies.get(id) ?? { question: text.slice(0, 200), kind, times: [], lastAt: 0, dropped: 0 };
      tallies.delete(id);
      tally.times.push(at.getTime());
      if (tally.times.length > maxTimes) {
        tally.times.shift();
        tally.dropped += 1;
      }
      tally.lastAt = Math.max(tally.lastAt, at.getTime());
      tallies.set(id, tally);
      if (tallies.size > maxQuestions) {
        const oldest = tallies.keys().next().value;
        if (oldest !== undefined) tallies.delete(oldest);
      }
    },
    async top(limit, since) {
      const from = since?.getTime() ?? -Infinity;
      const rows: UnansweredQuestion[] = [];
      for (const t of tallies.values()) {
        const count = since ? t.times.filter((x) => x >= from).length : t.times.length + t.dropped;
        if (count > 0) rows.push({ question: t.question, kind: t.kind, count, lastAt: new Date(t.lastAt) });
      }
      rows.sort((a, b) => b.count - a.count || b.lastAt.getTime() - a.lastAt.getTime());
      return rows.slice(0, Math.max(0, limit));
    },
  };
}
