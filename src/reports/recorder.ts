/**
 * Turns report events into counter changes in the store, per day and per shift, as they happen;
 * and keeps automated resolutions honest: an outcome the bot reached alone is counted once per
 * conversation and taken back when a person is needed within 24 hours (docs/reports.md).
 */
import { ShiftClock, type HandoverConfig } from '../handover/config.ts';
import type { ReportChange, ReportStore } from '../store/types.ts';
import { normalize } from '../understanding/text.ts';
import type { ReportEvent, ReportRecorder } from './events.ts';
import { cleanDetail, DAY_SCOPE, decodePlacement, encodePlacement, fieldOf, placementOf, type Placement } from './fields.ts';

/** How long after an automated outcome a person's involvement takes it back. */
export const RESOLUTION_WINDOW_MS = 24 * 3_600_000;

/** The outcomes counted as automated resolution. */
export const AUTOMATED_OUTCOMES = ['faq_answered', 'order_changed', 'return_created'] as const;
export type AutomatedOutcome = (typeof AUTOMATED_OUTCOMES)[number];

/** Metric names of counter fields, samples and ranked texts (src/reports/report.ts reads them). */
export const METRIC = {
  conversations: 'conversations',
  newConversations: 'new_conversations',
  customerMessages: 'customer_messages',
  botMessages: 'bot_messages',
  agentMessages: 'agent_messages',
  event: 'event',
  faqEntry: 'faq_entry',
  flow: 'flow',
  auto: 'auto',
  autoReversed: 'auto_reversed',
  autoAssisted: 'auto_assisted',
  orderChange: 'order_change',
  returnReason: 'return_reason',
  exchangeReason: 'exchange_reason',
  handoff: 'handoff',
  followUp: 'follow_up',
  complaint: 'complaint',
  slaBreach: 'sla_breach',
  handedOver: 'handed_over',
  satisfaction: 'satisfaction',
  firstResponse: 'first_response',
  unanswered: 'unanswered',
  clarified: 'clarified',
} as const;

export interface ReportRecorderDeps {
  store: ReportStore;
  /** The live library's shifts. */
  handover: () => HandoverConfig;
  timeZone: string;
  log: { warn(obj: object, msg?: string): void };
}

/** A question as counted in the top lists: normalised as the FAQ reads it (full-width, traditional characters, case), without trailing punctuation. */
export function questionKey(text: string): string {
  return cleanDetail(normalize(text)).replace(/[\s?？!！。.,，~～]+$/u, '');
}

/** Counter changes of one batch, per day. */
class Tally {
  readonly changes = new Map<string, ReportChange>();

  private change(day: string): ReportChange {
    let found = this.changes.get(day);
    if (!found) this.changes.set(day, (found = { counters: [], distinct: [], samples: [], ranked: [] }));
    return found;
  }

  /** Adds to the metric in the day and in the shift. */
  count(p: Placement, metric: string, detail = '', by = 1): void {
    this.change(p.day).counters.push([fieldOf(DAY_SCOPE, metric, detail), by]);
    this.change(p.shiftDay).counters.push([fieldOf(p.shift, metric, detail), by]);
  }

  distinct(p: Placement, metric: string, member: string): void {
    this.change(p.day).distinct.push({ member: fieldOf(DAY_SCOPE, metric, member), counter: fieldOf(DAY_SCOPE, metric) });
    this.change(p.shiftDay).distinct.push({ member: fieldOf(p.shift, metric, member), counter: fieldOf(p.shift, metric) });
  }

  sample(p: Placement, metric: string, value: number): void {
    this.change(p.day).samples.push(fieldOf(DAY_SCOPE, metric, String(value)));
    this.change(p.shiftDay).samples.push(fieldOf(p.shift, metric, String(value)));
  }

  /** Top lists are kept per day only. */
  ranked(p: Placement, metric: string, text: string): void {
    if (text) this.change(p.day).ranked.push(fieldOf(DAY_SCOPE, metric, text));
  }
}

export function createReportRecorder(deps: ReportRecorderDeps): ReportRecorder {
  // Every turn is placed; a placement changes at most once a minute (shifts start on the minute),
  // so the last one is kept with the minute and the shifts it was worked out for.
  let last: { minute: number; config: HandoverConfig; placement: Placement } | undefined;
  const placementAt = (at: Date): Placement => {
    const minute = Math.floor(at.getTime() / 60_000);
    const config = deps.handover();
    if (last?.minute === minute && last.config === config) return last.placement;
    const placement = placementOf(at, new ShiftClock(config, deps.timeZone).shiftAt(at), deps.timeZone);
    last = { minute, config, placement };
    return placement;
  };

  /** An outcome the bot reached: counted the first time in 24 h, unless a person was involved in the 24 h before. */
  async function automated(tally: Tally, p: Placement, at: Date, conversationId: string | null, outcome: AutomatedOutcome): Promise<void> {
    if (!conversationId) return;
    const answer = await deps.store.remember(conversationId, `auto:${outcome}`, `${outcome}#${encodePlacement(p)}`, at.getTime(), RESOLUTION_WINDOW_MS);
    if (answer === 'first') tally.count(p, METRIC.auto, outcome);
    else if (answer === 'blocked') tally.count(p, METRIC.autoAssisted, outcome);
  }

  /** A person is needed: outcomes of the last 24 h are taken back where they were counted. */
  async function personNeeded(tally: Tally, at: Date, conversationId: string | null): Promise<void> {
    if (!conversationId) return;
    for (const value of await deps.store.block(conversationId, 'auto:', at.getTime(), RESOLUTION_WINDOW_MS)) {
      const [outcome, ...rest] = value.split('#');
      const p = decodePlacement(rest.join('#'));
      if (p && outcome) tally.count(p, METRIC.autoReversed, outcome);
    }
  }

  async function tallyOne(tally: Tally, p: Placement, at: Date, conversationId: string | null, event: ReportEvent): Promise<void> {
    switch (event.kind) {
      case 'customerMessage':
        tally.count(p, METRIC.customerMessages);
        if (conversationId) tally.distinct(p, METRIC.conversations, conversationId);
        if (event.newConversation) tally.count(p, METRIC.newConversations);
        return;
      case 'botMessages':
        if (event.count > 0) tally.count(p, METRIC.botMessages, '', event.count);
        return;
      case 'engine': {
        const detail = cleanDetail(event.detail ?? '');
        tally.count(p, METRIC.event, cleanDetail(event.event));
        if (event.event === 'faq_answered') {
          tally.count(p, METRIC.faqEntry, detail);
          await automated(tally, p, at, conversationId, 'faq_answered');
        } else if (event.event === 'faq_abstained') tally.ranked(p, METRIC.unanswered, questionKey(detail));
        else if (event.event === 'faq_clarified') tally.ranked(p, METRIC.clarified, questionKey(detail));
        else if (event.event === 'flow_started') tally.count(p, METRIC.flow, detail);
        return;
      }
      case 'orderChanged':
        tally.count(p, METRIC.orderChange, cleanDetail(event.change));
        await automated(tally, p, at, conversationId, 'order_changed');
        return;
      case 'afterSale':
        tally.count(p, event.afterSale === 'return' ? METRIC.returnReason : METRIC.exchangeReason, cleanDetail(event.reason));
        await automated(tally, p, at, conversationId, 'return_created');
        return;
      case 'ticket': {
        tally.count(p, event.ticket === 'handoff' ? METRIC.handoff : METRIC.followUp, event.reason);
        const complaint = event.complaintKind !== undefined || event.reason === 'complaint' || event.reason === 'abuse';
        // One complaint often opens two tickets (a promise, then a person): it is counted once a day.
        if (complaint && conversationId) {
          const category = event.complaintKind ? cleanDetail(event.complaintKind) : event.reason;
          const answer = await deps.store.remember(`complaint:${conversationId}`, 'complaint', category, at.getTime(), RESOLUTION_WINDOW_MS);
          if (answer === 'first') tally.count(p, METRIC.complaint, category);
        }
        await personNeeded(tally, at, conversationId);
        return;
      }
      case 'agentMessage': tally.count(p, METRIC.agentMessages); return;
      case 'firstResponse': tally.sample(p, METRIC.firstResponse, Math.max(0, Math.round(event.seconds))); return;
      case 'slaBreach': tally.count(p, METRIC.slaBreach); return;
      case 'handedOver': tally.count(p, METRIC.handedOver, event.by); return;
      case 'satisfaction':
        if (Number.isInteger(event.score) && event.score >= 1 && event.score <= 5) tally.count(p, METRIC.satisfaction, String(event.score));
        return;
      default: {
        const never: never = event;
        throw new Error(`unknown report event ${JSON.stringify(never)}`);
      }
    }
  }

  return {
    async record(at, conversationId, events) {
      if (events.length === 0) return;
      try {
        const p = placementAt(at);
        const tally = new Tally();
        for (const event of events) await tallyOne(tally, p, at, conversationId, event);
        await Promise.all([...tally.changes].map(([day, change]) => deps.store.add(day, change)));
      } catch (error) {
        deps.log.warn({ conversationId, err: error instanceof Error ? error.message : String(error) }, 'report counters not recorded');
      }
    },
  };
}
