/**
 * The check before publishing (DESIGN.md): the library must load (schema, names, read-back
 * before order actions, forbidden phrases, both languages — compile refuses all of those), and
 * beyond loading: every step reachable, every flow with a way to a person.
 */
import type { LibraryFiles } from '../flows/loader.ts';
import { parseLibrary } from '../flows/loader.ts';
import { targetsOf } from '../flows/compile.ts';
import { LibraryError, type LibraryProblem } from '../flows/errors.ts';
import type { Flow } from '../flows/schema.ts';

/** Steps no path from the first step reaches. */
function unreachable(flow: Flow): string[] {
  const byId = new Map(flow.steps.map((s, i) => [s.id, { step: s, following: flow.steps[i + 1]?.id }]));
  const seen = new Set<string>();
  const todo = [flow.steps[0]!.id];
  while (todo.length > 0) {
    const id = todo.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const entry = byId.get(id);
    if (!entry) continue;
    const { step, following } = entry;
    const targets = targetsOf(step);
    // Steps that go on to the next one in the file when they name no `next`.
    const fallsThrough = step.next === undefined && !['end', 'handoff', 'branch', 'confirm', 'goto'].includes(step.type);
    if (fallsThrough && following) targets.push(following);
    todo.push(...targets);
  }
  return flow.steps.map((s) => s.id).filter((id) => !seen.has(id));
}

/**
 * A flow that asks or acts must let the customer reach a person: a handoff step, or questions
 * and actions without their own give-up/error path (the engine then hands off itself). "人工"
 * works everywhere anyway; this catches flows whose every failure leads to a dead end.
 */
function noWayToPerson(flow: Flow): boolean {
  const interactive = flow.steps.filter((s) => ['ask', 'choose', 'confirm', 'action'].includes(s.type));
  if (interactive.length === 0) return false;
  if (flow.steps.some((s) => s.type === 'handoff')) return false;
  return interactive.every((s) => (s.type === 'action' ? s.onError !== undefined : s.type === 'confirm' ? true : 'onGiveUp' in s && s.onGiveUp !== undefined));
}

/** Every problem of a draft, each with where it is; empty when it may be published. */
export function checkLibrary(files: LibraryFiles, compile: (files: LibraryFiles) => unknown): LibraryProblem[] {
  const problems: LibraryProblem[] = [];
  try {
    compile(files);
  } catch (error) {
    if (error instanceof LibraryError) problems.push(...error.problems);
    else problems.push({ where: 'library', message: error instanceof Error ? error.message : String(error) });
  }
  let flows: Flow[] = [];
  try {
    flows = parseLibrary(files).flows;
  } catch {
    return problems; // the parse problems are already listed
  }
  for (const flow of flows) {
    for (const id of unreachable(flow)) problems.push({ where: `flows/${flow.id} step ${id}`, message: 'no path from the first step reaches this step' });
    if (noWayToPerson(flow)) problems.push({ where: `flows/${flow.id}`, message: 'every failure path ends without a person: add a handoff step or let a question give up to one' });
  }
  return problems;
}
