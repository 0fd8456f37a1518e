/** The managers' reports: GET /api/reports (JSON tables) and GET /api/reports.csv (one table as CSV), see docs/reports.md. */
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Shift } from '../handover/config.ts';
import { addDays, daysFrom, isDay, localDay } from '../reports/fields.ts';
import { buildReport, tableToCsv, TABLES, type Report } from '../reports/report.ts';
import type { ReportStore } from '../store/types.ts';
import type { Auth } from './auth.ts';
import { HttpError, parseOr400 } from './http-error.ts';

/** The longest range one report covers. */
export const MAX_REPORT_DAYS = 366;

export interface ReportRouteDeps {
  auth: Auth;
  reports: ReportStore;
  /** The live library's shifts. */
  shifts: () => Shift[];
  timeZone: string;
  now: () => Date;
}

const Day = z.string().refine(isDay, 'a date as YYYY-MM-DD');
const Range = z.object({ from: Day.optional(), to: Day.optional() });

export function reportRoutes(deps: ReportRouteDeps): Router {
  const router = Router();
  const manager = deps.auth.require('manager');

  /** The report of the asked range: `to` defaults to today (shop time), `from` to a week before `to`. */
  async function reportOf(req: Request): Promise<Report> {
    const query = parseOr400(Range, { from: req.query.from, to: req.query.to });
    const now = deps.now();
    const to = query.to ?? localDay(now, deps.timeZone);
    const from = query.from ?? addDays(to, -6);
    if (from > to) throw new HttpError(400, 'invalid_request', 'from: must not be after to');
    const days = daysFrom(from, to);
    if (days.length > MAX_REPORT_DAYS) throw new HttpError(400, 'invalid_request', `from: a report covers at most ${MAX_REPORT_DAYS} days`);
    return buildReport({ from, to, days: await deps.reports.read(days), shifts: deps.shifts(), timeZone: deps.timeZone, now });
  }

  router.get('/reports', manager, async (req, res) => {
    res.json(await reportOf(req));
  });

  router.get('/reports.csv', manager, async (req, res) => {
    const table = parseOr400(z.object({ table: z.enum(TABLES) }), { table: req.query.table }).table;
    const report = await reportOf(req);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="report-${table}-${report.from}_${report.to}.csv"`);
    res.send(tableToCsv(report.tables[table]));
  });

  return router;
}
