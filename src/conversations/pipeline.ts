/**
 * The way every message goes (DESIGN.md): dedupe by id, one turn at a time per conversation (also
 * across processes), bot-or-person routing, the flow engine, and one commit of everything the
 * turn wrote. A failed turn writes nothing back and the customer gets an apology, never silence.
 */
import { assertNever, conversationIdOf, outboundText, type ConversationRef, type Inbound, type Lang, type Outbound } from '../bots/messages.ts';
import type { Shop } from '../commerce/shop.ts';
import type { CompiledLibrary } from '../flows/compile.ts';
import { saysLanguage, type Effect, type EngineEvent, type RecordedEvent } from '../flows/engine.ts';
import type { ActionContext, Vars } from '../flows/registry.ts';
import { runTurn } from '../flows/runtime.ts';
import type { HandoffReason, Priority, Text } from '../flows/schema.ts';
import type { DueTimer, JsonObject, OutboxItem, Store, TranscriptEntry, TurnStart } from '../store/types.ts';
import { StoreUnavailable, VersionConflict } from '../store/types.ts';
import type { Understanding } from '../understanding/types.ts';
import { extractSlot, type SlotType } from '../understanding/slots.ts';
import { answerIn } from '../knowledge/faq.ts';
import { MODEL_MAX_CANDIDATES, modelCandidates, resolveWithModel } from '../knowledge/model-resolve.ts';
import type { FaqEmbeddings } from '../knowledge/embeddings.ts';
import type { Llm } from '../llm/types.ts';
import type { ReportEvent, ReportRecorder } from '../reports/events.ts';
import { newConversation, parseConversation, type ConversationState } from './state.ts';
import { salutationOf } from './salutation.ts';
import { ConversationLocks, LockTimeout, type Acquire, type HeldLock } from './locks.ts';

/** The few log calls the pipeline makes (pino's shape). */
export interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Hooks for metrics and live views; every method optional. */
export interface PipelineObserver {
  turn?(info: { conversationId: string; ms: number; outcome: string; channel: string }): void;
  duplicate?(channel: string): void;
  failure?(kind: 'store_down' | 'busy' | 'flow_error'): void;
  recorded?(event: RecordedEvent, detail: string | undefined): void;
  handoff?(info: { conversationId: string; ref: ConversationRef; reason: string; priority: string; customerName: string | undefined }): void;
  customerMessageInHumanMode?(info: { conversationId: string; text: string }): void;
}

/** What a ticket is opened with: where the conversation is, why, and the story so far. */
export interface TicketRequest {
  /** Deterministic (conversation + message), so a retried turn opens the same ticket once. */
  id: string;
  conversationId: string;
  ref: ConversationRef;
  /** `handoff`: a person takes the conversation now; `follow_up`: a promise due later, the bot keeps talking. */
  kind: 'handoff' | 'follow_up';
  reason: HandoffReason;
  priority: Priority;
  customerName: string | null;
  /** ms since the epoch; absent for a handoff (the shift's SLA sets it). */
  dueAt?: number;
  /** What was promised (follow-ups). */
  note?: string;
  /** What the bot knows: intent, flow and step, collected slots, the last messages. */
  context: {
    intent: string | null;
    flow: string | null;
    step: string | null;
    slots: Record<string, unknown>;
    lastMessages: TranscriptEntry[];
    lang: Lang;
  };
}

/** Opens tickets in the shift-handover table (src/handover implements it). Idempotent by request id. */
export interface TicketDesk {
  /** Opens the ticket; `notice` is what the customer should be told (when a person will answer). */
  open(request: TicketRequest): Promise<{ notice?: Text }>;
}

export interface PipelineDeps {
  store: Store;
  /** The live library; read at the start of each turn, so a publish applies from the next turn. */
  library: () => CompiledLibrary;
  shop: Shop;
  now: () => Date;
  log: Log;
  /** Channels whose replies go back in the response to the message (web chat); others use the outbox. */
  inlineChannels: ReadonlySet<string>;
  observer?: PipelineObserver;
  /** Where handoffs and promised follow-ups become tickets; without one they are only counted. */
  tickets?: TicketDesk;
  /** The optional model (OPENAI_API_KEY): proposes intents the rules missed and words FAQ answers. */
  llm?: Llm;
  /** The FAQ's embeddings (a model with OPENAI_EMBEDDING_MODEL): questions the words alone do not answer are asked again with their vector. */
  faqEmbeddings?: FaqEmbeddings;
  /** Messages one conversation may send per window before the bot only acknowledges (default 20 per 10 s). */
  rateLimit?: { messages: number; perSeconds: number };
  /** The texts of the 回访 question and its thanks (from the library's handover part). */
  handoverTexts?: () => { satisfactionAsk: Text; satisfactionThanks: Text };
  /** The customer's 回访 answer to the ticket it was asked for. */
  onSatisfaction?: (ticketId: string, score: number) => Promise<void>;
  /** Called after a commit queued outbox items, so delivery starts at once. */
  onQueued?: () => void;
  /** Report counters: told after each commit, so a retried turn counts once (docs/reports.md). */
  reports?: ReportRecorder;
  actionTimeoutMs?: number;
  /** The per-conversation lock's lease, renewed while a turn runs; a dead process's lock frees after it (default 5 s). */
  lockTtlMs?: number;
  lockWaitMs?: number;
}

/** What a turn produced for the caller. */
export interface TurnReply {
  duplicate: boolean;
  replies: Outbound[];
  /** True when the replies were queued in the outbox; false when the caller must send them itself. */
  queued: boolean;
}

export interface Pipeline {
  handle(inbound: Inbound): Promise<TurnReply>;
  /** A due timer (silence reminder): runs a turn without a customer message; replies go to the outbox. */
  fireTimer(timer: DueTimer): Promise<void>;
  /** Sends a message later, outside a turn of the customer's (an agent's reply, a push). */
  sendLater(ref: ConversationRef, message: Outbound, from: 'bot' | 'agent', by?: string): Promise<void>;
  /**
   * A person gives the conversation back: `resume` goes on with the flow where it was;
   * `satisfaction` asks the 回访 question for the ticket, and the bot answers from then on.
   */
  giveBack(conversationId: string, how: 'resume' | 'satisfaction', ticketId: string): Promise<void>;
}

/** A 回访 answer as a score 1–5: a digit, or words (非常满意 … 很不满意, good/bad). Null when it is not one. */
export function satisfactionScore(text: string): number | null {
  const t = text.trim().toLowerCase().replace(/[。.!！~～\s]+$/u, '');
  const digit = /^([1-5])(\s*分)?$/.exec(t);
  if (digit) return Number(digit[1]);
  const words: [RegExp, number][] = [
    [/^(非常满意|很满意|超级满意|五星|excellent|very satisfied)$/, 5],
    [/^(满意|挺好|不错|好评|good|satisfied)$/, 4],
    [/^(一般|还行|还可以|ok|okay|average)$/, 3],
    [/^(不满意|不太满意|差|差评|bad|dissatisfied)$/, 2],
    [/^(很不满意|非常不满意|太差|很差|terrible|very dissatisfied)$/, 1],
  ];
  return words.find(([re]) => re.test(t))?.[1] ?? null;
}

/** Slot kinds the model may propose; each goes through the same extractor as a typed answer. */
const MODEL_SLOT_TYPES: string[] = ['orderId', 'size', 'color', 'quantity', 'heightCm', 'weightKg'];
/** How sure the model must say it is before its intent starts a flow. */
const MODEL_INTENT_CONFIDENCE = 0.7;
/** Conversations whose last committed version this process remembers. */
const WRITTEN_REMEMBERED = 10_000;

export function createPipeline(deps: PipelineDeps): Pipeline {
  const locks = new ConversationLocks(deps.store.locks, { ttlMs: deps.lockTtlMs ?? 5_000, waitMs: deps.lockWaitMs ?? 10_000 });
  const actionTimeoutMs = deps.actionTimeoutMs ?? 5_000;

  function textOf(lib: CompiledLibrary, text: Text, lang: Lang): string {
    return text[lang] ?? lib.content.replies.apology.zh;
  }

  /** The bot's lines of a turn in the transcript; ids match the outbox items' (`<id>:<n>`). */
  function botLines(id: string, replies: Outbound[], at: Date): TranscriptEntry[] {
    return replies.map((r, i) => ({ from: 'bot', text: outboundText(r), at: at.toISOString(), messageId: `${id}:${i}` }));
  }

  function toOutbox(id: string, ref: ConversationRef, replies: Outbound[], at: string): OutboxItem[] {
    return replies.map((message, i) => ({
      id: `${id}:${i}`,
      conversationId: conversationIdOf(ref),
      ref: { ...ref },
      message: { ...message },
      at,
      attempts: 0,
    }));
  }

  /**
   * The version this process last committed of each conversation (the last 10,000 written): a
   * state loaded at that version is the one this process wrote, checked when it was read and
   * typed since, so it is not parsed again (a tenth of a turn's time). Any other is checked.
   */
  const written = new Map<string, number>();
  function wrote(id: string, version: number): void {
    written.delete(id);
    written.set(id, version);
    if (written.size > WRITTEN_REMEMBERED) written.delete(written.keys().next().value as string);
  }
  function stateOf(id: string, loaded: { version: number; state: JsonObject }): ConversationState | null {
    return written.get(id) === loaded.version ? (loaded.state as unknown as ConversationState) : parseConversation(loaded.state);
  }

  /** The saved conversation, or a new one (binding the shop customer by channel identity). */
  async function resumeOrStart(ref: ConversationRef, inbound: Inbound | null, loaded: { version: number; state: JsonObject } | null): Promise<{ state: ConversationState; version: number }> {
    const parsed = loaded ? stateOf(conversationIdOf(ref), loaded) : null;
    if (loaded && parsed) return { state: parsed, version: loaded.version };
    const state = newConversation(ref, deps.now());
    if (inbound?.customer.displayName) state.customer.displayName = inbound.customer.displayName;
    // The platform's language (Telegram's language_code) until the customer's own words say otherwise.
    if (inbound?.customer.languageHint) state.dialog.lang = inbound.customer.languageHint.toLowerCase().startsWith('en') ? 'en' : 'zh';
    if (ref.channel === 'wechat' || ref.channel === 'telegram') {
      // A slow shop must not hold up the first message: without an answer in time, no binding yet.
      const customer = await Promise.race([
        deps.shop.customerByChannel(ref.channel, ref.userId).catch(() => null),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), 1500).unref()),
      ]);
      if (customer) state.customer.shopCustomerId = customer.id;
      state.dialog.salutation = salutationOf(customer ?? null, inbound?.customer.displayName);
    }
    return { state, version: loaded?.version ?? 0 };
  }

  function actionContext(state: ConversationState) {
    return (vars: Vars, lang: Lang): ActionContext => ({
      shop: deps.shop,
      now: deps.now,
      lang,
      conversationId: conversationIdOf(state.ref),
      shopCustomerId: state.customer.shopCustomerId,
      vars,
      actor: `bot@${conversationIdOf(state.ref)}`,
    });
  }

  type TicketAsk = Pick<TicketRequest, 'kind' | 'reason' | 'priority' | 'dueAt' | 'note'>;

  /** Applies the non-reply effects to the state; returns the replies, timer changes and tickets to open. */
  function applyEffects(state: ConversationState, effects: Effect[], reported?: ReportEvent[]): { replies: Outbound[]; timers: Effect[]; tickets: TicketAsk[] } {
    const replies: Outbound[] = [];
    const timers: Effect[] = [];
    const tickets: TicketAsk[] = [];
    for (const effect of effects) {
      switch (effect.kind) {
        case 'reply': replies.push(effect.message); break;
        case 'handoff':
          state.mode = 'human';
          state.humanAcked = false;
          state.handoff = { reason: effect.reason, priority: effect.priority, at: deps.now().toISOString() };
          tickets.push({ kind: 'handoff', reason: effect.reason, priority: effect.priority });
          deps.observer?.handoff?.({ conversationId: conversationIdOf(state.ref), ref: state.ref, reason: effect.reason, priority: effect.priority, customerName: state.customer.displayName });
          break;
        case 'followUp':
          tickets.push({ kind: 'follow_up', reason: effect.reason, priority: effect.priority ?? (effect.reason === 'follow_up' ? 'normal' : 'high'), dueAt: effect.dueAt, note: effect.note });
          break;
        case 'setTimer': case 'cancelTimer': timers.push(effect); break;
        case 'record':
          deps.observer?.recorded?.(effect.event, effect.detail);
          reported?.push({ kind: 'engine', event: effect.event, ...(effect.detail !== undefined ? { detail: effect.detail } : {}) });
          break;
        case 'action': throw new Error('the runtime performs actions; none may reach the pipeline');
        default: assertNever(effect);
      }
    }
    return { replies, timers, tickets };
  }

  /**
   * Opens the turn's tickets before its commit ("intent first"): a turn that then fails to commit
   * leaves at most a ticket that its retry opens again under the same id, never a lost promise.
   */
  async function openTickets(state: ConversationState, asks: TicketAsk[], turnId: string, recent: TranscriptEntry[]): Promise<Outbound[]> {
    if (!deps.tickets || asks.length === 0) return [];
    const conversationId = conversationIdOf(state.ref);
    const last = state.dialog.frame ?? state.dialog.last;
    const notices: Outbound[] = [];
    for (const [i, ask] of asks.entries()) {
      const opened = await deps.tickets.open({
        id: `${conversationId}|${turnId}|${i}`,
        conversationId,
        ref: state.ref,
        customerName: state.customer.displayName ?? null,
        ...ask,
        context: {
          intent: state.dialog.intent,
          flow: last?.flow ?? null,
          step: last?.step ?? null,
          slots: visibleSlots(state.dialog.frame ? { ...state.dialog.frame.data, ...state.dialog.frame.slots } : state.lastSlots ?? {}),
          lastMessages: recent.slice(-10),
          lang: state.dialog.lang,
        },
      });
      if (opened.notice) notices.push({ kind: 'text', text: opened.notice[state.dialog.lang] });
    }
    return notices;
  }

  /** Timer changes: a new timer is set before the commit (a stale one is ignored when it fires), cancels after. */
  async function setTimers(id: string, timers: Effect[]): Promise<void> {
    for (const t of timers) if (t.kind === 'setTimer') await deps.store.timers.set({ conversationId: id, name: t.name, at: t.at });
  }
  async function cancelTimers(id: string, timers: Effect[]): Promise<void> {
    for (const t of timers) if (t.kind === 'cancelTimer') await deps.store.timers.cancel(id, t.name);
  }

  /** Runs a customer message in human mode: the bot stays quiet but for one acknowledgement. */
  function humanModeTurn(lib: CompiledLibrary, state: ConversationState, u: Understanding): Outbound[] {
    const replies = lib.content.replies;
    if (u.control === 'cancel') {
      // The customer no longer wants to wait for a person: the bot takes the conversation back.
      state.mode = 'bot';
      state.handoff = null;
      return [{ kind: 'text', text: textOf(lib, replies.cancelled, state.dialog.lang) }, { kind: 'text', text: textOf(lib, replies.anythingElse, state.dialog.lang) }];
    }
    if (state.humanAcked) return [];
    state.humanAcked = true;
    return [{ kind: 'text', text: textOf(lib, replies.humanModeAck, state.dialog.lang) }];
  }

  const rateLimit = deps.rateLimit ?? { messages: 20, perSeconds: 10 };

  /** Slots for people to read: the engine's own bookkeeping (keys starting with _) left out. */
  function visibleSlots(slots: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(slots).filter(([key]) => !key.startsWith('_')));
  }

  /** Whether the conversation's rate window is still open at `nowMs`. */
  function inWindow(rate: ConversationState['rate'], nowMs: number): rate is NonNullable<ConversationState['rate']> {
    return rate !== undefined && nowMs - rate.windowStart < rateLimit.perSeconds * 1000;
  }

  /** Whether this message would be past the rate limit (what overRate will say), without counting it. */
  function floodAt(state: ConversationState, nowMs: number): boolean {
    return inWindow(state.rate, nowMs) && state.rate.count + 1 > rateLimit.messages;
  }

  /** Counts the message in the conversation's window (kept in its state, so all processes share it). */
  function overRate(state: ConversationState, nowMs: number): boolean {
    if (!inWindow(state.rate, nowMs)) state.rate = { windowStart: nowMs, count: 0, warned: false };
    state.rate.count += 1;
    return state.rate.count > rateLimit.messages;
  }

  /**
   * The rules found no intent: the model proposes one from the library's intents. Its intent is
   * taken only when sure and known; its slots only when the same extractors accept them, and
   * never over what the rules found. On any failure the rules' understanding stands.
   */
  async function withModelUnderstanding(lib: CompiledLibrary, text: string, u: Understanding): Promise<Understanding> {
    const guess = await deps.llm!.understand({
      text,
      lang: u.lang,
      intents: lib.content.intents.map((i) => ({ id: i.id, examples: [...i.examples.zh.slice(0, 5), ...i.examples.en.slice(0, 3)] })),
      slotTypes: MODEL_SLOT_TYPES,
    });
    if (!guess) return u;
    const slots = { ...u.slots };
    for (const [type, raw] of Object.entries(guess.slots)) {
      if (!MODEL_SLOT_TYPES.includes(type) || type in slots) continue;
      const found = extractSlot(type as SlotType, raw);
      if (found.ok) (slots as Record<string, unknown>)[type] = found.value;
    }
    const known = guess.intent !== null && lib.flowByIntent.has(guess.intent) && guess.confidence >= MODEL_INTENT_CONFIDENCE;
    const intent = known ? { id: guess.intent!, confidence: Math.min(guess.confidence, 0.95) } : null;
    return { ...u, slots, intent, candidates: intent ? [intent, ...u.candidates] : u.candidates };
  }

  /**
   * An FAQ answer worded by the model from its entry, in the customer's words, citing the entry.
   * The entry's own text stays when the model fails, cites anything else, or says a forbidden phrase.
   */
  async function wordFaqAnswers(lib: CompiledLibrary, question: string, lang: Lang, effects: Effect[]): Promise<void> {
    for (const [i, effect] of effects.entries()) {
      const next = effects[i + 1];
      if (effect.kind !== 'reply' || effect.message.kind !== 'text' || next?.kind !== 'record' || next.event !== 'faq_answered') continue;
      const entry = lib.content.faq.find((e) => e.id === next.detail);
      if (!entry) continue;
      const worded = await deps.llm!.wordAnswer({ question, lang, entries: [{ id: entry.id, question: entry.question, answer: answerIn(entry, lang) }] });
      if (!worded || worded.citedId !== entry.id) continue;
      if (lib.content.forbidden.some((phrase) => worded.text.includes(phrase))) continue;
      effects[i] = { kind: 'reply', message: { kind: 'text', text: worded.text } };
    }
  }

  /**
   * The FAQ would ask "您是想问 A 还是 B?": the model may pick the one candidate that answers, and
   * the customer gets that entry's own text. An entry not offered, none, or a failure: the
   * question stays as it was. Returns whether the model was asked.
   */
  async function resolveClarification(lib: CompiledLibrary, question: string, lang: Lang, effects: Effect[]): Promise<boolean> {
    const at = effects.findIndex((e, i) => e.kind === 'reply' && effects[i + 1]?.kind === 'record' && (effects[i + 1] as { event?: string }).event === 'faq_clarified');
    if (at < 0) return false;
    const chosen = await resolveWithModel({ question, lang, candidates: modelCandidates(lib.faq.inspect(question, MODEL_MAX_CANDIDATES)) }, deps.llm!);
    if (chosen) {
      effects[at] = { kind: 'reply', message: { kind: 'text', text: answerIn(chosen, lang) } };
      effects[at + 1] = { kind: 'record', event: 'faq_answered', detail: chosen.id };
    }
    return true;
  }

  // Hits kept of a question asked with its vector (the model is offered at most 3, the console 5).
  const FAQ_HITS = 10;

  /**
   * With embeddings ready for this library's FAQ, a question the words alone would not answer is
   * asked again with its vector (FaqEmbeddings.askWithVector): the turn's library gives that
   * inspection for this text. Otherwise the library stays as it is; `failed`: the model did not
   * embed the text, and the turn then asks it nothing more.
   */
  async function withFaqVectors(lib: CompiledLibrary, text: string): Promise<{ lib: CompiledLibrary; failed: boolean }> {
    if (!deps.faqEmbeddings) return { lib, failed: false };
    const { inspection, failed } = await deps.faqEmbeddings.askWithVector(lib.faq, text, FAQ_HITS);
    if (!inspection) return { lib, failed };
    const { faq } = lib;
    return {
      lib: {
        ...lib,
        faq: {
          ...faq,
          decide: (t) => (t === text ? inspection.decision : faq.decide(t)),
          inspect: (t, limit = 5) => (t === text ? { ...inspection, hits: inspection.hits.slice(0, limit) } : faq.inspect(t, limit)),
          search: (t, limit = 5) => (t === text ? inspection.hits.slice(0, limit) : faq.search(t, limit)),
        },
      },
      failed: false,
    };
  }

  /**
   * Commits a turn that no customer message started (a timer fired, a person gave the
   * conversation back): its tickets, the bot's lines, the outbox, timers and counts, as a
   * customer's turn does.
   */
  async function commitBotTurn(turn: {
    state: ConversationState; version: number; itemId: string; at: Date;
    replies: Outbound[]; timers: Effect[]; tickets: TicketAsk[]; reported: ReportEvent[];
  }): Promise<void> {
    const { state, itemId, at, replies, timers } = turn;
    const id = conversationIdOf(state.ref);
    await setTimers(id, timers);
    if (turn.tickets.length > 0) replies.push(...await openTickets(state, turn.tickets, itemId, await deps.store.conversations.transcript(id, 10)));
    const committed = await deps.store.conversations.commit({
      conversationId: id,
      expectedVersion: turn.version,
      state: state as unknown as Record<string, unknown>,
      transcript: botLines(itemId, replies, at),
      outbox: toOutbox(itemId, state.ref, replies, at.toISOString()),
    });
    wrote(id, committed.version);
    await cancelTimers(id, timers);
    await deps.reports?.record(at, id, [{ kind: 'botMessages', count: replies.length }, ...turn.reported]);
    if (replies.length > 0) deps.onQueued?.();
  }

  /** A customer message's turn on the conversation as beginTurn found it, under the turn lock `held`. */
  async function turn(inbound: Inbound, saved: { version: number; state: JsonObject } | null, held: HeldLock): Promise<TurnReply> {
    const ref = inbound.ref;
    const id = conversationIdOf(ref);
    const inline = deps.inlineChannels.has(ref.channel);
    const { state, version } = await resumeOrStart(ref, inbound, saved);
    const at = deps.now();
    let lib = deps.library();
    let u = lib.understand(inbound.text);
    // Embeddings only for a question: never a flow's answer, a message with an order number, a
    // phone or any other slot in it, a control word, a 回访 score, or a flood.
    let embedFailed = false;
    if (state.mode === 'bot' && !state.dialog.frame && !u.control && Object.keys(u.slots).length === 0
      && !state.satisfaction && !floodAt(state, at.getTime())) {
      ({ lib, failed: embedFailed } = await withFaqVectors(lib, inbound.text));
    }
    // The model is asked only when the rules found nothing and no flow waits for an answer (a flow's
    // question is answered by its own extractor; digits and addresses never go out for that).
    // Nor when the FAQ has something to say: then the one model call of the turn picks among the
    // FAQ's candidates (ask-back) or words its answer.
    // Not when the provider just failed to embed this text: a slow provider costs one time limit.
    const askModel = deps.llm !== undefined && !embedFailed && state.mode === 'bot' && !state.dialog.frame && !u.intent && !u.control && !state.satisfaction
      && lib.faq.decide(inbound.text).kind === 'abstain';
    if (askModel) u = await withModelUnderstanding(lib, inbound.text, u);
    let replies: Outbound[];
    let timers: Effect[] = [];
    let tickets: TicketAsk[] = [];
    let outcome: string;
    const reported: ReportEvent[] = [];
    const rating = state.satisfaction ? satisfactionScore(inbound.text) : null;
    const ratedTicket = state.satisfaction?.ticketId;
    // The 回访 question is asked once: whatever the answer, the next message is a new topic.
    state.satisfaction = null;
    if (overRate(state, at.getTime())) {
      // A burst past the limit: every message is kept in the transcript, the customer is told
      // once per window, and the bot does not run a turn for each (a flood stays cheap).
      replies = state.rate!.warned ? [] : [{ kind: 'text', text: lib.content.replies.rateLimited[state.dialog.lang] }];
      state.rate!.warned = true;
      outcome = 'rateLimited';
    } else if (rating !== null && ratedTicket) {
      await deps.onSatisfaction?.(ratedTicket, rating);
      const thanks = deps.handoverTexts?.().satisfactionThanks;
      replies = thanks ? [{ kind: 'text', text: thanks[state.dialog.lang] }] : [];
      outcome = 'rated';
    } else if (state.mode === 'human') {
      if (saysLanguage(inbound.text)) state.dialog.lang = u.lang;
      replies = humanModeTurn(lib, state, u);
      outcome = state.mode === 'human' ? 'withPerson' : 'complete';
      deps.observer?.customerMessageInHumanMode?.({ conversationId: id, text: inbound.text });
    } else {
      const event: EngineEvent = { type: 'message', text: inbound.text, understanding: u, at: at.getTime(), ...(inbound.imageUrl ? { imageUrl: inbound.imageUrl } : {}) };
      const output = await runTurn(lib, state.dialog, event, actionContext(state), { actionTimeoutMs });
      // One model call per turn at most, so a slow provider costs one time limit, not two:
      // an FAQ that would ask back lets the model pick among its candidates, else an answer is worded.
      if (deps.llm && !askModel && !(await resolveClarification(lib, inbound.text, output.state.lang, output.effects))) {
        await wordFaqAnswers(lib, inbound.text, output.state.lang, output.effects);
      }
      state.dialog = output.state;
      if (output.state.frame) state.lastSlots = visibleSlots({ ...output.state.frame.data, ...output.state.frame.slots });
      ({ replies, timers, tickets } = applyEffects(state, output.effects, reported));
      outcome = output.outcome;
    }
    state.updatedAt = at.toISOString();
    const customerLine: TranscriptEntry = { from: 'customer', text: inbound.text, at: inbound.at, messageId: inbound.id, ...(inbound.imageUrl ? { imageUrl: inbound.imageUrl } : {}) };
    if (tickets.length > 0) {
      const earlier = await deps.store.conversations.transcript(id, 10);
      replies.push(...await openTickets(state, tickets, inbound.id, [...earlier, customerLine]));
    }
    const lines: TranscriptEntry[] = [
      customerLine,
      ...botLines(inbound.id, replies, at),
    ];
    await setTimers(id, timers);
    // The commit frees the turn lock too, unless timers are still to be cancelled: that must
    // happen under the lock, or it could cancel a timer the conversation's next turn set.
    const unlock = timers.some((t) => t.kind === 'cancelTimer') ? undefined : held.token;
    const committed = await deps.store.conversations.commit({
      conversationId: id,
      expectedVersion: version,
      state: state as unknown as Record<string, unknown>,
      messageId: inbound.id,
      transcript: lines,
      outbox: inline ? [] : toOutbox(inbound.id, ref, replies, at.toISOString()),
      ...(unlock ? { unlock } : {}),
    });
    if (unlock) held.released = true;
    wrote(id, committed.version);
    await cancelTimers(id, timers);
    await deps.reports?.record(at, id, [{ kind: 'customerMessage', newConversation: version === 0 }, { kind: 'botMessages', count: replies.length }, ...reported]);
    if (!inline && replies.length > 0) deps.onQueued?.();
    deps.observer?.turn?.({ conversationId: id, ms: Date.now() - at.getTime(), outcome, channel: ref.channel });
    return { duplicate: false, replies, queued: !inline };
  }

  /** The one error boundary of a turn (STYLE.md §6): log with the conversation, apologise, offer a person. */
  function failed(inbound: Inbound, error: unknown): TurnReply {
    const lib = deps.library();
    // Nothing of the conversation can be trusted here, so the language comes from the text alone;
    // an order number or digits say nothing, and Chinese is the default.
    const lang: Lang = /[a-z]{2,}/i.test(inbound.text) && !/[\u4e00-\u9fff]/.test(inbound.text) ? 'en' : 'zh';
    const replies = lib.content.replies;
    const conversationId = conversationIdOf(inbound.ref);
    if (error instanceof StoreUnavailable || error instanceof LockTimeout) {
      deps.observer?.failure?.(error instanceof LockTimeout ? 'busy' : 'store_down');
      deps.log.warn({ conversationId, err: error.message }, 'turn not run: store unavailable or busy');
      return { duplicate: false, replies: [{ kind: 'text', text: replies.systemBusy[lang] }], queued: false };
    }
    deps.observer?.failure?.('flow_error');
    deps.log.error({ conversationId, err: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error) }, 'turn failed');
    return {
      duplicate: false,
      replies: [{ kind: 'quickReplies', text: replies.apology[lang], options: [{ label: replies.humanButton[lang], value: lang === 'zh' ? '转人工' : 'human' }] }],
      queued: false,
    };
  }

  /**
   * A customer message: the turn lock is taken in the step that loads the conversation (and
   * finds a message handled before), and freed by the commit.
   */
  async function customerTurn(inbound: Inbound): Promise<TurnReply> {
    const id = conversationIdOf(inbound.ref);
    const begin = (token: string): Promise<TurnStart> => deps.store.conversations.beginTurn(id, inbound.id, token, locks.opts.ttlMs);
    let start: TurnStart = { kind: 'busy' };
    return withConversation(id, async (held, attempt) => {
      // A retry starts again from the state as it is now (the lock is ours already).
      if (attempt > 0) start = await begin(held.token);
      if (start.kind === 'busy') throw new LockTimeout(id);
      if (start.kind === 'seen') {
        held.released = true;
        deps.observer?.duplicate?.(inbound.ref.channel);
        return { duplicate: true, replies: [], queued: false };
      }
      return turn(inbound, start.saved, held);
    }, async (token) => {
      start = await begin(token);
      return start.kind !== 'busy';
    });
  }

  /** Runs `work` under the conversation's turn lock (taken by `acquire` when given), again on a version conflict. */
  async function withConversation<T>(id: string, work: (held: HeldLock, attempt: number) => Promise<T>, acquire?: Acquire): Promise<T> {
    return locks.run(id, async (held) => {
      // A lost lock shows up as a version conflict at commit: run the turn again on the fresh state.
      for (let attempt = 0; ; attempt++) {
        try {
          return await work(held, attempt);
        } catch (error) {
          if (error instanceof VersionConflict && attempt < 2) continue;
          throw error;
        }
      }
    }, acquire);
  }

  return {
    async handle(inbound) {
      try {
        return await customerTurn(inbound);
      } catch (error) {
        return failed(inbound, error);
      }
    },

    async fireTimer(timer) {
      await withConversation(timer.conversationId, async () => {
        const loaded = await deps.store.conversations.load(timer.conversationId);
        const state = loaded ? stateOf(timer.conversationId, loaded) : null;
        if (!loaded || !state || state.mode === 'human') return;
        const lib = deps.library();
        const at = deps.now();
        const output = await runTurn(lib, state.dialog, { type: 'timer', name: timer.name === 'reminder' ? 'reminder' : 'silence', at: at.getTime(), due: timer.at }, actionContext(state), { actionTimeoutMs });
        state.dialog = output.state;
        const reported: ReportEvent[] = [];
        const { replies, timers, tickets } = applyEffects(state, output.effects, reported);
        if (replies.length === 0 && timers.length === 0 && tickets.length === 0) return;
        await commitBotTurn({ state, version: loaded.version, itemId: `timer:${timer.name}:${timer.at}`, at, replies, timers, tickets, reported });
      });
    },

    async giveBack(conversationId, how, ticketId) {
      await withConversation(conversationId, async () => {
        const loaded = await deps.store.conversations.load(conversationId);
        const state = loaded ? stateOf(conversationId, loaded) : null;
        if (!loaded || !state) return;
        const lib = deps.library();
        const at = deps.now();
        const wasWithPerson = state.mode === 'human';
        state.mode = 'bot';
        state.handoff = null;
        state.humanAcked = false;
        let replies: Outbound[] = [];
        let timers: Effect[] = [];
        let tickets: TicketAsk[] = [];
        const reported: ReportEvent[] = [];
        if (how === 'resume') {
          if (wasWithPerson) {
            const output = await runTurn(lib, state.dialog, { type: 'resume', at: at.getTime() }, actionContext(state), { actionTimeoutMs });
            state.dialog = output.state;
            // A flow resumed may hand off or promise again at once: those tickets are opened too.
            ({ replies, timers, tickets } = applyEffects(state, output.effects, reported));
          }
        } else {
          // The case is closed: what the bot was doing before the person took over is over too.
          if (wasWithPerson) { state.dialog.frame = null; state.dialog.suspended = []; }
          const ask = deps.handoverTexts?.().satisfactionAsk;
          if (ask) {
            const lang = state.dialog.lang;
            replies = [{ kind: 'quickReplies', text: ask[lang], options: [5, 4, 3, 2, 1].map((n) => ({ label: lang === 'zh' ? `${n}分` : String(n), value: String(n) })) }];
            state.satisfaction = { ticketId };
          }
        }
        state.updatedAt = at.toISOString();
        await commitBotTurn({ state, version: loaded.version, itemId: `giveback:${ticketId}:${how}`, at, replies, timers, tickets, reported });
      });
    },

    async sendLater(ref, message, from, by) {
      const id = conversationIdOf(ref);
      const at = deps.now().toISOString();
      const itemId = `${from}:${at}:${Math.random().toString(36).slice(2, 10)}`;
      await deps.store.outbox.enqueue([{ id: itemId, conversationId: id, ref: { ...ref }, message: { ...message, ...(from === 'agent' ? { from } : {}) }, at, attempts: 0 }]);
      await deps.store.conversations.appendTranscript(id, [{ from, text: outboundText(message), at, messageId: itemId, ...(by ? { by } : {}) }]);
      deps.onQueued?.();
    },
  };
}
