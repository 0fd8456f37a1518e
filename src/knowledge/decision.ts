/** When to answer, ask back or stay silent, given ranked candidates and the two probabilities; shared by the FAQ with and without embeddings. */
import type { FaqDecision, FaqEntry } from './faq.ts';

/** A ranked candidate: the entry's position and its learnt relevance (log-odds), best first. */
export interface Ranked {
  entry: number;
  relevance: number;
}

/** The thresholds of one index. */
export interface DecisionSettings {
  /** Answer when the first entry is at least this likely right (an entry's own `threshold` wins). */
  answerThreshold: number;
  /** Ask back when the right entry is at least this likely among the first three. */
  clarifyThreshold: number;
  /** At most this many entries when asking back (at least 2). */
  maxClarify: number;
}

// Entries offered when asking back are those within this many log-odds of the best's relevance.
export const CLARIFY_SPREAD = 2;

/**
 * Answer with the first entry when `answerP` (its probability of being right) reaches its
 * threshold; else ask back with the entries close to it when `clarifyP()` (the right one is
 * among the first three) reaches the clarify threshold; else abstain.
 */
export function decideOn(ranked: readonly Ranked[], entries: readonly FaqEntry[], settings: DecisionSettings, answerP: number, clarifyP: () => number): FaqDecision {
  const first = ranked[0];
  const entry = first ? entries[first.entry] : undefined;
  if (!first || !entry) return { kind: 'abstain' };
  if (answerP >= (entry.threshold ?? settings.answerThreshold)) return { kind: 'answer', entry, confidence: answerP };
  if (ranked.length < 2 || clarifyP() < settings.clarifyThreshold) return { kind: 'abstain' };
  // The entries close to the best, and always at least two: "A or B?" is the question.
  const close = ranked.filter((c, i) => i < 2 || c.relevance >= first.relevance - CLARIFY_SPREAD).slice(0, settings.maxClarify);
  return { kind: 'clarify', entries: close.flatMap((c) => entries[c.entry] ?? []) };
}
