/** The handover part of the script library (handover.yaml): shifts, the SLA, canned replies, customer texts. */
import { z } from 'zod';
import { Text } from '../flows/schema.ts';
import { parseYaml, type LibraryFiles } from '../flows/loader.ts';
import { LibraryError } from '../flows/errors.ts';

const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day as HH:MM, e.g. 09:00');

export const Shift = z.object({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'shift ids are lower-case letters, digits and _'),
  name: Text,
  start: ClockTime,
  end: ClockTime,
  /** Whether people answer in this shift; outside staffed shifts customers are told when they will. */
  staffed: z.boolean().default(true),
}).strict();
export type Shift = z.infer<typeof Shift>;

export const HandoverConfig = z.object({
  shifts: z.array(Shift).min(1),
  firstResponseMinutes: z.number().positive().max(24 * 60).default(5),
  texts: z.object({ satisfactionAsk: Text, satisfactionThanks: Text, outsideHours: Text, promise: Text }).strict(),
  canned: z.array(z.object({ id: z.string().min(1), title: z.string().min(1), text: Text }).strict()).default([]),
}).strict().superRefine((config, ctx) => {
  const ids = new Set<string>();
  config.shifts.forEach((s, i) => {
    if (ids.has(s.id)) ctx.addIssue({ code: 'custom', path: ['shifts', i, 'id'], message: `shift id "${s.id}" used twice` });
    ids.add(s.id);
    if (s.start === s.end) ctx.addIssue({ code: 'custom', path: ['shifts', i, 'end'], message: 'a shift cannot start and end at the same time' });
  });
  // Every minute of the day belongs to exactly one shift, so no ticket is ever without a shift.
  const cover = new Array<number>(24 * 60).fill(0);
  for (const s of config.shifts) for (const m of minutesOf(s)) cover[m]! += 1;
  const gap = cover.findIndex((c) => c === 0);
  const overlap = cover.findIndex((c) => c > 1);
  if (gap >= 0) ctx.addIssue({ code: 'custom', path: ['shifts'], message: `no shift covers ${hhmm(gap)}` });
  if (overlap >= 0) ctx.addIssue({ code: 'custom', path: ['shifts'], message: `shifts overlap at ${hhmm(overlap)}` });
});
export type HandoverConfig = z.infer<typeof HandoverConfig>;

function toMinutes(time: string): number {
  const [h, m] = time.split(':').map(Number);
  return h! * 60 + m!;
}

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** The minutes of the day a shift covers (a night shift wraps past midnight). */
function* minutesOf(shift: Shift): Generator<number> {
  const start = toMinutes(shift.start);
  const end = toMinutes(shift.end);
  for (let m = start; m !== end; m = (m + 1) % (24 * 60)) yield m;
}

/** Formatters are costly to make and are asked for on every message (reports, tickets): one per zone. */
const clockFormats = new Map<string, Intl.DateTimeFormat>();
function clockFormat(timeZone: string): Intl.DateTimeFormat {
  let format = clockFormats.get(timeZone);
  if (!format) clockFormats.set(timeZone, (format = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hour12: false })));
  return format;
}

/** Whether a shift covers a minute of the day (a night shift wraps past midnight). */
function covers(shift: Shift, minute: number): boolean {
  const start = toMinutes(shift.start);
  const end = toMinutes(shift.end);
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/** The local time of day (minutes) of an instant in a time zone. */
export function localMinutes(at: Date, timeZone: string): number {
  const parts = clockFormat(timeZone).formatToParts(at);
  const h = Number(parts.find((p) => p.type === 'hour')?.value ?? 0) % 24;
  const m = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return h * 60 + m;
}

/** Shift arithmetic in the shop's time zone. (Time zones with daylight saving shift by an hour on those two days.) */
export class ShiftClock {
  constructor(private readonly config: HandoverConfig, private readonly timeZone: string) {}

  /** The shift an instant belongs to. */
  shiftAt(at: Date): Shift {
    return this.shiftAtMinute(localMinutes(at, this.timeZone));
  }

  /** The shift that takes over when `shift` ends. */
  nextShift(shift: Shift): Shift {
    return this.shiftAtMinute(toMinutes(shift.end));
  }

  byId(id: string): Shift | undefined {
    return this.config.shifts.find((s) => s.id === id);
  }

  private shiftAtMinute(m: number): Shift {
    return this.config.shifts.find((s) => covers(s, m)) ?? this.config.shifts[0]!;
  }

  /** When the shift after the one running at `at` starts. */
  startOfNext(current: Shift, at: Date): Date {
    const now = localMinutes(at, this.timeZone);
    const end = toMinutes(current.end);
    const wait = (end - now + 24 * 60) % (24 * 60) || 24 * 60;
    return new Date(Math.floor(at.getTime() / 60_000) * 60_000 + wait * 60_000);
  }

  /** When people next answer: now if the current shift is staffed, else the next staffed shift's start. */
  nextStaffed(at: Date): { at: Date; shift: Shift } | null {
    let cursor = at;
    let shift = this.shiftAt(at);
    for (let i = 0; i <= this.config.shifts.length; i++) {
      if (shift.staffed) return { at: cursor, shift };
      cursor = this.startOfNext(shift, cursor);
      shift = this.shiftAt(cursor);
    }
    return null;
  }
}

/**
 * Reads handover.yaml from the library's files; refuses it (LibraryError) with the line and
 * reason, or when a canned reply contains a forbidden phrase.
 */
export function loadHandoverConfig(files: LibraryFiles, forbidden: readonly string[]): HandoverConfig {
  const text = files['handover.yaml'];
  if (text === undefined) throw new LibraryError([{ where: 'handover.yaml', message: 'file missing from the library' }]);
  const parsed = parseYaml(HandoverConfig, text, 'handover.yaml');
  if (!parsed.value) throw new LibraryError(parsed.problems);
  const problems = parsed.value.canned.flatMap((c) => (['zh', 'en'] as const).flatMap((lang) =>
    forbidden.filter((p) => c.text[lang].includes(p)).map((p) => ({ where: `handover.yaml canned ${c.id} (${lang})`, message: `contains the forbidden phrase "${p}"` }))));
  if (problems.length > 0) throw new LibraryError(problems);
  return parsed.value;
}
