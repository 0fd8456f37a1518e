/**
 * How report counters are named and placed: every count goes to the shop-local day it happened on
 * and to the shift it happened in, a shift being known by its id and the day it started (a night
 * shift from 21:00 to 09:00 is one shift, counted under the evening it began).
 */
import { localMinutes, type Shift } from '../handover/config.ts';

/** Where an event is counted. */
export interface Placement {
  /** YYYY-MM-DD in the shop's time zone. */
  day: string;
  shift: string;
  /** The day the shift started on (the day before `day` after midnight in a night shift). */
  shiftDay: string;
}

/** The day scope of counter fields; a shift's scope is its id. */
export const DAY_SCOPE = '';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Whether `text` is a calendar date YYYY-MM-DD. */
export function isDay(text: string): boolean {
  if (!DAY.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}

/** One date formatter per time zone: making one costs more than the rest of a report count. */
const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The shop-local date of an instant. */
export function localDay(at: Date, timeZone: string): string {
  let format = dayFormats.get(timeZone);
  if (!format) dayFormats.set(timeZone, (format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  const parts = format.formatToParts(at);
  const part = (type: string): string => parts.find((p) => p.type === type)?.value ?? '00';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** The date `n` days after `day` (before, for negative n). */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/** Every date from `from` to `to`, both included. */
export function daysFrom(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

function minutesOf(time: string): number {
  const [h = 0, m = 0] = time.split(':').map(Number);
  return h * 60 + m;
}

/** Where an instant is counted, given the shift it falls in. */
export function placementOf(at: Date, shift: Shift, timeZone: string): Placement {
  const day = localDay(at, timeZone);
  const start = minutesOf(shift.start);
  // Before the start time while inside the shift: it began the evening before.
  const shiftDay = localMinutes(at, timeZone) < start ? addDays(day, -1) : day;
  return { day, shift: shift.id, shiftDay };
}

/** A placement as one string (kept with an automated outcome, to take it back where it was counted). */
export function encodePlacement(p: Placement): string {
  return `${p.day}|${p.shift}|${p.shiftDay}`;
}

export function decodePlacement(text: string): Placement | null {
  const [day, shift, shiftDay] = text.split('|');
  return day && shift !== undefined && shiftDay && isDay(day) && isDay(shiftDay) ? { day, shift, shiftDay } : null;
}

/** A detail as counted: one line, trimmed, at most 100 characters. */
export function cleanDetail(detail: string): string {
  return detail.replace(/\s+/g, ' ').trim().slice(0, 100);
}

/** The field of a counter: `<scope>|<metric>|<detail>` (the detail may itself contain `|`). */
export function fieldOf(scope: string, metric: string, detail = ''): string {
  return `${scope}|${metric}|${detail}`;
}

/** The parts of a counter field, sample or ranked text; null for a malformed one. */
export function parseField(field: string): { scope: string; metric: string; detail: string } | null {
  const a = field.indexOf('|');
  const b = a < 0 ? -1 : field.indexOf('|', a + 1);
  if (b < 0) return null;
  return { scope: field.slice(0, a), metric: field.slice(a + 1, b), detail: field.slice(b + 1) };
}
