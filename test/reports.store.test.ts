/** Report counters in both stores (one contract), and the pure parts: placement in days and shifts, quantiles, CSV. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../src/store/memory.ts';
import { createRedisStore } from '../src/store/redis.ts';
import type { ReportStore, Store } from '../src/store/types.ts';
import { deleteKeys, describeRedis, uniqueKeyPrefix } from './support/redis.ts';
import { placementOf, daysFrom, isDay, localDay } from '../src/reports/fields.ts';
import { quantile, tableToCsv } from '../src/reports/report.ts';
import { questionKey } from '../src/reports/recorder.ts';
import { batchedReports } from '../src/reports/batch.ts';
import type { Shift } from '../src/handover/config.ts';

const HOUR = 3_600_000;
const empty = { counters: [], distinct: [], samples: [], ranked: [] };

function reportStoreContract(make: () => Promise<Store>): void {
  let store: Store;
  let reports: ReportStore;
  beforeAll(async () => {
    store = await make();
    reports = store.reports;
  });
  afterAll(async () => { await store?.close(); });

  it('adds counters per day; distinct members count once a day', async () => {
    await reports.add('2026-03-10', { ...empty, counters: [['|customer_messages|', 2], ['day|customer_messages|', 2]], distinct: [{ member: '|conversations|web:a', counter: '|conversations|' }] });
    await reports.add('2026-03-10', { ...empty, counters: [['|customer_messages|', 1]], distinct: [{ member: '|conversations|web:a', counter: '|conversations|' }, { member: '|conversations|web:b', counter: '|conversations|' }] });
    await reports.add('2026-03-11', { ...empty, distinct: [{ member: '|conversations|web:a', counter: '|conversations|' }] });
    const [day, next, none] = await reports.read(['2026-03-10', '2026-03-11', '2026-03-12']);
    expect(day).toEqual({ day: '2026-03-10', counters: { '|customer_messages|': 3, 'day|customer_messages|': 2, '|conversations|': 2 }, samples: [], ranked: [] });
    expect(next!.counters).toEqual({ '|conversations|': 1 });
    expect(none).toEqual({ day: '2026-03-12', counters: {}, samples: [], ranked: [] });
  });

  it('keeps samples in order and ranks texts by count', async () => {
    await reports.add('2026-04-01', { ...empty, samples: ['|first_response|60', '|first_response|120'], ranked: ['|unanswered|火星天气', '|unanswered|几点关门'] });
    await reports.add('2026-04-01', { ...empty, samples: ['|first_response|30'], ranked: ['|unanswered|几点关门'] });
    const [day] = await reports.read(['2026-04-01']);
    expect(day!.samples).toEqual(['|first_response|60', '|first_response|120', '|first_response|30']);
    expect(day!.ranked).toEqual([['|unanswered|几点关门', 2], ['|unanswered|火星天气', 1]]);
  });

  it('remembers a key once per window; a block takes back what was remembered within it and blocks the subject', async () => {
    const t0 = Date.parse('2026-03-10T02:00:00Z');
    expect(await reports.remember('web:x', 'auto:faq', 'faq#A', t0, 24 * HOUR)).toBe('first');
    expect(await reports.remember('web:x', 'auto:faq', 'faq#B', t0 + HOUR, 24 * HOUR)).toBe('repeat');
    expect(await reports.remember('web:x', 'auto:order', 'order#C', t0 + HOUR, 24 * HOUR)).toBe('first');
    expect(await reports.remember('web:x', 'other', 'D', t0 + HOUR, 24 * HOUR)).toBe('first');
    expect((await reports.block('web:x', 'auto:', t0 + 2 * HOUR, 24 * HOUR)).sort()).toEqual(['faq#A', 'order#C']);
    expect(await reports.block('web:x', 'auto:', t0 + 3 * HOUR, 24 * HOUR)).toEqual([]);
    expect(await reports.remember('web:x', 'auto:faq', 'faq#E', t0 + 4 * HOUR, 24 * HOUR)).toBe('blocked');
    // Another subject is untouched; an old memory is past its window.
    expect(await reports.remember('web:y', 'auto:faq', 'faq#F', t0, 24 * HOUR)).toBe('first');
    expect(await reports.remember('web:y', 'auto:faq', 'faq#G', t0 + 25 * HOUR, 24 * HOUR)).toBe('first');
    expect(await reports.block('web:y', 'auto:', t0 + 50 * HOUR, 24 * HOUR)).toEqual([]);
  });
}

describe('report store (memory)', () => {
  reportStoreContract(async () => createMemoryStore());
});

describeRedis('report store (redis)', (server) => {
  const prefix = uniqueKeyPrefix('reports');
  reportStoreContract(() => createRedisStore(server().url, { keyPrefix: prefix }));
  afterAll(async () => { await deleteKeys(server().url, prefix); });
});

describe('report placement and figures', () => {
  const day: Shift = { id: 'day', name: { zh: '白班', en: 'Day shift' }, start: '09:00', end: '21:00', staffed: true };
  const night: Shift = { id: 'night', name: { zh: '夜班', en: 'Night shift' }, start: '21:00', end: '09:00', staffed: true };
  const tz = 'Asia/Shanghai';

  it('places an instant in the shop-local day and the shift it began in', () => {
    expect(placementOf(new Date('2026-03-10T10:00:00+08:00'), day, tz)).toEqual({ day: '2026-03-10', shift: 'day', shiftDay: '2026-03-10' });
    expect(placementOf(new Date('2026-03-10T22:30:00+08:00'), night, tz)).toEqual({ day: '2026-03-10', shift: 'night', shiftDay: '2026-03-10' });
    expect(placementOf(new Date('2026-03-11T03:00:00+08:00'), night, tz)).toEqual({ day: '2026-03-11', shift: 'night', shiftDay: '2026-03-10' });
    // 23:30 UTC is already the next day in Shanghai.
    expect(localDay(new Date('2026-03-10T23:30:00Z'), tz)).toBe('2026-03-11');
    expect(daysFrom('2026-02-27', '2026-03-02')).toEqual(['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']);
    expect([isDay('2026-02-29'), isDay('2028-02-29'), isDay('2026-1-01')]).toEqual([false, true, false]);
  });

  it('counts a question the way the FAQ reads it', () => {
    expect(questionKey('  火星天氣？ ')).toBe('火星天气');
    expect(questionKey('ＤＯ YOU SHIP  abroad?!')).toBe('do you ship abroad');
  });

  it('interpolates quantiles', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([60, 120], 0.5)).toBe(90);
    expect(quantile([60, 120], 0.9)).toBeCloseTo(114);
    expect(quantile([10, 20, 30, 40, 50], 0.5)).toBe(30);
  });

  it('writes CSV a spreadsheet opens safely: BOM, quoting, no formulas from customers', () => {
    const csv = tableToCsv({ columns: ['question', 'count'], rows: [{ question: '包邮吗,运费', count: 2 }, { question: '=HYPERLINK("x")', count: 1 }, { question: null, count: -1 }] });
    expect(csv).toBe('\uFEFFquestion,count\r\n"包邮吗,运费",2\r\n"\'=HYPERLINK(""x"")",1\r\n,-1\r\n');
  });
});

describe('report counters written in batches', () => {
  /** A report store that counts its writes and can be made to fail. */
  function counting(): { store: ReportStore; writes: () => number; failNext: () => void } {
    const inner = createMemoryStore().reports;
    let writes = 0;
    let fail = false;
    return {
      store: {
        ...inner,
        add: async (day, change) => {
          writes += 1;
          if (fail) { fail = false; throw new Error('redis down'); }
          await inner.add(day, change);
        },
      },
      writes: () => writes,
      failNext: () => { fail = true; },
    };
  }
  const quietLog = { warnings: [] as string[], warn(obj: object, msg?: string) { this.warnings.push(`${msg} ${JSON.stringify(obj)}`); } };

  it('sums many turns into one write per day, and a read sees them at once', async () => {
    const c = counting();
    const batched = batchedReports(c.store, { flushMs: 60_000, log: quietLog });
    for (let i = 0; i < 50; i++) {
      await batched.add('2026-05-01', { ...empty, counters: [['|customer_messages|', 1]], distinct: [{ member: `|conversations|web:${i % 5}`, counter: '|conversations|' }], samples: [`|first_response|${i}`] });
    }
    await batched.add('2026-05-02', { ...empty, counters: [['|customer_messages|', 1]] });
    expect(c.writes()).toBe(0);
    const [day, next] = await batched.read(['2026-05-01', '2026-05-02']);
    expect(c.writes()).toBe(2);
    expect(day!.counters).toEqual({ '|customer_messages|': 50, '|conversations|': 5 });
    expect(day!.samples).toHaveLength(50);
    expect(next!.counters).toEqual({ '|customer_messages|': 1 });
    await batched.close();
  });

  it('writes by itself after the interval, and a failed write is logged, not thrown', async () => {
    const c = counting();
    const batched = batchedReports(c.store, { flushMs: 20, log: quietLog });
    c.failNext();
    await batched.add('2026-05-03', { ...empty, counters: [['|customer_messages|', 1]] });
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(c.writes()).toBe(1);
    expect(quietLog.warnings.join('\n')).toMatch(/report counters not recorded.*redis down/);
    await batched.add('2026-05-03', { ...empty, counters: [['|customer_messages|', 2]] });
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(c.writes()).toBe(2);
    const [day] = await c.store.read(['2026-05-03']);
    expect(day!.counters).toEqual({ '|customer_messages|': 2 });
    await batched.close();
  });
});
