/** Carries out the engine's `action` effects and feeds their results back until the turn settles. */
import { renderTemplate, step, stepOwned, type DialogState, type Effect, type EngineEvent, type Outcome } from './engine.ts';
import type { CompiledLibrary } from './compile.ts';
import type { ActionCall, ActionContext, ActionResult, Vars } from './registry.ts';
import type { Text } from './schema.ts';
import { FlowError } from './errors.ts';
import { ShopError } from '../commerce/shop.ts';

/** Actions one turn may run (a flow that chains more is broken). */
const MAX_ACTIONS_PER_TURN = 10;

export interface TurnOutput {
  state: DialogState;
  /** Every effect but `action`, in order: replies, handoff, timers, records. */
  effects: Effect[];
  outcome: Exclude<Outcome, 'action'>;
}

/** Runs one event through the engine, performing actions with a time limit each. */
export async function runTurn(
  lib: CompiledLibrary,
  state: DialogState,
  event: EngineEvent,
  context: (vars: Vars, lang: DialogState['lang']) => ActionContext,
  opts: { actionTimeoutMs: number },
): Promise<TurnOutput> {
  const effects: Effect[] = [];
  let current = state;
  let next: EngineEvent | null = event;
  for (let actions = 0; next; actions++) {
    // The first step copies the caller's state; later ones change the state the step before returned.
    const result = actions === 0 ? step(lib, current, next) : stepOwned(lib, current, next);
    current = result.state;
    next = null;
    for (const effect of result.effects) {
      if (effect.kind !== 'action') { effects.push(effect); continue; }
      if (actions >= MAX_ACTIONS_PER_TURN) {
        throw new FlowError(current.frame?.flow ?? '?', current.frame?.step ?? '?', `more than ${MAX_ACTIONS_PER_TURN} actions in one turn`);
      }
      const def = lib.actions[effect.name];
      if (!def) throw new FlowError(current.frame?.flow ?? '?', current.frame?.step ?? '?', `unknown action ${effect.name}`);
      const call = withLibrary(lib, context(effect.vars, current.lang), def.texts ?? []);
      const actionResult = await runAction(lib, () => def.run(call), opts.actionTimeoutMs);
      next = { type: 'actionResult', result: actionResult, at: event.at };
    }
    if (result.outcome !== 'action') return { state: current, effects, outcome: result.outcome };
  }
  throw new Error('unreachable: the engine asked for an action without naming one');
}

/** The pipeline's context plus the library's policy and texts (only the texts the action declared). */
function withLibrary(lib: CompiledLibrary, ctx: ActionContext, texts: readonly string[]): ActionCall {
  return {
    ...ctx,
    policy: lib.content.policy,
    text(name: string, vars: Vars = {}): Text {
      const text = texts.includes(name) ? lib.content.replies[name] : undefined;
      if (!text) throw new FlowError('?', '?', `the action used the text "${name}" it did not declare (ActionDef.texts)`);
      const all = { ...ctx.vars, ...vars };
      return { zh: renderTemplate(text.zh, all), en: renderTemplate(text.en, all) };
    },
  };
}

/**
 * A shop that does not answer in time, or says it is unavailable, is the handbooks' "system down"
 * case: apologise, keep the question, hand to a person for follow-up. Other errors are bugs and
 * go up to the turn's one error boundary.
 */
async function runAction(lib: CompiledLibrary, run: () => Promise<ActionResult>, timeoutMs: number): Promise<ActionResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
  try {
    const outcome = await Promise.race([run(), timeout]);
    if (outcome !== 'timeout') return outcome;
  } catch (error) {
    if (!(error instanceof ShopError && error.code === 'unavailable')) throw error;
  } finally {
    clearTimeout(timer);
  }
  return { ok: false, reason: 'system_down', text: lib.content.replies.systemBusy, handoff: 'system_down' };
}
