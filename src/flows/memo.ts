/**
 * Remembered answers of pure functions of a message's text, per compiled library: customers
 * write the same short things again and again ("在吗", "包邮吗", "转人工"), and reading a text
 * (understanding, FAQ ranking) is most of a turn's time. A library is immutable, so an answer
 * stays right as long as the library does; a new version compiles new memos.
 */
import { deepFreeze } from '../shared/freeze.ts';

/** Default number of texts remembered per function. */
export const MEMO_SIZE = 5_000;

/** How often a memo answered from memory, for the benchmarks and /metrics. */
export interface MemoStats {
  hits: number;
  misses: number;
}

/**
 * `fn` with its last `size` distinct keys remembered (least recently used forgotten first).
 * Results are deep-frozen, or frozen by `freeze` (for results holding objects of the library
 * that must not be frozen with them). `size` 0 remembers nothing.
 */
export function remembered<A extends unknown[], R>(
  fn: (...args: A) => R,
  key: (...args: A) => string,
  opts: { size?: number; freeze?: (result: R) => R; stats?: MemoStats } = {},
): (...args: A) => R {
  const size = opts.size ?? MEMO_SIZE;
  if (size <= 0) return fn;
  const freeze = opts.freeze ?? deepFreeze;
  const memory = new Map<string, R>();
  return (...args: A): R => {
    const k = key(...args);
    const found = memory.get(k);
    if (found !== undefined || memory.has(k)) {
      // Most recently used last: delete and set again.
      memory.delete(k);
      memory.set(k, found as R);
      if (opts.stats) opts.stats.hits += 1;
      return found as R;
    }
    if (opts.stats) opts.stats.misses += 1;
    const result = freeze(fn(...args));
    memory.set(k, result);
    if (memory.size > size) memory.delete(memory.keys().next().value as string);
    return result;
  };
}
