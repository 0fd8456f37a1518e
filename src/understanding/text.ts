/** Text analysis shared by the intent classifier, the slot rules and the FAQ: normalising, language, search tokens. */
import { Jieba } from '@node-rs/jieba';
// The package has no "exports" map, so Node's ESM resolver needs the file extension.
import { dict as jiebaDict } from '@node-rs/jieba/dict.js';
import { Converter } from 'opencc-js/t2cn';
import type { Lang } from '../bots/messages.ts';

/**
 * Shop words jieba's stock dictionary cuts apart (卫衣 → 卫 衣) or does not know. Lower-case,
 * because the tokenizer works on normalised text. The frequency only has to beat the
 * competing splits.
 */
const SHOP_WORDS: readonly string[] = [
  '羽绒服', '连衣裙', '半身裙', '卫衣', 't恤', '牛仔裤', '休闲裤', '阔腿裤', '打底裤', '针织衫', '毛衣',
  '外套', '风衣', '大衣', '衬衫', '马甲', '背心', '吊带', '短袖', '长袖', '运动裤', '羊毛衫', '羊绒衫',
  '均码', '大码', '小码', '加大码', '码数', '尺码表', '尺码', 'xl', 'xxl', 'xxxl',
  '七天无理由', '7天无理由', '无理由退货', '运费险', '退货险', '包邮', '免邮', '免运费', '顺丰', '中通',
  '圆通', '韵达', '申通', '极兔', '京东快递', '邮政', '快递单号', '物流单号', '运单号', '订单号',
  '发货', '到货', '签收', '拒收', '催单', '改地址', '收货地址', '退款', '退货', '换货', '补发', '换尺码',
  '优惠券', '满减', '退运费', '起球', '掉色', '色差', '缩水', '开线', '质量问题', '转人工', '人工客服',
];

/** Chinese and English words too common to tell questions apart; dropped from search tokens. */
const STOPWORDS: ReadonlySet<string> = new Set([
  '的', '了', '吗', '呢', '啊', '吧', '呀', '哦', '嘛', '么', '哈', '啦', '哇', '呗', '噢', '嗯', '喔',
  '我', '你', '您', '他', '她', '它', '我们', '你们', '他们', '咱', '咱们', '亲', '亲亲',
  '请问', '请', '问下', '问一下', '一下', '下', '麻烦', '那个', '这个', '就', '都', '也', '还', '又', '在',
  '和', '与', '及', '跟', '把', '被', '给', '是', '个', '这', '那', '得', '地', '着', '过', '帮', '帮忙',
  '不', '想', '要', '想要', '能', '能不能', '可以', '可不可以', '一个', '有没有', '有', '没', '会',
  'the', 'a', 'an', 'is', 'are', 'am', 'was', 'were', 'be', 'been', 'to', 'of', 'for', 'in', 'on',
  'at', 'my', 'me', 'i', 'you', 'your', 'it', 'its', 'this', 'that', 'these', 'those', 'do', 'does',
  'did', 'and', 'or', 'please', 'pls', 'plz', 'with', 'so', 'just', 'there', 'some', 'any', 'we', 'our',
  'us', 'they', 'them', 'he', 'she', 'would', 'could', 'should', 'will', 'shall', 'll', 've', 're',
  'can', 'get', 'got', 'have', 'has', 'had', 'want', 'need', 'like', 'know', 'tell', 'what', 'which',
  'about', 'if', 'from', 'by', 'as', 'all', 'one', 'not',
]);

/**
 * Single characters that never start or end a useful character pair: runs of single characters
 * are split at them before pairs are made, so "退货吗" does not yield the pair "货吗".
 */
const PARTICLES = /[的了吗呢啊吧呀哦嘛么哈啦哇呗噢嗯喔我你您请是在]/u;

const HAN = /\p{Script=Han}/u;
const LATIN_OR_DIGIT = /^[a-z0-9]+$/;
// Emoji, pictographs, skin tones, flags, variation selectors, keycaps, invisible format
// characters (zero-width joiners and spaces) and control characters other than whitespace
// (whitespace is collapsed separately).
const EMOJI_AND_CONTROL = /[\p{Extended_Pictographic}\p{Emoji_Modifier}\u{1F1E6}-\u{1F1FF}\u0000-\u0008\u000E-\u001F\u007F-\u009F]/gu;
// Invisible characters glue, not separate: "a\u200bb" is "ab".
const INVISIBLE = /[\p{Cf}\uFE0E\uFE0F\u20E3]/gu;
const SPACES = /\s+/g;
const ORDER_ID_TOKEN = /^[a-z]\d{11}$/;

let jiebaInstance: Jieba | undefined;
const loadedUserWords = new Set<string>();

/** The one jieba per process: loading its dictionary takes a few hundred milliseconds. */
function jieba(): Jieba {
  if (!jiebaInstance) {
    jiebaInstance = Jieba.withDict(jiebaDict);
    loadUserWords(SHOP_WORDS);
  }
  return jiebaInstance;
}

function loadUserWords(words: readonly string[]): void {
  const fresh = words.filter((w) => w.length > 1 && !/\s/.test(w) && !loadedUserWords.has(w));
  if (fresh.length === 0) return;
  for (const w of fresh) loadedUserWords.add(w);
  // The segmenter cuts differently from now on.
  lastAnalysis = undefined;
  jieba().loadDict(Buffer.from(fresh.map((w) => `${w} 2000 n`).join('\n') + '\n'));
}

/**
 * Teaches the segmenter extra words (e.g. the members of synonym groups) so they come out whole.
 * Words are normalised first. Call it before building an index: the segmenter is shared by the
 * whole process, and an index built earlier keeps the cuts it was built with.
 */
export function addUserWords(words: readonly string[]): void {
  loadUserWords(words.map((w) => normalize(w)));
}

let toSimplified: ((text: string) => string) | undefined;

// understand() runs several analyses over one message and each calls normalize(). Remembering
// the last few answers (and that a normalised text is its own normal form) keeps that to one
// conversion per message.
const recent = new Map<string, string>();
const RECENT_MAX = 32;

/**
 * The form every rule and index works on: NFKC (full-width letters, digits and punctuation
 * become ASCII), lower case, traditional characters as simplified, no emoji or control
 * characters, runs of whitespace as one space, trimmed.
 */
export function normalize(text: string): string {
  const known = recent.get(text);
  if (known !== undefined) return known;
  let out = cleanText(text).toLowerCase();
  if (HAN.test(out)) {
    const convert = (toSimplified ??= Converter({ from: 'hk', to: 'cn' }));
    out = convert(out);
  }
  out = out.replace(SPACES, ' ').trim();
  if (text.length <= 2000) {
    if (recent.size >= RECENT_MAX) recent.clear();
    recent.set(text, out);
    recent.set(out, out);
  }
  return out;
}

/**
 * NFKC, emoji and control characters removed, whitespace collapsed — but case and traditional
 * characters kept: the form for values that are stored as the customer wrote them (addresses).
 */
export function cleanText(text: string): string {
  return text.normalize('NFKC').replace(INVISIBLE, '').replace(EMOJI_AND_CONTROL, ' ').replace(SPACES, ' ').trim();
}

/**
 * The customer's language: Chinese when the message has any Chinese (or Japanese) characters,
 * unless Latin letters outnumber them many times over ("can I return the 卫衣?"); Chinese too for
 * an empty or emoji-only message, as the shop's default.
 */
export function detectLang(text: string): Lang {
  let cjk = 0;
  let latin = 0;
  for (const ch of text) {
    if (/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u.test(ch)) cjk++;
    else if (/\p{Script=Latin}/u.test(ch)) latin++;
  }
  if (latin === 0) return 'zh';
  if (cjk === 0) return hasEnglishWord(text) ? 'en' : 'zh';
  return latin >= 6 * cjk && hasEnglishWord(text) ? 'en' : 'zh';
}

// "ok", sizes and order ids are written by Chinese customers too; they say nothing of the language.
const NOT_ENGLISH_WORDS = /^(ok|okk|okay|xs|s|m|l|xl|xxl|xxxl|[2-5]xl|[a-z]\d+|\d+[a-z]*)$/i;

function hasEnglishWord(text: string): boolean {
  for (const word of text.normalize('NFKC').split(/[^\p{Script=Latin}\d']+/u)) {
    if (/\p{Script=Latin}/u.test(word) && !NOT_ENGLISH_WORDS.test(word) && (word.length >= 3 || /^(hi|no|yo|my|is|to|me)$/i.test(word))) return true;
  }
  return false;
}

/**
 * A deliberately tiny English stemmer: plural s, -ing, -ed, final e and doubled consonants, so
 * "returns/returned/returning" and "ship/shipped/shipping" meet. Index and query both go
 * through it, so only consistency matters, not linguistic truth.
 */
export function stem(word: string): string {
  let w = word;
  if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  if (w.length > 3 && w.endsWith('e')) w = w.slice(0, -1);
  if (w.length > 3 && /([bdfgklmnprtvz])\1$/.test(w)) w = w.slice(0, -1);
  return w;
}

/** Search tokens of one text, split by where they come from (words weigh more than pairs). */
export interface Analysis {
  /** Normalised text the tokens come from. */
  readonly normalized: string;
  /** jieba words and stemmed English words, stopwords removed, order kept, no duplicates. */
  readonly words: readonly string[];
  /** Chinese character pairs that are not already among the words. */
  readonly bigrams: readonly string[];
  /**
   * Single Chinese characters of the words that are not words themselves: they bridge jieba's
   * inconsistent cuts ("收到|货" against "收|到货") and near-synonyms (写错, 填错).
   */
  readonly chars: readonly string[];
}

/**
 * Question words: they say that something is asked, not what. A match on them alone means
 * nothing, and their characters are no topic.
 */
export const QUESTION_WORDS: ReadonlySet<string> = new Set([
  '谁', '什么', '怎么', '怎样', '怎么样', '如何', '多少', '哪', '哪里', '哪儿', '哪个', '哪些', '几', '为什么', '为啥',
  // English as the stemmer writes it ("where" → "wher").
  '啥', '咋', '是不是', '何时', '什么时候', 'how', 'when', 'wher', 'why', 'who',
]);

/**
 * Cuts a text into search tokens. Order ids become one placeholder token so that example
 * phrases quoting a real id ("E20261015001到哪了") match any id.
 */
export function analyze(text: string): Analysis {
  const normalized = normalize(text);
  // The intent classifier and the FAQ both analyse the same message: cut it once.
  if (lastAnalysis?.normalized === normalized) return lastAnalysis;
  const strict = cut(normalized, true);
  // A phrase made only of function words ("在吗", "你好吗") is still a phrase: keep them then.
  lastAnalysis = strict.words.length || strict.bigrams.length || strict.chars.length ? strict : cut(normalized, false);
  return lastAnalysis;
}

let lastAnalysis: Analysis | undefined;

function cut(normalized: string, dropStopwords: boolean): Analysis {
  const words: string[] = [];
  const bigrams: string[] = [];
  const seen = new Set<string>();
  const push = (t: string): void => {
    if (t && !seen.has(t) && !(dropStopwords && STOPWORDS.has(t))) {
      seen.add(t);
      words.push(t);
    }
  };
  const pushPairs = (chunk: string): void => {
    for (const part of dropStopwords ? chunk.split(PARTICLES) : [chunk]) {
      for (let i = 0; i + 1 < part.length; i++) {
        const pair = part.slice(i, i + 2);
        if (!seen.has(pair)) {
          seen.add(pair);
          bigrams.push(pair);
        }
      }
    }
  };
  if (!normalized) return { normalized, words, bigrams, chars: [] };
  // Character pairs come from inside long words (羽绒服 → 羽绒) and from runs of single
  // characters, where jieba did not know the word (a misspelling, a new product name); pairs
  // across two known words (地址|换成 → 址换) would only add noise.
  let singles = '';
  const flushSingles = (): void => {
    if (singles.length > 1) pushPairs(singles);
    singles = '';
  };
  for (const raw of jieba().cut(normalized, false)) {
    const piece = raw.trim();
    if (!piece) {
      flushSingles();
      continue;
    }
    if (HAN.test(piece)) {
      // jieba keeps "t恤" whole; other mixed pieces keep only their letters and digits.
      const word = piece.replace(/[^\p{Script=Han}a-z0-9]/gu, '');
      if (word.length === 1) {
        singles += word;
        push(word);
        continue;
      }
      flushSingles();
      push(word);
      if (word.length > 2) pushPairs(word);
    } else {
      flushSingles();
      if (LATIN_OR_DIGIT.test(piece)) {
        if (ORDER_ID_TOKEN.test(piece)) push('#order');
        else if (/^\d+$/.test(piece)) push(piece.length > 4 ? '#number' : piece);
        else if (!STOPWORDS.has(piece) || !dropStopwords) push(stem(piece));
      } else {
        // Apostrophes and other joiners: "don't" → "don", "t" (the second too short to keep).
        for (const part of piece.split(/[^a-z0-9]+/)) if (part.length > 1) push(stem(part));
      }
    }
  }
  flushSingles();
  const chars: string[] = [];
  for (const w of words) {
    if (w.length < 2 || !HAN.test(w)) continue;
    for (const ch of w) {
      if (HAN.test(ch) && !seen.has(ch) && !(dropStopwords && (STOPWORDS.has(ch) || QUESTION_CHARS.has(ch)))) {
        seen.add(ch);
        chars.push(ch);
      }
    }
  }
  return { normalized, words, bigrams, chars };
}

// Characters of question words carry no topic (什么 → 什, 么).
const QUESTION_CHARS = new Set([...QUESTION_WORDS].join('').replace(/[a-z]/g, ''));

/**
 * Search tokens of a text: jieba words without stopwords or punctuation, Chinese character
 * pairs (they rescue short and misspelt queries), stemmed lower-case English words.
 */
export function tokenize(text: string): string[] {
  const { words, bigrams } = analyze(text);
  return [...words, ...bigrams];
}

/** Each word of every synonym group, mapped to the group's first word. */
export type SynonymMap = ReadonlyMap<string, string>;

const synonymMaps = new WeakMap<readonly (readonly string[])[], SynonymMap>();

/**
 * Builds the lookup for {@link applySynonyms} once; words are normalised and stemmed like tokens.
 * A word listed in two groups keeps the first group.
 */
export function createSynonymMap(groups: readonly (readonly string[])[]): SynonymMap {
  const map = new Map<string, string>();
  for (const group of groups) {
    const head = group[0];
    if (head === undefined) continue;
    const canonical = tokenForm(head);
    for (const word of group) {
      const form = tokenForm(word);
      if (form && !map.has(form)) map.set(form, canonical);
    }
  }
  return map;
}

function tokenForm(word: string): string {
  const n = normalize(word).replace(/\s+/g, '');
  return /^[a-z]+$/.test(n) ? stem(n) : n;
}

/**
 * Maps every token that belongs to a synonym group to the group's first word
 * (e.g. 免运费 → 包邮). Duplicates that appear by the mapping are removed.
 */
export function applySynonyms(tokens: readonly string[], synonyms: readonly (readonly string[])[] | SynonymMap): string[] {
  let map: SynonymMap;
  if (synonyms instanceof Map) {
    map = synonyms;
  } else {
    const groups = synonyms as readonly (readonly string[])[];
    map = synonymMaps.get(groups) ?? createSynonymMap(groups);
    synonymMaps.set(groups, map);
  }
  if (map.size === 0) return [...tokens];
  const out: string[] = [];
  const seen = new Set<string>();
  for (const t of tokens) {
    const m = map.get(t) ?? t;
    if (!seen.has(m)) {
      seen.add(m);
      out.push(m);
    }
  }
  return out;
}
