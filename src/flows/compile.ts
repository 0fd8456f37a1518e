/** Turns parsed library content into what the engine runs: steps by id, names resolved, indexes built. */
import { policyNumber, Replies, type Flow, type Step, type Text } from './schema.ts';
import type { LibraryContent } from './loader.ts';
import type { ActionRegistry, GuardRegistry } from './registry.ts';
import { LibraryError, type LibraryProblem } from './errors.ts';
import { createIntentClassifier, type IntentClassifier } from '../understanding/intents.ts';
import { createFaqIndex, type FaqDecision, type FaqIndex } from '../knowledge/faq.ts';
import { understand } from '../understanding/understand.ts';
import type { Understanding } from '../understanding/types.ts';
import { remembered, type MemoStats } from './memo.ts';

/** A flow ready to run: its steps by id and the step that follows each one in file order. */
export interface CompiledFlow {
  flow: Flow;
  steps: ReadonlyMap<string, Step>;
  /** The step after each step in file order (used when a step names no `next`). */
  following: ReadonlyMap<string, string | undefined>;
  first: string;
}

/** The whole library as the engine uses it. Immutable; a publish builds a new one. */
export interface CompiledLibrary {
  content: LibraryContent;
  flows: ReadonlyMap<string, CompiledFlow>;
  flowByIntent: ReadonlyMap<string, string>;
  classifier: IntentClassifier;
  /** understand() with this library's classifier; the last texts' readings are remembered. */
  understand(text: string): Understanding;
  /** The FAQ; its decide() remembers the last questions' decisions. */
  faq: FaqIndex;
  actions: ActionRegistry;
  guards: GuardRegistry;
  /** How often understand() and faq.decide() answered from memory. */
  readonly memoStats: { understand: MemoStats; faq: MemoStats };
}

/** Options of {@link compileLibrary}. */
export interface CompileOptions {
  /** Texts remembered by understand() and faq.decide() (default memo.ts's MEMO_SIZE; 0 for none). */
  memoSize?: number;
}

/** A decision is frozen, not the entries in it: they are the library's own. */
function freezeDecision(decision: FaqDecision): FaqDecision {
  if (decision.kind === 'clarify') Object.freeze(decision.entries);
  return Object.freeze(decision);
}

/** Steps that wait for the customer's answer. */
export function isAwaiting(step: Step): step is Extract<Step, { type: 'ask' | 'choose' | 'confirm' }> {
  return step.type === 'ask' || step.type === 'choose' || step.type === 'confirm';
}

/** The ids a step may go to. */
export function targetsOf(step: Step): string[] {
  const targets: (string | undefined)[] = [step.next];
  switch (step.type) {
    case 'ask': targets.push(step.onGiveUp); break;
    case 'choose': targets.push(step.onGiveUp, step.otherwise?.next, ...step.options.map((o) => o.next)); break;
    case 'action': targets.push(step.onError); break;
    case 'branch': targets.push(...step.cases.map((c) => c.next), step.else); break;
    case 'confirm': targets.push(step.yes, step.no); break;
    case 'say': case 'handoff': case 'followUp': case 'end': case 'goto': case 'remind': case 'stopReminders': break;
  }
  return targets.filter((t): t is string => t !== undefined);
}

/** Every customer-facing text of the library with where it is, for the forbidden-phrase check. */
export function textsOf(content: LibraryContent): { where: string; text: Text }[] {
  const texts: { where: string; text: Text }[] = [];
  for (const [name, text] of Object.entries(content.replies)) if (text) texts.push({ where: `replies.yaml ${name}`, text });
  for (const flow of content.flows) {
    texts.push({ where: `flows/${flow.id} title`, text: flow.title });
    for (const step of flow.steps) {
      const at = `flows/${flow.id} step ${step.id}`;
      for (const key of ['text', 'prompt', 'reprompt', 'note'] as const) {
        const value = (step as Partial<Record<typeof key, Text>>)[key];
        if (value) texts.push({ where: `${at} ${key}`, text: value });
      }
      if (step.type === 'choose') step.options.forEach((o, i) => texts.push({ where: `${at} options[${i}]`, text: o.label }));
      if (step.type === 'say') step.quickReplies?.forEach((q, i) => texts.push({ where: `${at} quickReplies[${i}]`, text: q.label }));
    }
  }
  return texts;
}

/** Forbidden phrases found in the library's texts and FAQ answers. */
export function forbiddenPhraseProblems(content: LibraryContent): LibraryProblem[] {
  const problems: LibraryProblem[] = [];
  const check = (where: string, s: string): void => {
    for (const phrase of content.forbidden) if (s.includes(phrase)) problems.push({ where, message: `contains the forbidden phrase "${phrase}"` });
  };
  for (const { where, text } of textsOf(content)) { check(`${where} (zh)`, text.zh); check(`${where} (en)`, text.en); }
  for (const entry of content.faq) check(`faq ${entry.id} answer`, entry.answer);
  return problems;
}

/**
 * Resolves every name (steps, actions, guards, intents) and builds the classifier and FAQ index.
 * Throws LibraryError listing every problem, so nothing unknown is met in a customer's chat.
 */
export function compileLibrary(content: LibraryContent, actions: ActionRegistry, guards: GuardRegistry, opts: CompileOptions = {}): CompiledLibrary {
  const problems: LibraryProblem[] = [];
  const flows = new Map<string, CompiledFlow>();
  const flowByIntent = new Map<string, string>();
  const intentIds = new Set(content.intents.map((i) => i.id));
  const seenIntents = new Set<string>();
  for (const intent of content.intents) {
    if (seenIntents.has(intent.id)) problems.push({ where: `intents.yaml ${intent.id}`, message: 'intent defined twice' });
    seenIntents.add(intent.id);
  }

  for (const flow of content.flows) {
    const where = `flows/${flow.id}`;
    if (flows.has(flow.id)) problems.push({ where, message: 'flow id used twice' });
    const steps = new Map<string, Step>();
    const following = new Map<string, string | undefined>();
    flow.steps.forEach((step, i) => {
      if (steps.has(step.id)) problems.push({ where: `${where} step ${step.id}`, message: 'step id used twice' });
      steps.set(step.id, step);
      following.set(step.id, flow.steps[i + 1]?.id);
    });
    for (const step of flow.steps) {
      const at = `${where} step ${step.id}`;
      for (const target of targetsOf(step)) if (!steps.has(target)) problems.push({ where: at, message: `goes to unknown step "${target}"` });
      if (step.type === 'action' && !actions[step.action]) problems.push({ where: at, message: `unknown action "${step.action}" (known: ${Object.keys(actions).join(', ')})` });
      if (step.type === 'branch') for (const c of step.cases) if ('when' in c && !guards[c.when]) problems.push({ where: at, message: `unknown guard "${c.when}"` });
      if (step.type === 'ask' && step.guard && !guards[step.guard]) problems.push({ where: at, message: `unknown guard "${step.guard}"` });
      if (step.type === 'ask' && step.before && !actions[step.before]) problems.push({ where: at, message: `unknown action "${step.before}"` });
      if (step.type === 'ask' && step.skipWords.length > 0 && !step.onGiveUp) problems.push({ where: at, message: 'skipWords need onGiveUp (where "none" goes)' });
      if ((step.type === 'goto' || step.type === 'remind') && !content.flows.some((f) => f.id === step.flow)) problems.push({ where: at, message: `goes to unknown flow "${step.flow}"` });
      const policyName = step.type === 'followUp' ? step.policyHours : step.type === 'remind' ? step.policyMinutes : undefined;
      if (policyName !== undefined && policyNumber(content.policy, policyName) === undefined) problems.push({ where: at, message: `"${policyName}" is not a number in policy.yaml` });
      // The handbooks' read-back: nothing changes an order unless the customer said yes to what will change.
      if (step.type === 'action' && actions[step.action]?.changesOrder && !flow.steps.some((s) => s.type === 'confirm' && s.yes === step.id)) {
        problems.push({ where: at, message: `action "${step.action}" changes the order but no confirm step (read-back) leads to it with yes` });
      }
    }
    for (const intent of flow.holds) if (!intentIds.has(intent)) problems.push({ where, message: `holds unknown intent "${intent}"` });
    for (const intent of flow.intents) {
      if (!intentIds.has(intent)) problems.push({ where, message: `starts on unknown intent "${intent}"` });
      const other = flowByIntent.get(intent);
      if (other) problems.push({ where, message: `intent "${intent}" already starts flow "${other}"` });
      flowByIntent.set(intent, flow.id);
    }
    const first = flow.steps[0]!.id;
    flows.set(flow.id, { flow, steps, following, first });
  }
  for (const id of intentIds) if (!flowByIntent.has(id)) problems.push({ where: `intents.yaml ${id}`, message: 'no flow starts on this intent' });
  // The texts actions say live in replies.yaml: a missing one is refused now, not met in a chat;
  // a text nobody says is most likely a misspelt name.
  // Every key the schema declares is said by the engine or the pipeline; the others must be an action's.
  const used = new Set<string>(Object.keys(Replies.shape));
  for (const [name, def] of Object.entries(actions)) {
    for (const text of def.texts ?? []) {
      used.add(text);
      if (!content.replies[text]) problems.push({ where: `replies.yaml ${text}`, message: `missing: action "${name}" says it` });
    }
  }
  for (const name of Object.keys(content.replies)) if (!used.has(name)) problems.push({ where: `replies.yaml ${name}`, message: 'no action or engine part says this text (a misspelt name?)' });
  problems.push(...forbiddenPhraseProblems(content));
  if (problems.length > 0) throw new LibraryError(problems);

  const classifier = createIntentClassifier(content.intents, { synonyms: content.synonyms });
  const faq = createFaqIndex(content.faq, { synonyms: content.synonyms });
  const memoStats = { understand: { hits: 0, misses: 0 }, faq: { hits: 0, misses: 0 } };
  const byText = (text: string): string => text;
  return {
    content,
    flows,
    flowByIntent,
    classifier,
    understand: remembered((text: string) => understand(text, { classifier }), byText, { size: opts.memoSize, stats: memoStats.understand }),
    faq: { ...faq, decide: remembered(faq.decide, byText, { size: opts.memoSize, freeze: freezeDecision, stats: memoStats.faq }) },
    actions,
    guards,
    memoStats,
  };
}
