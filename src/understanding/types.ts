/** What the bot understood of one customer message: language, intent, slots, mood, control words. */
import type { Lang } from '../bots/messages.ts';

/** An intent of the script library with how sure the classifier is (0..1). */
export interface IntentGuess {
  id: string;
  confidence: number;
}

/** Slot values found by rules in a message; each kind has one extractor in slots.ts. */
export interface Slots {
  orderId?: string;
  phone?: string;
  phoneLast4?: string;
  /** Clothing size as written in the shop: S, M, L, XL, XXL, XXXL, 均码, or a number (e.g. "38"). */
  size?: string;
  /** A colour, normalised to the shop's Chinese name (白色, 黑色...). */
  color?: string;
  quantity?: number;
  yesNo?: 'yes' | 'no';
  address?: string;
  heightCm?: number;
  weightKg?: number;
}

/** The customer's mood as far as words show it; drives complaint and abuse handling. */
export type Sentiment = 'neutral' | 'negative' | 'angry' | 'abusive';

/** Words that act at any point of any flow. */
export type ControlWord = 'cancel' | 'human';

export interface Understanding {
  lang: Lang;
  /** Best intent, or null when nothing fits. */
  intent: IntentGuess | null;
  /** All candidates, best first (including the best). */
  candidates: IntentGuess[];
  slots: Slots;
  sentiment: Sentiment;
  control: ControlWord | null;
}
