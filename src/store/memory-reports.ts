/** In-memory report counters and outcome memory, with the Redis ones' semantics (test/reports.store.test.ts). */
import type { ReportDay, ReportStore } from './types.ts';

const SAMPLES_PER_DAY = 50_000;
const RANKED_PER_DAY = 5_000;
const RANKED_READ = 1_000;
const BLOCK_KEY = '@blocked';

interface DayRecord {
  counters: Map<string, number>;
  distinct: Set<string>;
  samples: string[];
  ranked: Map<string, number>;
}

/** Remembered keys of one subject: key → [at, value]. */
type Memory = Map<string, [number, string]>;

/** Most frequent first; ties in byte order of the text, as a Redis sorted set reads them back. */
function byCount(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0);
}

export function createMemoryReports(isOpen: () => void): ReportStore {
  const days = new Map<string, DayRecord>();
  const memories = new Map<string, Memory>();

  const dayOf = (day: string): DayRecord => {
    let found = days.get(day);
    if (!found) days.set(day, (found = { counters: new Map(), distinct: new Set(), samples: [], ranked: new Map() }));
    return found;
  };
  /** The subject's memory without what is older than the window (the Redis key would have expired). */
  const memoryOf = (subject: string, at: number, windowMs: number): Memory => {
    const memory = memories.get(subject) ?? new Map<string, [number, string]>();
    for (const [key, [when]] of memory) if (at - when >= windowMs) memory.delete(key);
    memories.set(subject, memory);
    return memory;
  };

  return {
    async add(day, change) {
      isOpen();
      const record = dayOf(day);
      const bump = (field: string, by: number): void => { record.counters.set(field, (record.counters.get(field) ?? 0) + by); };
      for (const [field, by] of change.counters) bump(field, by);
      for (const { member, counter } of change.distinct) {
        if (record.distinct.has(member)) continue;
        record.distinct.add(member);
        bump(counter, 1);
      }
      record.samples.push(...change.samples);
      if (record.samples.length > SAMPLES_PER_DAY) record.samples.splice(0, record.samples.length - SAMPLES_PER_DAY);
      for (const text of change.ranked) record.ranked.set(text, (record.ranked.get(text) ?? 0) + 1);
      if (record.ranked.size > RANKED_PER_DAY) {
        const keep = [...record.ranked].sort(byCount).slice(0, RANKED_PER_DAY);
        record.ranked = new Map(keep);
      }
    },

    async read(wanted) {
      isOpen();
      return wanted.map((day): ReportDay => {
        const record = days.get(day);
        if (!record) return { day, counters: {}, samples: [], ranked: [] };
        return {
          day,
          counters: Object.fromEntries(record.counters),
          samples: [...record.samples],
          ranked: [...record.ranked].sort(byCount).slice(0, RANKED_READ),
        };
      });
    },

    async remember(subject, key, value, at, windowMs) {
      isOpen();
      const memory = memoryOf(subject, at, windowMs);
      if (memory.has(BLOCK_KEY)) return 'blocked';
      if (memory.has(key)) return 'repeat';
      memory.set(key, [at, value]);
      return 'first';
    },

    async block(subject, prefix, at, windowMs) {
      isOpen();
      const memory = memoryOf(subject, at, windowMs);
      const taken: string[] = [];
      for (const [key, [, value]] of memory) {
        if (key === BLOCK_KEY || !key.startsWith(prefix)) continue;
        taken.push(value);
        memory.delete(key);
      }
      memory.set(BLOCK_KEY, [at, '']);
      return taken;
    },
  };
}
