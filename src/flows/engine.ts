/**
 * The flow engine: a pure reducer `step(library, state, event) -> {state, effects, outcome}`.
 * It performs nothing; effects are data that the runtime and the conversation pipeline carry out
 * (XState's transition: "a pure function that does not execute actions").
 */
import type { Lang, Outbound, QuickReply } from '../bots/messages.ts';
import type { IntentGuess, Understanding } from '../understanding/types.ts';
import type { CompiledFlow, CompiledLibrary } from './compile.ts';
import { isAwaiting } from './compile.ts';
import { FlowError } from './errors.ts';
import type { ActionResult, Json, Vars } from './registry.ts';
import { policyNumber, type HandoffReason, type Priority, type ReplyName, type Step, type StepOf, type Text } from './schema.ts';
import { extractSlot, extractSlots } from '../understanding/slots.ts';
import { answerIn, type FaqDecision } from '../knowledge/faq.ts';

/** Where a running flow is: its step, and what it has collected so far. */
export interface FlowFrame {
  flow: string;
  step: string;
  slots: Vars;
  data: Vars;
  /** Answers at the current step that did not fit. */
  tries: number;
}

/** The engine's part of a conversation's state. Plain JSON. */
export interface DialogState {
  lang: Lang;
  frame: FlowFrame | null;
  /** Flows put aside by a change of topic, resumed when the new one ends (last in, first out). */
  suspended: FlowFrame[];
  /** The last flow and step, kept after the flow ends (for the agent's view). */
  last: { flow: string; step: string } | null;
  /** The last intent understood. */
  intent: string | null;
  /** Messages in a row the bot could not understand. */
  notUnderstood: number;
  /** The pending silence timer: its stage and due time (ms); a timer with another time is stale. */
  silence: { stage: 0 | 1; at: number } | null;
  /** How to address the customer ("张先生"), when known. */
  salutation: Text | null;
  /**
   * A follow-up the bot will start by itself later (an unpaid order, an abandoned cart): the flow
   * to run, when (ms), and what it starts with. One at a time; a later one replaces it.
   */
  reminder?: PendingReminder | null;
  /** The customer said "别再提醒"; no reminder is set again in this conversation. */
  remindersOff?: boolean;
  /** Reminders already set once (flow and order), so none is sent twice. */
  remindersSent?: string[];
}

/** A reminder waiting for its time. */
export interface PendingReminder {
  flow: string;
  at: number;
  vars: Vars;
}

export function newDialog(lang: Lang = 'zh'): DialogState {
  return { lang, frame: null, suspended: [], last: null, intent: null, notUnderstood: 0, silence: null, salutation: null, reminder: null, remindersOff: false, remindersSent: [] };
}

/** The engine's timers: the silence reminder/close of a flow, and the follow-up reminder. */
export type TimerName = 'silence' | 'reminder';

/** What happened that the engine reacts to. */
export type EngineEvent =
  /** A customer message; `imageUrl` when it carries a picture (a photo of damaged goods). */
  | { type: 'message'; text: string; understanding: Understanding; at: number; imageUrl?: string }
  | { type: 'actionResult'; result: ActionResult; at: number }
  | { type: 'timer'; name: TimerName; at: number; due: number }
  /** A person gave the conversation back to the bot: go on where the flow was. */
  | { type: 'resume'; at: number };

/** Things the engine asks to be done, as data. */
export type Effect =
  | { kind: 'reply'; message: Outbound }
  | { kind: 'action'; name: string; vars: Vars }
  | { kind: 'handoff'; reason: HandoffReason; priority: Priority }
  /** A promise to keep later: a ticket due at `dueAt` (ms); the conversation stays with the bot. */
  | { kind: 'followUp'; reason: 'follow_up' | 'system_down' | 'complaint'; dueAt: number; note: string; priority?: Priority }
  | { kind: 'setTimer'; name: TimerName; at: number }
  | { kind: 'cancelTimer'; name: TimerName }
  | { kind: 'record'; event: RecordedEvent; detail?: string };

/** Events counted for reports. */
export type RecordedEvent = 'flow_started' | 'flow_completed' | 'faq_answered' | 'faq_clarified' | 'faq_abstained' | 'not_understood' | 'topic_changed';

/** How the turn ended: waiting for the customer, done, with a person, or waiting for an action's result. */
export type Outcome = 'waiting' | 'complete' | 'handedOff' | 'action';

export interface StepResult {
  state: DialogState;
  effects: Effect[];
  outcome: Outcome;
}

/** How sure an order intent must be when the message carries an order number (the number says "my order"). */
const ORDER_HINT_CONFIDENCE = 0.15;

/** Slot kinds a customer often gives together, taken from an answer to another question ("172 65kg"). */
const ALSO_GIVEN: readonly string[] = ['heightCm', 'weightKg'];

/** Steps one flow may run in a turn before the engine decides the flow loops. */
const MAX_STEPS_PER_TURN = 50;

/** The reducer. Never throws for customer input; throws FlowError only for a broken library state. */
export function step(lib: CompiledLibrary, state: DialogState, event: EngineEvent): StepResult {
  // A copy to change (the reducer is pure); the state is JSON data, and a JSON round trip copies
  // it faster than structuredClone.
  return stepOwned(lib, JSON.parse(JSON.stringify(state)) as DialogState, event);
}

/**
 * {@link step} on a state the caller owns and gives up (a state a step returned): changed in
 * place instead of copied. runTurn's steps after the first use it.
 */
export function stepOwned(lib: CompiledLibrary, state: DialogState, event: EngineEvent): StepResult {
  const turn = new Turn(lib, state, event.at);
  switch (event.type) {
    case 'message': turn.onMessage(event.text, event.understanding, event.imageUrl); break;
    case 'actionResult': turn.onActionResult(event.result); break;
    case 'timer':
      if (event.name === 'reminder') turn.onReminder(event.due);
      else turn.onSilence(event.due);
      break;
    case 'resume': turn.onResume(); break;
    default: { const never: never = event; throw new Error(`unknown event ${JSON.stringify(never)}`); }
  }
  return turn.result();
}

/** One turn's scratch: the state being changed and the effects collected. */
class Turn {
  private effects: Effect[] = [];
  private outcome: Outcome = 'complete';

  constructor(private readonly lib: CompiledLibrary, private readonly s: DialogState, private readonly now: number) {}

  /** Set when a silence timer fired: that handler decides about the next timer itself. */
  private silenceHandled = false;

  result(): StepResult {
    if (this.outcome !== 'action' && !this.silenceHandled) {
      if (this.outcome === 'waiting' && this.s.frame) {
        const at = this.now + this.lib.content.policy.silenceRemindMinutes * 60_000;
        this.s.silence = { stage: 0, at };
        this.effects.push({ kind: 'setTimer', name: 'silence', at });
      } else if (this.s.silence) {
        this.s.silence = null;
        this.effects.push({ kind: 'cancelTimer', name: 'silence' });
      }
    }
    return { state: this.s, effects: this.effects, outcome: this.outcome };
  }

  // ---- events ------------------------------------------------------------------------------

  onMessage(text: string, u: Understanding, imageUrl?: string): void {
    if (saysLanguage(text)) this.s.lang = u.lang;
    if (u.intent) this.s.intent = u.intent.id;
    this.imageUrl = imageUrl;
    if (u.control === 'human') return this.handoff('customer_request', 'normal', 'handoff');
    if (u.sentiment === 'abusive') return this.handoff('abuse', 'urgent', 'abuseSoothe');

    const frame = this.s.frame;
    if (frame) {
      // An option the flow offers wins over the control word it resembles ("不用了" to a reminder is the opt-out).
      const waiting = this.stepOf(frame);
      if (waiting.type === 'choose' && chooseOption(waiting, text, this.s.lang)) return this.answer(frame, waiting, text, u);
      if (u.control === 'cancel') {
        this.s.frame = null;
        this.say('cancelled');
        return this.resumeSuspendedOr(() => this.say('anythingElse'));
      }
      const current = this.stepOf(frame);
      if (isAwaiting(current)) return this.answer(frame, current, text, u);
      // A frame at a non-waiting step (e.g. after a handoff) starts afresh from the customer's words.
      this.s.frame = null;
    }
    if (u.control === 'cancel') { this.say('cancelled'); this.say('anythingElse'); return; }
    this.newTopic(text, u);
  }

  /** The picture of the message being handled, if any (for a `photo` question). */
  private imageUrl: string | undefined;

  onActionResult(result: ActionResult): void {
    const frame = this.s.frame;
    if (!frame) throw new FlowError('?', '?', 'action result without a running flow');
    const current = this.stepOf(frame);
    if (current.type === 'ask' && current.before) {
      // The question's preparation: its data (options) is kept, a refusal just leaves the question plain.
      if (result.ok) Object.assign(frame.data, result.data ?? {});
      return this.go(frame, current.id);
    }
    if (current.type !== 'action') throw new FlowError(frame.flow, frame.step, 'action result at a step that is not an action');
    if (result.ok) {
      Object.assign(frame.data, result.data ?? {});
      for (const message of result.replies ?? []) this.reply(message);
      return this.go(frame, this.nextOf(frame, current));
    }
    Object.assign(frame.data, result.data ?? {});
    if (result.quiet && current.onError && !result.handoff) {
      const target = this.flow(frame.flow).steps.get(current.onError);
      if (target?.type === 'ask') delete frame.slots[target.slot];
      return this.go(frame, current.onError);
    }
    this.reply({ kind: 'text', text: this.render(result.text, this.vars(frame)) });
    if (result.handoff === 'system_down') {
      // The handbooks: note the question, apologise, promise to handle it when the system is
      // back, and keep the promise: a follow-up ticket holds it; the customer stays with the bot.
      const flow = this.flow(frame.flow).flow;
      const dueAt = this.now + this.lib.content.policy.followUpHours * 3_600_000;
      this.effects.push({ kind: 'followUp', reason: 'system_down', dueAt, note: `${flow.title.zh} (${flow.id}/${frame.step}): ${JSON.stringify(frame.slots)}` });
      const promise = this.lib.content.replies.systemDownPromise;
      if (promise) this.reply({ kind: 'text', text: this.render(promise, { ...this.vars(frame), dueAt: formatDue(dueAt, this.s.lang) }) });
      this.s.frame = null;
      this.outcome = 'complete';
      return this.resumeSuspendedOr(() => this.say('anythingElse'));
    }
    // A refusal by the shop's rules follows the flow's onError; without one, a person takes over.
    if (current.onError && !result.handoff) {
      // A flow that keeps meeting refusals is a dead end for the customer: a person takes over.
      const refusals = (typeof frame.data._refusals === 'number' ? frame.data._refusals : 0) + 1;
      frame.data._refusals = refusals;
      if (refusals >= this.lib.content.policy.maxRefusals) {
        const tooMany = this.lib.content.replies.tooManyRefusals;
        if (tooMany) this.reply({ kind: 'text', text: this.render(tooMany, this.vars(frame)) });
        return this.handoff('action_failed', 'normal', tooMany ? undefined : 'handoffQueued');
      }
      // Going back to a question after a refusal asks it again: its old answer must not skip it.
      for (const slot of current.clear) delete frame.slots[slot];
      const target = this.flow(frame.flow).steps.get(current.onError);
      if (target?.type === 'ask') delete frame.slots[target.slot];
      return this.go(frame, current.onError);
    }
    this.handoff(result.handoff ?? 'action_failed', 'normal', 'handoffQueued');
  }

  onSilence(due: number): void {
    this.silenceHandled = true;
    const pending = this.s.silence;
    if (!pending || pending.at !== due) return; // stale: the customer wrote since, or the flow ended
    if (pending.stage === 0 && this.s.frame) {
      this.say('silenceReminder');
      const at = this.now + (this.lib.content.policy.silenceCloseMinutes - this.lib.content.policy.silenceRemindMinutes) * 60_000;
      this.s.silence = { stage: 1, at: Math.max(at, this.now + 1) };
      this.effects.push({ kind: 'setTimer', name: 'silence', at: this.s.silence.at });
      this.outcome = 'waiting';
      return;
    }
    this.s.silence = null;
    this.s.frame = null;
    this.s.suspended = [];
    this.say('silenceClose');
  }

  /** A reminder fell due: run its flow, unless the customer opted out or is busy with another one. */
  onReminder(due: number): void {
    this.silenceHandled = true;
    const pending = this.s.reminder;
    if (!pending || pending.at !== due) return; // stale: replaced or stopped since
    this.s.reminder = null;
    // Once only, and never in the middle of something else: a reminder that would interrupt is dropped.
    if (this.s.remindersOff || this.s.frame) return;
    this.silenceHandled = false;
    this.enterFlow(pending.flow, { ...pending.vars }, {});
  }

  onResume(): void {
    const frame = this.s.frame;
    if (!frame) { this.say('anythingElse'); return; }
    const current = this.stepOf(frame);
    if (current.type === 'handoff') return this.go(frame, this.nextOf(frame, current));
    this.reprompt(frame, current);
  }

  // ---- topics ------------------------------------------------------------------------------

  /**
   * No flow is waiting for an answer: start a flow, answer from the FAQ, or say we did not
   * understand. The FAQ is asked too and wins when its answer is surer than the intent, or
   * when the flow yields to it (a greeting with a question in it: "你好，包邮吗").
   */
  private newTopic(text: string, u: Understanding): void {
    const aboutOrder = this.orderFlow(u);
    if (aboutOrder) return this.startFlow(aboutOrder.flow, { ...u, intent: aboutOrder.intent }, text);
    const flowId = this.confidentFlow(u);
    if (!flowId) {
      // No clear request, but clearly upset ("我要投诉…", "I want to complain…"): the flow for that mood listens first.
      const forMood = this.lib.content.flows.find((f) => u.sentiment !== 'neutral' && u.sentiment !== 'abusive' && f.moods.includes(u.sentiment));
      if (forMood) return this.startFlow(forMood.id, u, text);
    }
    const margin = this.lib.content.policy.flowOverFaqMargin;
    // A flow that listens to the customer's mood (a complaint, for an angry customer) is not pre-empted by an FAQ answer.
    const moodFits = flowId !== undefined && this.flow(flowId).flow.moods.some((m) => m === u.sentiment);
    // An FAQ answer (confidence at most 1) cannot beat an intent this sure: skip the search then.
    const faqCannotWin = flowId !== undefined && (moodFits || (!this.flow(flowId).flow.yieldToFaq && (u.intent?.confidence ?? 0) + margin >= 1));
    if (flowId && faqCannotWin) return this.startFlow(flowId, u, text);
    const faq = this.lib.faq.decide(text);
    const faqWins = faq.kind === 'answer' && flowId !== undefined && !moodFits
      && (this.flow(flowId).flow.yieldToFaq || faq.confidence > (u.intent?.confidence ?? 0) + margin);
    if (flowId && !faqWins) return this.startFlow(flowId, u, text);
    if (this.answerFromFaq(faq, text)) return;
    this.notUnderstood();
  }

  /**
   * A message with an order number is about that order: "羽绒服那单帮我取消 E20261027001" names a
   * product too, but it asks to cancel. Among the intents that fit at all, the best whose flow asks
   * for an order number wins over a product question.
   */
  private orderFlow(u: Understanding): { flow: string; intent: IntentGuess } | undefined {
    if (!u.slots.orderId) return undefined;
    const best = this.confidentFlow(u);
    if (best && u.intent && this.asksForOrder(best)) return { flow: best, intent: u.intent };
    for (const c of u.candidates) {
      const flow = this.lib.flowByIntent.get(c.id);
      if (flow && c.confidence >= ORDER_HINT_CONFIDENCE && this.asksForOrder(flow)) return { flow, intent: c };
    }
    return undefined;
  }

  private asksForOrder(flowId: string): boolean {
    return this.flow(flowId).flow.steps.some((s) => s.type === 'ask' && s.slotType === 'orderId');
  }

  private confidentFlow(u: Understanding): string | undefined {
    if (!u.intent || u.intent.confidence < this.lib.content.policy.intentThreshold) return undefined;
    return this.lib.flowByIntent.get(u.intent.id);
  }

  /** Answers or clarifies from the FAQ's decision; false when it abstained. */
  private answerFromFaq(decision: FaqDecision, text: string): boolean {
    switch (decision.kind) {
      case 'answer':
        this.s.notUnderstood = 0;
        this.reply({ kind: 'text', text: answerIn(decision.entry, this.s.lang) });
        this.effects.push({ kind: 'record', event: 'faq_answered', detail: decision.entry.id });
        return true;
      case 'clarify': {
        this.s.notUnderstood = 0;
        const options: QuickReply[] = decision.entries.slice(0, 3).map((e) => ({ label: e.question, value: e.question }));
        this.reply({ kind: 'quickReplies', text: this.t(this.lib.content.replies.clarify), options });
        this.effects.push({ kind: 'record', event: 'faq_clarified', detail: text.slice(0, 200) });
        return true;
      }
      case 'abstain':
        this.effects.push({ kind: 'record', event: 'faq_abstained', detail: text.slice(0, 200) });
        return false;
    }
  }

  private notUnderstood(): void {
    this.s.notUnderstood += 1;
    this.effects.push({ kind: 'record', event: 'not_understood' });
    if (this.s.notUnderstood >= this.lib.content.policy.maxNotUnderstood) {
      this.s.notUnderstood = 0;
      return this.handoff('not_understood', 'normal', 'handoffQueued');
    }
    this.reply({
      kind: 'quickReplies',
      text: this.t(this.lib.content.replies.fallback),
      options: [{ label: this.t(this.lib.content.replies.humanButton), value: this.s.lang === 'zh' ? '转人工' : 'human' }],
    });
  }

  private startFlow(flowId: string, u: Understanding, text: string): void {
    const flow = this.flow(flowId);
    const slots: Vars = {};
    // Slots the customer already gave in the first message are not asked again.
    for (const s of flow.flow.steps) {
      if (s.type !== 'ask') continue;
      const given = u.slots[s.slotType as keyof Understanding['slots']];
      if (given !== undefined && s.slotType !== 'yesNo') slots[s.slot] = given;
      if (s.slotType === 'text' && s.prefillMinLength !== undefined && text.trim().length >= s.prefillMinLength) slots[s.slot] = text.trim();
    }
    // The words that started the flow and the intent they meant: actions read a product or an order line from them.
    this.enterFlow(flowId, slots, { startText: text.slice(0, 500), intent: u.intent?.id ?? null });
  }

  /** Runs a flow from its first step with what is already known. */
  private enterFlow(flowId: string, slots: Vars, data: Vars): void {
    const flow = this.flow(flowId);
    const frame: FlowFrame = { flow: flowId, step: flow.first, slots, data, tries: 0 };
    this.s.frame = frame;
    this.s.notUnderstood = 0;
    this.effects.push({ kind: 'record', event: 'flow_started', detail: flowId });
    this.go(frame, flow.first);
  }

  private resumeSuspendedOr(otherwise: () => void): void {
    const previous = this.s.suspended.pop();
    if (!previous) return otherwise();
    this.s.frame = previous;
    const flow = this.flow(previous.flow);
    this.reply({ kind: 'text', text: this.render(this.lib.content.replies.resume, { flow: this.t(flow.flow.title) }) });
    this.reprompt(previous, this.stepOf(previous));
  }

  // ---- answers to a waiting step ------------------------------------------------------------

  private answer(frame: FlowFrame, current: StepOf<'ask' | 'choose' | 'confirm'>, text: string, u: Understanding): void {
    // Any words answer a free-text question, so a clear new topic must be caught before ("我的快递到哪了"
    // while asked which product).
    if (current.type === 'ask' && current.slotType === 'text' && !current.keepsTopic && /\p{L}{2,}/u.test(text)) {
      const other = this.confidentFlow(u);
      if (other && other !== frame.flow && !this.ownIntents(frame).includes(u.intent?.id ?? '')
        && (u.intent?.confidence ?? 0) >= this.lib.content.policy.textTopicChangeConfidence) {
        this.s.suspended.push(frame);
        this.effects.push({ kind: 'record', event: 'topic_changed', detail: `${frame.flow}->${other}` });
        return this.startFlow(other, u, text);
      }
    }
    const accepted = this.accept(frame, current, text);
    if (accepted !== undefined) {
      frame.tries = 0;
      this.fillAlsoGiven(frame, u);
      return this.go(frame, accepted);
    }
    if (current.type === 'ask' && current.onGiveUp && saysNone(text, current.skipWords)) {
      frame.tries = 0;
      return this.go(frame, current.onGiveUp);
    }
    // Not an answer: maybe the customer changed topic. Another flow: put this one aside;
    // an FAQ question: answer it and ask again (DESIGN.md: "answer and resume").
    const other = this.confidentFlow(u);
    const own = this.ownIntents(frame);
    if (other && other !== frame.flow && !own.includes(u.intent?.id ?? '')) {
      this.s.suspended.push(frame);
      this.effects.push({ kind: 'record', event: 'topic_changed', detail: `${frame.flow}->${other}` });
      return this.startFlow(other, u, text);
    }
    const faq = other ? undefined : this.lib.faq.decide(text);
    if (faq?.kind === 'answer') {
      this.answerFromFaq(faq, text);
      return this.reprompt(frame, current);
    }
    if (current.type === 'choose' && current.otherwise) {
      frame.tries = 0;
      frame.slots[current.otherwise.slot] = text.trim().slice(0, 500);
      return this.go(frame, current.otherwise.next);
    }
    frame.tries += 1;
    if (frame.tries >= current.maxTries) {
      frame.tries = 0;
      const giveUp = current.type === 'confirm' ? undefined : current.onGiveUp;
      if (giveUp) return this.go(frame, giveUp);
      return this.handoff('not_understood', 'normal', 'handoffQueued');
    }
    const reprompt = current.type === 'ask' ? current.reprompt : undefined;
    if (reprompt) this.reply({ kind: 'text', text: this.render(reprompt, this.vars(frame)) });
    this.reprompt(frame, current);
  }

  /**
   * "172 65kg" answers the height question and the weight question after it: values of these
   * kinds the customer gave along are not asked again. Other kinds (digits that could be a phone's
   * tail, an order number) are taken only as the answer to their own question.
   */
  private fillAlsoGiven(frame: FlowFrame, u: Understanding): void {
    for (const s of this.flow(frame.flow).flow.steps) {
      if (s.type !== 'ask' || frame.slots[s.slot] !== undefined || !ALSO_GIVEN.includes(s.slotType)) continue;
      const given = u.slots[s.slotType as keyof Understanding['slots']];
      if (given !== undefined) frame.slots[s.slot] = given;
    }
  }

  /** Intents that do not take the customer away from this flow: its own, and those it holds. */
  private ownIntents(frame: FlowFrame): string[] {
    const flow = this.flow(frame.flow).flow;
    return [...flow.intents, ...flow.holds];
  }

  /** The step to go to when `text` answers the waiting step, or undefined when it does not. */
  private accept(frame: FlowFrame, current: StepOf<'ask' | 'choose' | 'confirm'>, text: string): string | undefined {
    switch (current.type) {
      case 'ask': {
        const found = current.slotType === 'photo' ? photoAnswer(text, this.imageUrl) : extractSlot(current.slotType, text);
        if (!found.ok) return undefined;
        const candidate = { ...frame.slots, [current.slot]: found.value as Json };
        if (current.guard && !this.guard(current.guard)({ ...frame.data, ...candidate })) return undefined;
        frame.slots[current.slot] = found.value as Json;
        return this.nextOf(frame, current);
      }
      case 'choose': {
        const option = chooseOption(current, text, this.s.lang);
        if (!option) return undefined;
        frame.slots[current.slot] = option.value;
        // The option as the customer read it, for read-backs in their language (the value is what is recorded).
        frame.slots[`${current.slot}Label`] = this.t(option.label);
        return option.next ?? this.nextOf(frame, current);
      }
      case 'confirm': {
        const found = extractSlot('yesNo', text);
        if (!found.ok) return undefined;
        if (found.value === 'yes') return current.yes;
        // "No" to a read-back goes back to a question: its old answer must not skip it.
        for (const slot of current.clearOnNo) delete frame.slots[slot];
        const target = this.flow(frame.flow).steps.get(current.no);
        if (target?.type === 'ask') delete frame.slots[target.slot];
        return current.no;
      }
    }
  }

  // ---- running steps -----------------------------------------------------------------------

  /** Runs steps from `stepId` until one waits for the customer, calls an action, or ends the flow. */
  private go(frame: FlowFrame, stepId: string | undefined): void {
    for (let count = 0; count < MAX_STEPS_PER_TURN; count++) {
      if (stepId === undefined) return this.endFlow(frame, undefined);
      frame.step = stepId;
      this.s.last = { flow: frame.flow, step: stepId };
      const current = this.stepOf(frame);
      switch (current.type) {
        case 'say':
          this.sayStep(frame, current);
          stepId = this.nextOf(frame, current);
          break;
        case 'ask':
          if (frame.slots[current.slot] !== undefined) { stepId = this.nextOf(frame, current); break; }
          if (current.before && frame.data[`_before_${current.id}`] !== true) {
            frame.data[`_before_${current.id}`] = true;
            this.effects.push({ kind: 'action', name: current.before, vars: this.vars(frame) });
            this.outcome = 'action';
            return;
          }
          frame.tries = 0;
          this.prompt(frame, current);
          this.outcome = 'waiting';
          return;
        case 'choose':
        case 'confirm':
          frame.tries = 0;
          this.prompt(frame, current);
          this.outcome = 'waiting';
          return;
        case 'action':
          this.effects.push({ kind: 'action', name: current.action, vars: this.vars(frame) });
          this.outcome = 'action';
          return;
        case 'branch': {
          const vars = this.vars(frame);
          stepId = current.cases.find((c) => ('when' in c ? this.guard(c.when)(vars) : vars[c.var] === c.equals))?.next ?? current.else;
          break;
        }
        case 'goto': {
          const carried: Vars = {};
          const vars = this.vars(frame);
          for (const name of current.carry) if (vars[name] !== undefined) carried[name] = vars[name];
          this.effects.push({ kind: 'record', event: 'flow_completed', detail: frame.flow });
          this.effects.push({ kind: 'record', event: 'topic_changed', detail: `${frame.flow}->${current.flow}` });
          const intent = current.intent ?? frame.data.intent ?? null;
          const startText = typeof frame.data.startText === 'string' ? frame.data.startText : '';
          // What the customer said at the start ("牛仔裤 160 48kg") still counts in the next flow.
          const given = extractSlots(startText);
          for (const s of this.flow(current.flow).flow.steps) {
            if (s.type !== 'ask' || carried[s.slot] !== undefined || !ALSO_GIVEN.includes(s.slotType)) continue;
            const value = given[s.slotType as keyof Understanding['slots']];
            if (value !== undefined) carried[s.slot] = value;
          }
          return this.enterFlow(current.flow, carried, { intent, startText });
        }
        case 'remind':
          this.setReminder(frame, current);
          stepId = this.nextOf(frame, current);
          break;
        case 'stopReminders':
          this.s.remindersOff = true;
          if (this.s.reminder) {
            this.s.reminder = null;
            this.effects.push({ kind: 'cancelTimer', name: 'reminder' });
          }
          stepId = this.nextOf(frame, current);
          break;
        case 'handoff':
          if (current.text) this.reply({ kind: 'text', text: this.render(current.text, this.vars(frame)) });
          return this.handoff(current.reason, current.priority, current.text ? undefined : 'handoff');
        case 'followUp': {
          const vars = this.vars(frame);
          const dueAt = this.now + this.followUpHours(current) * 3_600_000;
          this.effects.push({
            kind: 'followUp', reason: current.reason, dueAt, note: this.render(current.note, vars),
            ...(current.priority ? { priority: current.priority } : {}),
          });
          if (current.text) this.reply({ kind: 'text', text: this.render(current.text, { ...vars, dueAt: formatDue(dueAt, this.s.lang) }) });
          stepId = this.nextOf(frame, current);
          break;
        }
        case 'end':
          return this.endFlow(frame, current);
        default: {
          const never: never = current;
          throw new FlowError(frame.flow, frame.step, `unknown step ${JSON.stringify(never)}`);
        }
      }
    }
    throw new FlowError(frame.flow, frame.step, `more than ${MAX_STEPS_PER_TURN} steps in one turn (a loop without a question?)`);
  }

  /** Hours until a followUp step's promise is due: the manager's policy value it names, its own, or the default. */
  private followUpHours(current: StepOf<'followUp'>): number {
    const fromPolicy = current.policyHours ? policyNumber(this.lib.content.policy, current.policyHours) : undefined;
    return fromPolicy ?? current.withinHours ?? this.lib.content.policy.followUpHours;
  }

  /** Sets a follow-up reminder once per flow and order, unless the customer opted out. */
  private setReminder(frame: FlowFrame, current: StepOf<'remind'>): void {
    const vars = this.vars(frame);
    const carried: Vars = {};
    for (const name of current.carry) if (vars[name] !== undefined) carried[name] = vars[name];
    const key = `${current.flow}:${JSON.stringify(carried)}`;
    const sent = this.s.remindersSent ?? [];
    if (this.s.remindersOff || sent.includes(key)) return;
    const minutes = policyNumber(this.lib.content.policy, current.policyMinutes) ?? 60;
    const at = this.now + minutes * 60_000;
    this.s.remindersSent = [...sent, key].slice(-20);
    this.s.reminder = { flow: current.flow, at, vars: carried };
    this.effects.push({ kind: 'setTimer', name: 'reminder', at });
  }

  private endFlow(frame: FlowFrame, end: StepOf<'end'> | undefined): void {
    if (end?.text) this.reply({ kind: 'text', text: this.render(end.text, this.vars(frame)) });
    this.s.frame = null;
    this.effects.push({ kind: 'record', event: 'flow_completed', detail: frame.flow });
    this.outcome = 'complete';
    this.resumeSuspendedOr(() => { if (end?.askMore ?? true) this.say('anythingElse'); });
  }

  private sayStep(frame: FlowFrame, current: StepOf<'say'>): void {
    const text = this.render(current.text, this.vars(frame));
    if (current.quickReplies?.length) {
      this.reply({ kind: 'quickReplies', text, options: current.quickReplies.map((q) => ({ label: this.t(q.label), value: typeof q.value === 'string' ? q.value : this.t(q.value) })) });
    } else this.reply({ kind: 'text', text });
  }

  /**
   * Says a waiting step's question, always with a "talk to a person" button: a customer can see at
   * every question how to reach a person (the brief), not only know the keyword.
   */
  private prompt(frame: FlowFrame, current: StepOf<'ask' | 'choose' | 'confirm'>): void {
    const vars = this.vars(frame);
    switch (current.type) {
      case 'ask': {
        const offered = current.optionsFrom ? quickRepliesOf(vars[current.optionsFrom]) : [];
        this.reply({ kind: 'quickReplies', text: this.render(current.prompt, vars), options: this.withHumanButton(offered) });
        break;
      }
      case 'choose':
        this.reply({ kind: 'quickReplies', text: this.render(current.prompt, vars), options: this.withHumanButton(current.options.map((o) => ({ label: this.t(o.label), value: o.value }))) });
        break;
      case 'confirm':
        this.reply({
          kind: 'quickReplies',
          text: this.render(current.text, vars),
          options: this.withHumanButton(this.s.lang === 'zh'
            ? [{ label: '确认', value: '确认' }, { label: '不对', value: '不对' }]
            : [{ label: 'Yes', value: 'yes' }, { label: 'No', value: 'no' }]),
        });
        break;
    }
  }

  /** The options and, last, the button to a person (unless the flow already offers one). */
  private withHumanButton(options: QuickReply[]): QuickReply[] {
    const human = { label: this.t(this.lib.content.replies.humanButton), value: this.s.lang === 'zh' ? '转人工' : 'human' };
    const kept = options.slice(0, 9);
    return kept.some((o) => o.value === human.value || o.value === '转人工' || o.value === 'human') ? kept : [...kept, human];
  }

  /** Asks the current step's question again (after a topic change or return from a person). */
  private reprompt(frame: FlowFrame, current: Step): void {
    if (isAwaiting(current)) { this.prompt(frame, current); this.outcome = 'waiting'; return; }
    this.go(frame, current.id);
  }

  private handoff(reason: HandoffReason, priority: Priority, text: ReplyName | undefined): void {
    if (text) this.say(text);
    this.effects.push({ kind: 'handoff', reason, priority });
    this.outcome = 'handedOff';
  }

  // ---- helpers -----------------------------------------------------------------------------

  private flow(id: string): CompiledFlow {
    const flow = this.lib.flows.get(id);
    if (!flow) throw new FlowError(id, '?', 'unknown flow (library changed under a running conversation?)');
    return flow;
  }

  private stepOf(frame: FlowFrame): Step {
    const found = this.flow(frame.flow).steps.get(frame.step);
    if (!found) throw new FlowError(frame.flow, frame.step, 'unknown step');
    return found;
  }

  private nextOf(frame: FlowFrame, current: Step): string | undefined {
    return current.next ?? this.flow(frame.flow).following.get(current.id);
  }

  private guard(name: string): (vars: Vars) => boolean {
    const guard = this.lib.guards[name];
    if (!guard) throw new FlowError(this.s.frame?.flow ?? '?', this.s.frame?.step ?? '?', `unknown guard ${name}`);
    return guard;
  }

  /** What templates, guards and actions see: data, slots, the salutation and the manager's policy values. */
  private vars(frame: FlowFrame): Vars {
    const salutation = this.s.salutation ? this.t(this.s.salutation) : '';
    return { ...frame.data, ...frame.slots, salutation, policy: this.lib.content.policy as unknown as Json };
  }

  private t(text: Text): string {
    return text[this.s.lang];
  }

  private render(text: Text, vars: Vars): string {
    return renderTemplate(this.t(text), vars);
  }

  private say(name: ReplyName): void {
    const vars: Vars = { salutation: this.s.salutation ? this.t(this.s.salutation) : '' };
    this.reply({ kind: 'text', text: this.render(this.lib.content.replies[name], vars) });
  }

  private reply(message: Outbound): void {
    this.effects.push({ kind: 'reply', message });
  }
}

/**
 * Fills `{{name}}` and `{{a.b}}` from vars; an unknown name becomes empty text, and the space
 * it leaves before punctuation goes too ("Hello {{salutation}}, welcome" → "Hello, welcome").
 */
export function renderTemplate(template: string, vars: Vars): string {
  const filled = template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, path: string) => {
    let value: Json | undefined = vars;
    for (const key of path.split('.')) {
      value = value !== null && typeof value === 'object' && !Array.isArray(value) ? value[key] : undefined;
    }
    return value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  });
  return filled === template ? filled : filled.replace(/ {2,}/g, ' ').replace(/ +([,.!?;:])/g, '$1').trim();
}

const dueFormats = new Map<string, Intl.DateTimeFormat>();

/** A due time as a customer reads it, in the shop's time zone (Asia/Shanghai): "11月22日 18:00". */
export function formatDue(at: number, lang: Lang, timeZone = 'Asia/Shanghai'): string {
  const d = new Date(at);
  const key = `${lang}|${timeZone}`;
  let format = dueFormats.get(key);
  if (!format) {
    format = lang === 'zh'
      ? new Intl.DateTimeFormat('zh-CN', { timeZone, month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false })
      : new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hour12: false });
    dueFormats.set(key, format);
  }
  return format.format(d);
}

/** The option a customer picked: by its value, its label in either language, its number, or a synonym. */
function chooseOption(current: StepOf<'choose'>, text: string, _lang: Lang): StepOf<'choose'>['options'][number] | undefined {
  const said = text.trim().toLowerCase();
  const byNumber = /^\d{1,2}$/.test(said) ? current.options[Number(said) - 1] : undefined;
  if (byNumber) return byNumber;
  return current.options.find((o) =>
    [o.value, o.label.zh, o.label.en, ...(o.synonyms ?? [])].some((w) => w.toLowerCase() === said)
    || [o.label.zh, ...(o.synonyms ?? [])].some((w) => w.length >= 2 && said.includes(w.toLowerCase())));
}

/** Quick replies an action left in a data var ([{label, value}]); anything else gives none. */
function quickRepliesOf(value: Json | undefined): QuickReply[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((o) => (o !== null && typeof o === 'object' && !Array.isArray(o) && typeof o.label === 'string' && typeof o.value === 'string' && o.label && o.value
    ? [{ label: o.label, value: o.value }] : []));
}

// "I'll send it later" / "I have none": the case goes on and a person asks for the picture later.
const PHOTO_LATER = /稍后|等下|等会|一会|晚点|回头|待会|没拍|没有照片|没照片|拍不了|不方便|没法拍|later|no photo|don'?t have|can'?t take|not now/i;
const PHOTO_URL = /https?:\/\/\S+/i;

/** The answer to a photo question: the picture sent, a link to one, or "later". */
function photoAnswer(text: string, imageUrl: string | undefined): { ok: true; value: string } | { ok: false } {
  if (imageUrl) return { ok: true, value: imageUrl };
  const url = PHOTO_URL.exec(text)?.[0];
  if (url) return { ok: true, value: url };
  return PHOTO_LATER.test(text) ? { ok: true, value: 'later' } : { ok: false };
}

/**
 * Whether a message says which language the customer writes: Chinese characters, or a few Latin
 * letters that are words. An order number ("E20261030001") or "ok" says nothing.
 */
export function saysLanguage(text: string): boolean {
  const words = text.replace(/[a-z]\s*\d[\d\s-]{5,}/gi, ' ');
  const han = /\p{Script=Han}/u.test(words);
  const latin = /[a-z]{3,}/i.test(words) && !/^\s*(?:ok|okk|okay)\s*$/i.test(words);
  // "ship to 上海市浦东新区…": an English sentence around a Chinese address leaves the language as it was.
  return han !== latin;
}

/** Whether an answer is one of the words meaning "none" (the whole answer, or a phrase of 2+ characters in it). */
function saysNone(text: string, words: readonly string[]): boolean {
  const said = text.trim().toLowerCase().replace(/[\s\p{P}]+/gu, ' ').trim();
  return words.some((w) => {
    const word = w.toLowerCase();
    return said === word || (word.length >= 2 && /\p{Script=Han}/u.test(word) && said.includes(word));
  });
}
