/** One call that reads a customer message completely: language, intent, slots, mood, control words. */
import type { Understanding } from './types.ts';
import type { IntentClassifier } from './intents.ts';
import { controlWord, sentiment } from './control.ts';
import { extractSlots } from './slots.ts';
import { detectLang, normalize } from './text.ts';

/** What understand() needs: the classifier built from the live library. */
export interface UnderstandDeps {
  classifier: IntentClassifier;
}

/** Options of {@link understand}. */
export interface UnderstandOptions {
  /**
   * The best guess becomes the intent only at or above this confidence (default
   * {@link DEFAULT_MIN_INTENT_CONFIDENCE}); below it the intent is null and the candidates
   * still tell the flow engine (or the LLM) what came close.
   */
  minConfidence?: number;
}

/**
 * Default intent threshold. Paraphrases that share the key word of an example land around
 * 0.35–1; unrelated messages that merely share a common word stay under 0.25 (see the tests).
 */
export const DEFAULT_MIN_INTENT_CONFIDENCE = 0.3;

/** Reads one message. Cheap enough to run on every message (tens of microseconds). */
export function understand(text: string, deps: UnderstandDeps, opts: UnderstandOptions = {}): Understanding {
  const normalized = normalize(text);
  const minConfidence = opts.minConfidence ?? DEFAULT_MIN_INTENT_CONFIDENCE;
  const slots = extractSlots(text);
  // An address is mostly place names no example contains; left in, they would drown the words
  // that say what the customer wants ("地址写错了,改成浙江省杭州市西湖区文三路100号").
  const forIntent = slots.address ? normalized.replace(normalize(slots.address), ' ') : normalized;
  const candidates = forIntent.trim() ? deps.classifier.classify(forIntent) : [];
  const best = candidates[0];
  return {
    lang: detectLang(text),
    intent: best && best.confidence >= minConfidence ? best : null,
    candidates,
    slots,
    sentiment: sentiment(text),
    control: controlWord(text),
  };
}
