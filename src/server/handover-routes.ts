/** The agents' API over the shift-handover table, conversations and orders (docs/agent-api.md). */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Shop } from '../commerce/shop.ts';
import { describeVariant } from '../commerce/shop.ts';
import { parseConversation } from '../conversations/state.ts';
import { HANDOVER_TOPIC, type HandoverDesk } from '../handover/desk.ts';
import type { HandoverConfig } from '../handover/config.ts';
import { HandoverError, TicketStatus } from '../handover/ticket.ts';
import type { Store } from '../store/types.ts';
import { staffOf, type Auth } from './auth.ts';
import { HttpError, parseOr400 } from './http-error.ts';
import { streamTopic } from './sse.ts';

const TextBody = z.object({ text: z.string().trim().min(1, 'text is empty').max(2000, 'text is longer than 2000 characters') }).strict();
const NoteBody = z.object({ note: z.string().trim().min(1, 'a handover note is required').max(2000) }).strict();
const Suggestion = z.object({ question: z.string().trim().min(1).max(500), answer: z.string().trim().min(1).max(4000) }).strict();
const TicketId = z.string().regex(/^T[0-9A-F]{10}$/, 'not a ticket id');
const StatusList = z.string().optional().transform((s, ctx) => {
  if (!s) return undefined;
  const parsed = z.array(TicketStatus).safeParse(s.split(',').map((x) => x.trim()).filter(Boolean));
  if (!parsed.success) { ctx.addIssue({ code: 'custom', message: 'status: a comma list of open, claimed, resolved, returned_to_bot' }); return z.NEVER; }
  return parsed.data;
});

export interface HandoverRouteDeps {
  auth: Auth;
  desk: HandoverDesk;
  store: Store;
  shop: Shop;
  config: () => HandoverConfig;
}

/** Handover errors carry their HTTP status; everything else goes to the one error handler. */
function handled(work: (req: Request, res: Response) => Promise<void>) {
  return async (req: Request, res: Response): Promise<void> => {
    try {
      await work(req, res);
    } catch (error) {
      if (error instanceof HandoverError) throw new HttpError(error.status, error.code, error.message, error.details);
      throw error;
    }
  };
}

export function handoverRoutes(deps: HandoverRouteDeps): Router {
  const router = Router();
  const agent = deps.auth.require('agent');
  const ticketId = (req: Request): string => parseOr400(TicketId, req.params.id);

  router.get('/handover/tickets', agent, handled(async (req, res) => {
    const status = parseOr400(StatusList, req.query.status);
    const shift = typeof req.query.shift === 'string' && req.query.shift ? req.query.shift : undefined;
    res.json({ tickets: await deps.desk.list({ ...(status ? { status } : {}), ...(shift ? { shift } : {}) }) });
  }));

  router.get('/handover/tickets/:id', agent, handled(async (req, res) => {
    res.json(await deps.desk.get(ticketId(req)));
  }));

  router.post('/handover/tickets/:id/claim', agent, handled(async (req, res) => {
    res.json(await deps.desk.claim(ticketId(req), staffOf(req).username));
  }));

  router.post('/handover/tickets/:id/reply', agent, handled(async (req, res) => {
    const { text } = parseOr400(TextBody, req.body);
    const agent = staffOf(req);
    // Canned replies say {{agent}}: the customer reads the agent's name, never the placeholder.
    const filled = text.replaceAll('{{agent}}', agent.displayName);
    res.json({ ticket: await deps.desk.reply(ticketId(req), agent.username, filled) });
  }));

  router.post('/handover/tickets/:id/note', agent, handled(async (req, res) => {
    const { text } = parseOr400(TextBody, req.body);
    res.json(await deps.desk.note(ticketId(req), staffOf(req).username, text));
  }));

  router.post('/handover/tickets/:id/resolve', agent, handled(async (req, res) => {
    res.json(await deps.desk.resolve(ticketId(req), staffOf(req).username));
  }));

  router.post('/handover/tickets/:id/return-to-bot', agent, handled(async (req, res) => {
    res.json(await deps.desk.returnToBot(ticketId(req), staffOf(req).username));
  }));

  router.post('/handover/tickets/:id/handover', agent, handled(async (req, res) => {
    const { note } = parseOr400(NoteBody, req.body);
    res.json(await deps.desk.handover(ticketId(req), staffOf(req).username, note));
  }));

  router.post('/handover/tickets/:id/faq-suggestion', agent, handled(async (req, res) => {
    const suggestion = parseOr400(Suggestion, req.body);
    res.status(201).json({ id: await deps.desk.suggestFaq(ticketId(req), staffOf(req).username, suggestion) });
  }));

  router.post('/handover/check-reply', agent, handled(async (req, res) => {
    const { text } = parseOr400(TextBody, req.body);
    const phrases = deps.desk.forbiddenIn(text);
    res.json({ ok: phrases.length === 0, phrases });
  }));

  router.get('/handover/canned', agent, (_req, res) => {
    res.json({ canned: deps.config().canned });
  });

  router.get('/handover/shifts', agent, handled(async (_req, res) => {
    res.json(await deps.desk.shiftStatus());
  }));

  router.post('/handover/shift/start', agent, handled(async (req, res) => {
    const shift = await deps.desk.startDuty(staffOf(req).username);
    res.json({ onDuty: true, shift });
  }));

  router.post('/handover/shift/end', agent, handled(async (req, res) => {
    const { note } = parseOr400(NoteBody, req.body);
    res.json({ moved: await deps.desk.endDuty(staffOf(req).username, note) });
  }));

  router.get('/handover/events', agent, async (req, res) => {
    await streamTopic(req, res, deps.store.bus, HANDOVER_TOPIC);
  });

  router.get('/conversations/:id', agent, async (req, res) => {
    const id = parseOr400(z.string().regex(/^(web|wechat|telegram):.{1,200}$/, 'not a conversation id'), req.params.id);
    const loaded = await deps.store.conversations.load(id);
    const state = loaded ? parseConversation(loaded.state) : null;
    if (!state) throw new HttpError(404, 'not_found', `no conversation ${id}`);
    const where = state.dialog.frame ?? state.dialog.last;
    const transcript = await deps.store.conversations.transcript(id, 200);
    res.json({
      id,
      channel: state.ref.channel,
      mode: state.mode,
      flow: where?.flow ?? null,
      step: where?.step ?? null,
      intent: state.dialog.intent,
      slots: state.dialog.frame ? { ...state.dialog.frame.data, ...state.dialog.frame.slots } : {},
      customerName: state.customer.displayName ?? null,
      lang: state.dialog.lang,
      transcript: transcript.map(({ from, text, at, by, imageUrl }) => ({ from, text, at, ...(by ? { by } : {}), ...(imageUrl ? { imageUrl } : {}) })),
    });
  });

  router.get('/orders/:id', agent, async (req, res) => {
    const id = parseOr400(z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'not an order id'), req.params.id);
    const order = await deps.shop.order(id.toUpperCase());
    if (!order) throw new HttpError(404, 'not_found', `no order ${id}`);
    const items = await Promise.all(order.items.map(async (item) => {
      const found = await deps.shop.variant(item.sku);
      return { ...item, productName: found?.product.name ?? null, options: found ? describeVariant(found.variant) : '' };
    }));
    res.json({ ...order, items });
  });

  return router;
}
