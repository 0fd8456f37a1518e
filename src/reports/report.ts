/**
 * A report over a range of days, made from the per-day counters alone (so its cost grows with the
 * range, never with the history): a table per day, per shift, and one per breakdown, each exportable as CSV.
 */
import type { Shift } from '../handover/config.ts';
import type { Text } from '../flows/schema.ts';
import type { ReportDay } from '../store/types.ts';
import { DAY_SCOPE, parseField } from './fields.ts';
import { AUTOMATED_OUTCOMES, METRIC, RESOLUTION_WINDOW_MS } from './recorder.ts';

/** One row of a table: column → value (null when there is nothing to compute it from). */
export type Row = Record<string, string | number | null>;

export interface Table {
  columns: string[];
  rows: Row[];
}

/** The tables of a report, by name (`GET /api/reports.csv?table=<name>`). */
export const TABLES = [
  'days', 'shifts', 'handoff_reasons', 'automated', 'satisfaction', 'complaints', 'returns',
  'order_changes', 'unanswered', 'clarified', 'faq_entries', 'flows', 'events',
] as const;
export type TableName = (typeof TABLES)[number];

export interface Report {
  from: string;
  to: string;
  timeZone: string;
  generatedAt: string;
  /** Automated resolutions counted after this instant may still be taken back (a person within 24 h). */
  provisionalAfter: string;
  shifts: { id: string; name: Text; start: string; end: string }[];
  /** The `days` columns summed over the range (conversations: the sum of each day's distinct ones). */
  totals: Row;
  tables: Record<TableName, Table>;
}

export interface ReportInput {
  from: string;
  to: string;
  /** The days' data, one per day of the range. */
  days: ReportDay[];
  shifts: Shift[];
  timeZone: string;
  now: Date;
}

/** Top lists show this many rows. */
const TOP = 50;

/** Counts and samples of one day, one shift, or a whole range. */
class Bucket {
  private readonly counts = new Map<string, Map<string, number>>();
  private readonly samples = new Map<string, number[]>();

  add(metric: string, detail: string, n: number): void {
    const details = this.counts.get(metric) ?? new Map<string, number>();
    details.set(detail, (details.get(detail) ?? 0) + n);
    this.counts.set(metric, details);
  }

  sample(metric: string, value: number): void {
    const values = this.samples.get(metric) ?? [];
    values.push(value);
    this.samples.set(metric, values);
  }

  get(metric: string, detail = ''): number {
    return this.counts.get(metric)?.get(detail) ?? 0;
  }

  total(metric: string): number {
    let sum = 0;
    for (const n of this.counts.get(metric)?.values() ?? []) sum += n;
    return sum;
  }

  details(metric: string): [string, number][] {
    return [...this.counts.get(metric) ?? []].filter(([, n]) => n !== 0);
  }

  values(metric: string): number[] {
    return this.samples.get(metric) ?? [];
  }

  merge(other: Bucket): void {
    for (const [metric, details] of other.counts) for (const [detail, n] of details) this.add(metric, detail, n);
    for (const [metric, values] of other.samples) for (const v of values) this.sample(metric, v);
  }
}

/** The q-quantile of sorted values, interpolated between neighbours; null for none. */
export function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : Math.round((part / whole) * 1000) / 1000);
const rounded = (n: number | null, digits = 0): number | null => (n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits);

/** The columns of the day and shift tables, after their key columns. */
export const MEASURE_COLUMNS = [
  'conversations', 'new_conversations', 'customer_messages', 'bot_messages', 'agent_messages',
  'automated', ...AUTOMATED_OUTCOMES.map((o) => `automated_${o}`), 'automated_taken_back',
  'handoffs', 'follow_ups', 'handed_over', 'sla_breaches',
  'first_response_count', 'first_response_median_s', 'first_response_p90_s',
  'satisfaction_count', 'satisfaction_avg', 'complaints', 'returns', 'exchanges',
  'faq_answered', 'faq_clarified', 'faq_abstained', 'faq_answer_rate', 'faq_clarify_rate', 'faq_abstain_rate', 'not_understood',
] as const;

function measures(b: Bucket): Row {
  const resolved = (outcome: string): number => b.get(METRIC.auto, outcome) - b.get(METRIC.autoReversed, outcome);
  const frt = [...b.values(METRIC.firstResponse)].sort((x, y) => x - y);
  const scores = b.details(METRIC.satisfaction);
  const rated = scores.reduce((n, [, c]) => n + c, 0);
  const scoreSum = scores.reduce((n, [score, c]) => n + Number(score) * c, 0);
  const answered = b.get(METRIC.event, 'faq_answered');
  const clarified = b.get(METRIC.event, 'faq_clarified');
  const abstained = b.get(METRIC.event, 'faq_abstained');
  const asked = answered + clarified + abstained;
  const row: Row = {
    conversations: b.total(METRIC.conversations),
    new_conversations: b.total(METRIC.newConversations),
    customer_messages: b.total(METRIC.customerMessages),
    bot_messages: b.total(METRIC.botMessages),
    agent_messages: b.total(METRIC.agentMessages),
    automated: AUTOMATED_OUTCOMES.reduce((n, o) => n + resolved(o), 0),
  };
  for (const o of AUTOMATED_OUTCOMES) row[`automated_${o}`] = resolved(o);
  Object.assign(row, {
    automated_taken_back: b.total(METRIC.autoReversed),
    handoffs: b.total(METRIC.handoff),
    follow_ups: b.total(METRIC.followUp),
    handed_over: b.total(METRIC.handedOver),
    sla_breaches: b.total(METRIC.slaBreach),
    first_response_count: frt.length,
    first_response_median_s: rounded(quantile(frt, 0.5)),
    first_response_p90_s: rounded(quantile(frt, 0.9)),
    satisfaction_count: rated,
    satisfaction_avg: rated === 0 ? null : rounded(scoreSum / rated, 2),
    complaints: b.total(METRIC.complaint),
    returns: b.total(METRIC.returnReason),
    exchanges: b.total(METRIC.exchangeReason),
    faq_answered: answered,
    faq_clarified: clarified,
    faq_abstained: abstained,
    faq_answer_rate: ratio(answered, asked),
    faq_clarify_rate: ratio(clarified, asked),
    faq_abstain_rate: ratio(abstained, asked),
    not_understood: b.get(METRIC.event, 'not_understood'),
  });
  return row;
}

/** Rows of one metric's details, most frequent first. */
function breakdown(b: Bucket, metric: string, column: string, limit = Infinity): Row[] {
  return b.details(metric)
    .sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))
    .slice(0, limit)
    .map(([detail, count]) => ({ [column]: detail, count }));
}

export function buildReport(input: ReportInput): Report {
  const byDay = new Map<string, Bucket>();
  /** Keyed `<day the shift started>|<shift id>`. */
  const byShift = new Map<string, Bucket>();
  const ranked = new Map<string, Map<string, number>>();
  const bucket = (map: Map<string, Bucket>, key: string): Bucket => {
    let found = map.get(key);
    if (!found) map.set(key, (found = new Bucket()));
    return found;
  };
  const scopeBucket = (day: string, scope: string): Bucket => (scope === DAY_SCOPE ? bucket(byDay, day) : bucket(byShift, `${day}|${scope}`));

  for (const data of input.days) {
    for (const [field, n] of Object.entries(data.counters)) {
      const f = parseField(field);
      if (f) scopeBucket(data.day, f.scope).add(f.metric, f.detail, n);
    }
    for (const entry of data.samples) {
      const f = parseField(entry);
      const value = Number(f?.detail);
      if (f && Number.isFinite(value)) scopeBucket(data.day, f.scope).sample(f.metric, value);
    }
    for (const [entry, count] of data.ranked) {
      const f = parseField(entry);
      if (!f || f.scope !== DAY_SCOPE) continue;
      const texts = ranked.get(f.metric) ?? new Map<string, number>();
      texts.set(f.detail, (texts.get(f.detail) ?? 0) + count);
      ranked.set(f.metric, texts);
    }
  }

  const days = input.days.map((d) => d.day);
  const total = new Bucket();
  for (const day of days) total.merge(bucket(byDay, day));

  // Shifts of the library now, then any other id found in the data (a shift renamed since).
  const shiftIds = [...input.shifts.map((s) => s.id)];
  for (const key of byShift.keys()) {
    const id = key.slice(key.indexOf('|') + 1);
    if (!shiftIds.includes(id)) shiftIds.push(id);
  }
  const shiftName = (id: string): string => input.shifts.find((s) => s.id === id)?.name.zh ?? id;

  const top = (metric: string): Row[] => [...ranked.get(metric) ?? []]
    .sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))
    .slice(0, TOP)
    .map(([question, count]) => ({ question, count }));

  const measureColumns = [...MEASURE_COLUMNS];
  const tables: Record<TableName, Table> = {
    days: { columns: ['day', ...measureColumns], rows: days.map((day) => ({ day, ...measures(bucket(byDay, day)) })) },
    shifts: {
      columns: ['day', 'shift', 'shift_name', ...measureColumns],
      rows: days.flatMap((day) => shiftIds.map((shift) => ({ day, shift, shift_name: shiftName(shift), ...measures(bucket(byShift, `${day}|${shift}`)) }))),
    },
    handoff_reasons: {
      columns: ['kind', 'reason', 'count'],
      rows: [
        ...breakdown(total, METRIC.handoff, 'reason').map((r) => ({ kind: 'handoff', ...r })),
        ...breakdown(total, METRIC.followUp, 'reason').map((r) => ({ kind: 'follow_up', ...r })),
      ],
    },
    automated: {
      columns: ['outcome', 'counted', 'taken_back', 'resolved', 'with_person_before'],
      rows: AUTOMATED_OUTCOMES.map((outcome) => ({
        outcome,
        counted: total.get(METRIC.auto, outcome),
        taken_back: total.get(METRIC.autoReversed, outcome),
        resolved: total.get(METRIC.auto, outcome) - total.get(METRIC.autoReversed, outcome),
        with_person_before: total.get(METRIC.autoAssisted, outcome),
      })),
    },
    satisfaction: { columns: ['score', 'count'], rows: [5, 4, 3, 2, 1].map((score) => ({ score, count: total.get(METRIC.satisfaction, String(score)) })) },
    complaints: { columns: ['category', 'count'], rows: breakdown(total, METRIC.complaint, 'category') },
    returns: {
      columns: ['kind', 'reason', 'count'],
      rows: [
        ...breakdown(total, METRIC.returnReason, 'reason').map((r) => ({ kind: 'return', ...r })),
        ...breakdown(total, METRIC.exchangeReason, 'reason').map((r) => ({ kind: 'exchange', ...r })),
      ],
    },
    order_changes: { columns: ['change', 'count'], rows: breakdown(total, METRIC.orderChange, 'change') },
    unanswered: { columns: ['question', 'count'], rows: top(METRIC.unanswered) },
    clarified: { columns: ['question', 'count'], rows: top(METRIC.clarified) },
    faq_entries: { columns: ['entry', 'count'], rows: breakdown(total, METRIC.faqEntry, 'entry', TOP) },
    flows: { columns: ['flow', 'count'], rows: breakdown(total, METRIC.flow, 'flow') },
    events: { columns: ['event', 'count'], rows: breakdown(total, METRIC.event, 'event') },
  };

  return {
    from: input.from,
    to: input.to,
    timeZone: input.timeZone,
    generatedAt: input.now.toISOString(),
    provisionalAfter: new Date(input.now.getTime() - RESOLUTION_WINDOW_MS).toISOString(),
    shifts: input.shifts.map((s) => ({ id: s.id, name: s.name, start: s.start, end: s.end })),
    totals: measures(total),
    tables,
  };
}

/** A cell as CSV: quoted when needed; text that a spreadsheet would run as a formula is prefixed with '. */
function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A table as CSV (RFC 4180, CRLF), with a byte-order mark so spreadsheet programs read the Chinese right. */
export function tableToCsv(table: Table): string {
  const lines = [table.columns.join(','), ...table.rows.map((row) => table.columns.map((c) => csvCell(row[c] ?? null)).join(','))];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
