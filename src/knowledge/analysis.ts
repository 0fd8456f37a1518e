/** How the FAQ reads a text: the shared Chinese analysis (jieba words, character pairs and single characters) with the library's synonyms and customers' pinyin abbreviations. */
import { QUESTION_WORDS, addUserWords, analyze, createSynonymMap, normalize, type SynonymMap } from '../understanding/text.ts';
import { loadShopDictionary } from '../understanding/phrase-index.ts';

/** Search tokens of one text with their weight: 1 for a word, less for pairs and characters. */
export type WeightedTokens = ReadonlyMap<string, number>;

/**
 * Weights of the kinds of tokens. Words carry the meaning; character pairs catch words jieba
 * does not know and misspellings; single characters only bridge differently cut words; question
 * words say that something is asked, not what.
 * Set by cross-validation over the shipped FAQ's alternates (docs/faq.md); the ranking is
 * not sensitive to them within ±0.2.
 */
export const TOKEN_WEIGHTS = { word: 1, pair: 0.5, char: 0.3, questionWord: 0.3 } as const;

/** Reads texts for the FAQ; built once per synonym list. */
export interface FaqAnalyzer {
  /** Weighted tokens of a text (question, alternate, answer or customer message). */
  tokens(text: string): WeightedTokens;
}

const HAN = /\p{Script=Han}/u;
const LATIN_RUN = /[a-z]+/g;

/**
 * Latin members of synonym groups whose first word is Chinese: pinyin initials ("by" for 包邮,
 * "yhq" for 优惠券) and English words customers mix in ("coupon怎么用"). They are replaced by the
 * group's first word before cutting, because some of them are English stopwords ("by") that
 * the tokenizer would otherwise drop.
 */
function abbreviationsOf(groups: readonly (readonly string[])[]): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const group of groups) {
    const head = group[0];
    if (head === undefined || !HAN.test(head)) continue;
    for (const word of group) {
      const w = normalize(word);
      if (/^[a-z]+$/.test(w) && !out.has(w)) out.set(w, head);
    }
  }
  return out;
}

/**
 * Replaces abbreviations in a text that has Chinese in it ("by吗", "能用zfb吗"), or that is
 * nothing but abbreviations ("kfp"). An English sentence keeps its words: "ship by friday" is
 * not about free shipping.
 */
function expandAbbreviations(text: string, abbreviations: ReadonlyMap<string, string>): string {
  if (abbreviations.size === 0) return text;
  const normalized = normalize(text);
  const latin = normalized.match(LATIN_RUN) ?? [];
  if (latin.length === 0) return normalized;
  const mixed = HAN.test(normalized);
  if (!mixed && !latin.every((w) => abbreviations.has(w))) return normalized;
  return normalized.replace(LATIN_RUN, (w) => {
    const head = abbreviations.get(w);
    return head === undefined ? w : ` ${head} `;
  });
}

/**
 * Builds the analyzer: teaches the segmenter the shop dictionary and the synonym words (so
 * 免运费 comes out whole and can be mapped), then maps every token to its group's first word.
 */
export function createFaqAnalyzer(synonymGroups: readonly (readonly string[])[] = []): FaqAnalyzer {
  loadShopDictionary();
  // Only Chinese words: a Latin one ("th") in jieba's dictionary would cut English words apart ("with" → "wi th").
  const chinese = synonymGroups.flat().filter((w) => HAN.test(w));
  if (chinese.length) addUserWords(chinese);
  const synonyms: SynonymMap = createSynonymMap(synonymGroups);
  const abbreviations = abbreviationsOf(synonymGroups);
  return {
    tokens(text: string): WeightedTokens {
      const { words, bigrams, chars } = analyze(expandAbbreviations(text, abbreviations));
      const out = new Map<string, number>();
      const add = (token: string, weight: number): void => {
        const t = synonyms.get(token) ?? token;
        const had = out.get(t);
        if (had === undefined || weight > had) out.set(t, weight);
      };
      // 怎么, 多少, how: they say that something is asked, not what.
      for (const w of words) add(w, QUESTION_WORDS.has(w) ? TOKEN_WEIGHTS.questionWord : TOKEN_WEIGHTS.word);
      for (const b of bigrams) add(b, TOKEN_WEIGHTS.pair);
      for (const c of chars) add(c, TOKEN_WEIGHTS.char);
      return out;
    },
  };
}
