/**
 * The shift-handover table: every handoff and promised follow-up becomes a ticket; agents claim
 * (one wins across processes), reply, note, resolve, give back to the bot, and hand unfinished
 * work to the next shift with a note. A sweep raises overdue tickets and rolls tickets of an
 * ended shift into the running one, so nothing falls between shifts.
 */
import { createHash } from 'node:crypto';
import type { ConversationRef, Lang } from '../bots/messages.ts';
import type { TicketDesk, TicketRequest } from '../conversations/pipeline.ts';
import { renderTemplate, formatDue } from '../flows/engine.ts';
import type { Text } from '../flows/schema.ts';
import { VersionConflict, type DocumentStore, type EventBus } from '../store/types.ts';
import { ShiftClock, type HandoverConfig, type Shift } from './config.ts';
import type { ReportEvent, ReportRecorder } from '../reports/events.ts';
import { ACTIVE_STATUSES, byUrgency, HandoverError, raised, REASON_ZH, summaryOf, Ticket, type TicketStatus } from './ticket.ts';

const TICKETS = 'tickets';
const DUTY = 'duty';
const SUGGESTIONS = 'faq_suggestions';
/** The bus topic the agent console listens on. */
export const HANDOVER_TOPIC = 'handover';

/** What the handover table needs of the conversations: talk to the customer, give the conversation back. */
export interface ConversationControl {
  sendAgentReply(ref: ConversationRef, text: string, by: string): Promise<void>;
  /** `resume`: the flow goes on where it was; `satisfaction`: the 回访 question, then the bot. */
  giveBack(conversationId: string, how: 'resume' | 'satisfaction', ticketId: string): Promise<void>;
}

export interface HandoverDeps {
  docs: DocumentStore;
  bus: EventBus;
  config: () => HandoverConfig;
  timeZone: string;
  now: () => Date;
  /** The library's forbidden phrases; an agent's reply may not contain one. */
  forbidden: () => readonly string[];
  /** Set after the pipeline exists (the two need each other). */
  conversations: () => ConversationControl;
  /** The optional model's summary of a new ticket (null when it fails; the data's summary stays). */
  summarize?: (input: { reason: string; lang: Lang; intent: string | null; slots: Record<string, unknown>; lastMessages: { from: string; text: string }[]; notes?: string[] }) => Promise<string | null>;
  /** Report counters: told where each event happens, once (docs/reports.md). */
  reports?: ReportRecorder;
}

export interface ShiftStatus {
  current: Shift;
  next: Shift;
  shifts: Shift[];
  onDuty: string[];
  handedOver: { shift: string; count: number; notes: { at: string; by: string; note: string; ticketId: string }[] }[];
}

export interface HandoverDesk extends TicketDesk {
  list(filter?: { status?: TicketStatus[]; shift?: string }): Promise<Ticket[]>;
  get(id: string): Promise<Ticket>;
  claim(id: string, agent: string): Promise<Ticket>;
  reply(id: string, agent: string, text: string): Promise<Ticket>;
  note(id: string, agent: string, text: string): Promise<Ticket>;
  resolve(id: string, agent: string): Promise<Ticket>;
  returnToBot(id: string, agent: string): Promise<Ticket>;
  handover(id: string, agent: string, note: string): Promise<Ticket>;
  /** The customer's 回访 answer. */
  satisfaction(id: string, score: number): Promise<void>;
  suggestFaq(id: string, agent: string, suggestion: { question: string; answer: string }): Promise<string>;
  forbiddenIn(text: string): string[];
  shiftStatus(): Promise<ShiftStatus>;
  startDuty(agent: string): Promise<Shift>;
  endDuty(agent: string, note: string): Promise<number>;
  /** Raises overdue tickets and rolls tickets of ended shifts over; run every few seconds by any process. */
  sweep(): Promise<void>;
}

export function createHandoverDesk(deps: HandoverDeps): HandoverDesk {
  const clock = (): ShiftClock => new ShiftClock(deps.config(), deps.timeZone);
  const iso = (d: Date | number): string => new Date(d).toISOString();
  const report = async (at: Date, conversationId: string | null, events: ReportEvent[]): Promise<void> => { if (events.length > 0) await deps.reports?.record(at, conversationId, events); };

  async function publish(type: 'ticket' | 'sla', ticket: Ticket): Promise<void> {
    await deps.bus.publish(HANDOVER_TOPIC, { type, ticket: ticket as unknown as Record<string, unknown> }).catch(() => undefined);
  }

  async function load(id: string): Promise<{ ticket: Ticket; version: number }> {
    const stored = await deps.docs.get(TICKETS, id);
    if (!stored) throw new HandoverError('not_found', `no ticket ${id}`);
    return { ticket: Ticket.parse(stored.doc), version: stored.version };
  }

  /** Changes a ticket with compare-and-set; a concurrent change makes `change` run again on the fresh ticket. */
  async function update(id: string, change: (t: Ticket) => void): Promise<Ticket> {
    for (let attempt = 0; ; attempt++) {
      const { ticket, version } = await load(id);
      change(ticket);
      try {
        await deps.docs.put(TICKETS, id, ticket as unknown as Record<string, unknown>, version);
        await publish('ticket', ticket);
        return ticket;
      } catch (error) {
        if (!(error instanceof VersionConflict) || attempt >= 5) throw error;
      }
    }
  }

  function history(t: Ticket, by: string, action: string, detail?: string): void {
    t.history.push({ at: iso(deps.now()), by, action, ...(detail ? { detail } : {}) });
  }

  function mustHold(t: Ticket, agent: string): void {
    if (!ACTIVE_STATUSES.includes(t.status)) throw new HandoverError('closed', `ticket ${t.id} is ${t.status}`);
    if (t.status !== 'claimed' || t.assignee !== agent) {
      throw new HandoverError('not_yours', t.assignee ? `ticket ${t.id} is claimed by ${t.assignee}` : `claim ticket ${t.id} first`, { assignee: t.assignee });
    }
  }

  /** The shift that takes a ticket now, and when that shift ends. */
  function placeIn(at: Date, staffedOnly: boolean): { shift: Shift; endsAt: Date; staffedFrom: Date } {
    const c = clock();
    const staffed = staffedOnly ? c.nextStaffed(at) : null;
    const from = staffed?.at ?? at;
    const shift = staffed?.shift ?? c.shiftAt(at);
    return { shift, endsAt: c.startOfNext(shift, from), staffedFrom: from };
  }

  function moveToNextShift(t: Ticket, by: string, note: string): void {
    const c = clock();
    const now = deps.now();
    const current = c.shiftAt(now);
    const next = c.nextShift(current);
    const nextStart = c.startOfNext(current, now);
    t.handovers.push({ at: iso(now), by, fromShift: t.shift, toShift: next.id, note });
    history(t, by, 'handover', note);
    t.shift = next.id;
    t.shiftEndsAt = iso(c.startOfNext(next, nextStart));
    if (t.status === 'claimed') { t.status = 'open'; t.assignee = null; }
  }

  function texts(): HandoverConfig['texts'] {
    return deps.config().texts;
  }

  const desk: HandoverDesk = {
    async open(request: TicketRequest) {
      const id = `T${createHash('sha1').update(request.id).digest('hex').slice(0, 10).toUpperCase()}`;
      const now = deps.now();
      const handoff = request.kind === 'handoff';
      const place = placeIn(now, handoff);
      const sla = deps.config().firstResponseMinutes * 60_000;
      const due = handoff ? place.staffedFrom.getTime() + sla : request.dueAt ?? now.getTime() + sla;
      const orderId = typeof request.context.slots.orderId === 'string' ? request.context.slots.orderId : null;
      const context = { ...request.context, orderId };
      const ticket: Ticket = {
        id,
        conversationId: request.conversationId,
        channel: request.ref.channel,
        ref: request.ref,
        customerName: request.customerName ?? (request.ref.channel === 'web' ? `网页访客 ${request.ref.chatId.slice(-4)}` : request.ref.userId),
        kind: request.kind,
        reason: request.reason,
        priority: request.priority,
        status: 'open',
        summary: summaryOf({ reason: request.reason, ...(request.note ? { note: request.note } : {}), context, lastMessages: request.context.lastMessages }),
        context: { intent: context.intent, flow: context.flow, step: context.step, slots: context.slots, orderId, lang: context.lang },
        createdAt: iso(now),
        dueAt: iso(due),
        firstResponseAt: null,
        resolvedAt: null,
        breachedAt: null,
        assignee: null,
        shift: place.shift.id,
        shiftEndsAt: iso(place.endsAt),
        notes: request.note ? [{ at: iso(now), by: 'bot', text: request.note }] : [],
        history: [{ at: iso(now), by: 'bot', action: 'opened', detail: request.reason }],
        handovers: [],
        satisfaction: null,
      };
      try {
        await deps.docs.put(TICKETS, id, ticket as unknown as Record<string, unknown>, 0);
        await publish('ticket', ticket);
        if (deps.summarize) void summarizeLater(ticket, request);
        const complaintKind = request.context.slots.complaintKind;
        await report(now, request.conversationId, [{ kind: 'ticket', ticket: request.kind, reason: request.reason, ...(typeof complaintKind === 'string' ? { complaintKind } : {}) }]);
      } catch (error) {
        if (!(error instanceof VersionConflict)) throw error; // opened already by an earlier try of this turn
      }
      const lang: Lang = request.context.lang;
      // The customer is told when a person will answer: outside staffed hours, and for promises.
      if (handoff && place.staffedFrom.getTime() > now.getTime()) {
        return { notice: said(texts().outsideHours, formatDue(place.staffedFrom.getTime(), lang, deps.timeZone)) };
      }
      if (!handoff && request.reason === 'follow_up' && request.dueAt) return { notice: said(texts().promise, formatDue(request.dueAt, lang, deps.timeZone)) };
      return {};
    },

    async list(filter = {}) {
      const all = (await deps.docs.list(TICKETS)).map((d) => Ticket.parse(d.doc));
      return all
        .filter((t) => !filter.status || filter.status.includes(t.status))
        .filter((t) => !filter.shift || t.shift === filter.shift)
        .sort(byUrgency);
    },

    async get(id) {
      return (await load(id)).ticket;
    },

    claim(id, agent) {
      return update(id, (t) => {
        if (!ACTIVE_STATUSES.includes(t.status)) throw new HandoverError('closed', `ticket ${id} is ${t.status}`);
        if (t.status === 'claimed' && t.assignee !== agent) throw new HandoverError('already_claimed', `ticket ${id} is claimed by ${t.assignee}`, { assignee: t.assignee });
        if (t.status === 'claimed') return;
        t.status = 'claimed';
        t.assignee = agent;
        history(t, agent, 'claimed');
      });
    },

    async reply(id, agent, text) {
      const phrases = desk.forbiddenIn(text);
      if (phrases.length > 0) throw new HandoverError('forbidden_phrase', `the reply contains forbidden phrases: ${phrases.join('、')}`, { phrases });
      const { ticket } = await load(id);
      mustHold(ticket, agent);
      // Sent first: a reply that reached the customer is never missing from the ticket's history
      // for long, while a recorded reply that never left would be a lie.
      await deps.conversations().sendAgentReply(ticket.ref, text, agent);
      let first = false;
      const replied = await update(id, (t) => {
        first = t.firstResponseAt === null;
        t.firstResponseAt ??= iso(deps.now());
        history(t, agent, 'replied', text.slice(0, 500));
      });
      const at = deps.now();
      // The wait starts when the ticket was opened, or when people came on duty if it was opened outside staffed hours.
      const waitFrom = Math.max(Date.parse(replied.createdAt), clock().nextStaffed(new Date(replied.createdAt))?.at.getTime() ?? 0);
      await report(at, replied.conversationId, [{ kind: 'agentMessage' }, ...(first && replied.kind === 'handoff' ? [{ kind: 'firstResponse' as const, seconds: (at.getTime() - waitFrom) / 1000 }] : [])]);
      return replied;
    },

    note(id, agent, text) {
      return update(id, (t) => {
        t.notes.push({ at: iso(deps.now()), by: agent, text });
        history(t, agent, 'note');
      });
    },

    resolve: (id, agent) => close(id, agent, 'resolved', 'satisfaction'),

    returnToBot: (id, agent) => close(id, agent, 'returned_to_bot', 'resume'),

    async handover(id, agent, note) {
      const moved = await update(id, (t) => {
        if (!ACTIVE_STATUSES.includes(t.status)) throw new HandoverError('closed', `ticket ${id} is ${t.status}`);
        if (t.status === 'claimed' && t.assignee !== agent) throw new HandoverError('not_yours', `ticket ${id} is claimed by ${t.assignee}`);
        moveToNextShift(t, agent, note);
      });
      await report(deps.now(), moved.conversationId, [{ kind: 'handedOver', by: 'agent' }]);
      return moved;
    },

    async satisfaction(id, score) {
      let first = false;
      const rated = await update(id, (t) => {
        first = t.satisfaction === null;
        t.satisfaction = { score, at: iso(deps.now()) };
        history(t, 'customer', 'satisfaction', String(score));
      });
      // Counted in the shift that closed the case; a second answer to the same question is not counted.
      if (first) await report(rated.resolvedAt ? new Date(rated.resolvedAt) : deps.now(), rated.conversationId, [{ kind: 'satisfaction', score }]);
    },

    async suggestFaq(id, agent, suggestion) {
      await load(id);
      const suggestionId = `S${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`.toUpperCase();
      await deps.docs.put(SUGGESTIONS, suggestionId, { ...suggestion, ticketId: id, by: agent, at: iso(deps.now()), status: 'new' }, 0);
      return suggestionId;
    },

    forbiddenIn(text) {
      return deps.forbidden().filter((phrase) => text.includes(phrase));
    },

    async shiftStatus() {
      const c = clock();
      const now = deps.now();
      const current = c.shiftAt(now);
      const onDuty = (await deps.docs.list(DUTY)).filter((d) => d.doc.shift === current.id).map((d) => d.id).sort();
      const tickets = (await deps.docs.list(TICKETS)).map((d) => Ticket.parse(d.doc));
      const since = now.getTime() - 7 * 24 * 3_600_000;
      const byShift = new Map<string, ShiftStatus['handedOver'][number]>();
      for (const t of tickets) {
        for (const h of t.handovers) {
          if (Date.parse(h.at) < since) continue;
          const entry = byShift.get(h.toShift) ?? { shift: h.toShift, count: 0, notes: [] };
          entry.count += 1;
          entry.notes.push({ at: h.at, by: h.by, note: h.note, ticketId: t.id });
          byShift.set(h.toShift, entry);
        }
      }
      for (const entry of byShift.values()) entry.notes.sort((a, b) => b.at.localeCompare(a.at));
      return { current, next: c.nextShift(current), shifts: deps.config().shifts, onDuty, handedOver: [...byShift.values()] };
    },

    async startDuty(agent) {
      const shift = clock().shiftAt(deps.now());
      const existing = await deps.docs.get(DUTY, agent);
      await deps.docs.put(DUTY, agent, { shift: shift.id, since: iso(deps.now()) }, existing?.version ?? 0);
      return shift;
    },

    async endDuty(agent, note) {
      const existing = await deps.docs.get(DUTY, agent);
      if (existing) await deps.docs.delete(DUTY, agent);
      const current = clock().shiftAt(deps.now());
      const othersOnDuty = (await deps.docs.list(DUTY)).some((d) => d.doc.shift === current.id);
      const tickets = await desk.list({ status: ['open', 'claimed'] });
      // The leaver's claimed tickets always move; the shift's open ones too when nobody stays.
      const moving = tickets.filter((t) => (t.status === 'claimed' && t.assignee === agent) || (!othersOnDuty && t.status === 'open' && t.shift === current.id));
      for (const t of moving) {
        let moved = false;
        await update(t.id, (fresh) => {
          moved = false;
          if (!ACTIVE_STATUSES.includes(fresh.status)) return;
          moveToNextShift(fresh, agent, note);
          moved = true;
        });
        if (moved) await report(deps.now(), t.conversationId, [{ kind: 'handedOver', by: 'agent' }]);
      }
      return moving.length;
    },

    async sweep() {
      const now = deps.now();
      const sla = deps.config().firstResponseMinutes * 60_000;
      for (const t of await desk.list({ status: ['open', 'claimed'] })) {
        const overdue = t.firstResponseAt === null && Date.parse(t.dueAt) <= now.getTime();
        const shiftOver = Date.parse(t.shiftEndsAt) <= now.getTime();
        if (!overdue && !shiftOver) continue;
        let breached = false;
        let firstBreach = false;
        let rolled = false;
        const updated = await update(t.id, (fresh) => {
          firstBreach = false;
          rolled = false;
          if (fresh.firstResponseAt === null && Date.parse(fresh.dueAt) <= now.getTime() && ACTIVE_STATUSES.includes(fresh.status)) {
            firstBreach = fresh.breachedAt === null;
            fresh.priority = raised(fresh.priority);
            fresh.breachedAt ??= iso(now);
            // The next escalation comes one SLA later, so an ignored ticket keeps rising to urgent.
            fresh.dueAt = iso(now.getTime() + sla);
            history(fresh, 'system', 'sla_breach', fresh.priority);
            breached = true;
          }
          if (Date.parse(fresh.shiftEndsAt) <= now.getTime()) {
            const c = clock();
            const current = c.shiftAt(now);
            fresh.handovers.push({ at: iso(now), by: 'system', fromShift: fresh.shift, toShift: current.id, note: '上一班结束时未处理完，自动转入本班' });
            history(fresh, 'system', 'handover', `auto ${fresh.shift} -> ${current.id}`);
            fresh.shift = current.id;
            fresh.shiftEndsAt = iso(c.startOfNext(current, now));
            rolled = true;
          }
        });
        await report(now, updated.conversationId, [...(firstBreach ? [{ kind: 'slaBreach' as const }] : []), ...(rolled ? [{ kind: 'handedOver' as const, by: 'system' as const }] : [])]);
        if (breached) await publish('sla', updated);
      }
    },
  };
  return desk;

  /** The claimant ends the ticket; the bot takes the conversation back (the 回访 question, or the flow again). */
  async function close(id: string, agent: string, status: 'resolved' | 'returned_to_bot', how: 'satisfaction' | 'resume'): Promise<Ticket> {
    const ticket = await update(id, (t) => {
      mustHold(t, agent);
      t.status = status;
      t.resolvedAt = iso(deps.now());
      history(t, agent, status);
    });
    await deps.conversations().giveBack(ticket.conversationId, how, ticket.id);
    return ticket;
  }

  /** The model's summary, added when it arrives; the turn that opened the ticket does not wait for it. */
  async function summarizeLater(ticket: Ticket, request: TicketRequest): Promise<void> {
    const text = await deps.summarize!({
      reason: REASON_ZH[ticket.reason],
      lang: ticket.context.lang,
      intent: ticket.context.intent,
      slots: ticket.context.slots,
      lastMessages: request.context.lastMessages.map((m) => ({ from: m.from, text: m.text })),
      ...(request.note ? { notes: [request.note] } : {}),
    }).catch(() => null);
    if (text) await update(ticket.id, (t) => { t.aiSummary = text; }).catch(() => undefined);
  }

  function said(text: Text, when: string): Text {
    return { zh: renderTemplate(text.zh, { when }), en: renderTemplate(text.en, { when }) };
  }
}
