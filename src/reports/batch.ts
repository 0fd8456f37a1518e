/**
 * Report counters written in batches: every turn changes a few counters of the day, and one
 * store write per turn cost a tenth of a turn's time at a sale's peak. Changes are summed in
 * memory and written together every `flushMs`; a read in this process writes what is pending
 * first, so a report is never behind this process's own turns. A crash loses at most the
 * last `flushMs` of counters, never a conversation, a ticket or a message.
 */
import type { ReportChange, ReportStore } from '../store/types.ts';

/** Options of {@link batchedReports}. */
export interface BatchOptions {
  /** How long changes wait before they are written (default 250 ms). */
  flushMs?: number;
  log: { warn(obj: object, msg?: string): void };
}

/** A report store that batches `add`; `flush` writes what is pending, `close` stops the timer after a last flush. */
export interface BatchedReports extends ReportStore {
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** The sum of several changes of one day. */
class DayChanges {
  private readonly counters = new Map<string, number>();
  private readonly distinct = new Map<string, string>();
  private readonly samples: string[] = [];
  private readonly ranked: string[] = [];

  add(change: ReportChange): void {
    for (const [field, by] of change.counters) this.counters.set(field, (this.counters.get(field) ?? 0) + by);
    for (const { member, counter } of change.distinct) this.distinct.set(member, counter);
    this.samples.push(...change.samples);
    this.ranked.push(...change.ranked);
  }

  toChange(): ReportChange {
    return {
      counters: [...this.counters],
      distinct: [...this.distinct].map(([member, counter]) => ({ member, counter })),
      samples: this.samples,
      ranked: this.ranked,
    };
  }
}

export function batchedReports(store: ReportStore, opts: BatchOptions): BatchedReports {
  const flushMs = opts.flushMs ?? 250;
  let pending = new Map<string, DayChanges>();
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  function flush(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = new Map();
    // Writes stay in order: a flush starts after the one before it ended.
    writing = writing.then(async () => {
      const results = await Promise.allSettled([...batch].map(([day, changes]) => store.add(day, changes.toChange())));
      for (const r of results) {
        if (r.status === 'rejected') opts.log.warn({ err: r.reason instanceof Error ? r.reason.message : String(r.reason) }, 'report counters not recorded');
      }
    });
    return writing;
  }

  return {
    async add(day, change) {
      let changes = pending.get(day);
      if (!changes) pending.set(day, (changes = new DayChanges()));
      changes.add(change);
      if (!timer) {
        timer = setTimeout(() => void flush(), flushMs);
        timer.unref();
      }
    },
    async read(days) {
      await flush();
      return store.read(days);
    },
    remember: (...args) => store.remember(...args),
    block: (...args) => store.block(...args),
    flush,
    async close() {
      await flush();
    },
  };
}
