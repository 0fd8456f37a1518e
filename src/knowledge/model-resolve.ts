/**
 * The model's help where the FAQ is unsure: when the index would ask back (clarify) or stay
 * silent (abstain) with close candidates, the model may say which ONE of the offered entries
 * answers the question, or none. Nothing else: the bot then answers with that entry's own text,
 * and an entry that was not offered is never taken. See docs/faq.md "With a model".
 */
import type { Lang } from '../bots/messages.ts';
import type { Llm } from '../llm/types.ts';
import { CLARIFY_SPREAD } from './decision.ts';
import { answerIn, type FaqEntry, type FaqInspection } from './faq.ts';

/** Most entries offered to the model: as many as a clarify question shows. */
export const MODEL_MAX_CANDIDATES = 3;

const logit = (p: number): number => Math.log(Math.max(p, 1e-9) / Math.max(1 - p, 1e-9));

/**
 * The entries the model may choose from for an inspected question: a clarify decision's own
 * entries; for an abstain decision, the first hits close to the best (at most 3, none when the
 * index found nothing); none when the index answers (the model is not asked then).
 * Use `index.inspect(question, MODEL_MAX_CANDIDATES)` so the hits are there.
 */
export function modelCandidates(inspection: FaqInspection, max = MODEL_MAX_CANDIDATES): FaqEntry[] {
  const { decision, hits } = inspection;
  if (decision.kind === 'clarify') return decision.entries.slice(0, max);
  if (decision.kind === 'answer') return [];
  const best = hits[0];
  if (!best) return [];
  const floor = logit(best.score) - CLARIFY_SPREAD;
  return hits.filter((h) => logit(h.score) >= floor).slice(0, max).map((h) => h.entry);
}

/** Input of {@link resolveWithModel}. */
export interface ModelResolveInput {
  /** The customer's question as typed (the LLM module masks personal data before it leaves). */
  question: string;
  lang: Lang;
  /** The entries offered: those of a clarify decision, or an abstaining question's close hits ({@link modelCandidates}). */
  candidates: readonly FaqEntry[];
}

/**
 * Which one of the offered entries answers the question, as the model says; null when it says
 * none, fails (timeout, 429, 5xx, malformed output…), or its answer is refused by wordAnswer's
 * guardrails (a citation not offered, an invented number, link or action claim). Never an entry
 * outside `candidates`, never throws. The model's wording is not used: the caller answers with
 * the returned entry's own text (`answerIn(entry, lang)`).
 */
export async function resolveWithModel(input: ModelResolveInput, llm: Pick<Llm, 'wordAnswer'>): Promise<FaqEntry | null> {
  const offered = new Map<string, FaqEntry>();
  for (const entry of input.candidates) if (!offered.has(entry.id)) offered.set(entry.id, entry);
  if (offered.size === 0) return null;
  try {
    const worded = await llm.wordAnswer({
      question: input.question,
      lang: input.lang,
      entries: [...offered.values()].map((e) => ({ id: e.id, question: e.question, answer: answerIn(e, input.lang) })),
    });
    // wordAnswer already refuses a citation that was not offered; checked again so that any Llm
    // (a stand-in, a future implementation) can only ever pick among the candidates.
    return worded ? offered.get(worded.citedId) ?? null : null;
  } catch {
    return null;
  }
}
