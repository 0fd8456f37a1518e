/** The intent classifier, trained from the script library's example phrases. */
import type { IntentGuess } from './types.ts';
import { createPhraseIndex } from './phrase-index.ts';

/** An intent of the script library with its example phrases in both languages. */
export interface IntentExamples {
  id: string;
  examples: { zh: readonly string[]; en: readonly string[] };
}

/** Options of {@link createIntentClassifier}. */
export interface IntentClassifierOptions {
  /** Synonym groups of the library; each word is read as its group's first word. */
  synonyms?: readonly (readonly string[])[];
  /** How many guesses classify() returns at most (default 5). */
  maxCandidates?: number;
}

/** Guesses what a message wants; built once per library version. */
export interface IntentClassifier {
  /**
   * Intents that fit the message, best first, with confidence 0..1; [] when nothing does.
   * Confidence is the similarity to the intent's nearest example (relative to both texts'
   * self-match) lowered when another intent fits almost as well, so one threshold works for
   * small and large libraries alike.
   */
  classify(text: string): IntentGuess[];
  /** The intent ids it knows. */
  readonly intents: readonly string[];
}

/**
 * Indexes every example (zh and en together: a query in either language finds its own) and
 * scores an intent by its nearest example — the max, so a few close paraphrases beat many
 * loosely related ones, and big intents gain no weight from their size.
 */
export function createIntentClassifier(intents: readonly IntentExamples[], opts: IntentClassifierOptions = {}): IntentClassifier {
  const phrases = intents.flatMap((intent) =>
    [...intent.examples.zh, ...intent.examples.en].map((text) => ({ group: intent.id, text })));
  const index = createPhraseIndex(phrases, { synonyms: opts.synonyms ?? [] });
  const limit = opts.maxCandidates ?? 5;
  return {
    intents: intents.map((i) => i.id),
    classify(text: string): IntentGuess[] {
      return index
        .match(text, limit)
        .filter((m) => m.confidence > 0)
        .map((m) => ({ id: m.group, confidence: Math.round(m.confidence * 1000) / 1000 }));
    },
  };
}
