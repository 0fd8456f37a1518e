/** Search over short phrases grouped by what they mean (an intent's examples, an FAQ entry's questions), with a calibrated confidence. */
import MiniSearch from 'minisearch';
import { QUESTION_WORDS, addUserWords, analyze, createSynonymMap, type SynonymMap } from './text.ts';

/**
 * Shop words that jieba's stock dictionary and text.ts's list lack (after-sale, payment, fabric
 * and service terms of a clothing shop). Whole words match whole words; cut apart they would
 * only meet as character pairs. Loaded before any index is built, by the intent classifier
 * and the FAQ alike, so that an index and the queries against it are always cut the same way.
 */
export const SHOP_DICTIONARY: readonly string[] = [
  '驿站', '快递柜', '丰巢', '送货上门', '花呗', '云闪付', '银联', '代付', '专票', '普票', '电子发票', '抬头', '税号',
  '吊牌', '洗标', '充绒量', '含绒量', '白鸭绒', '灰鸭绒', '鹅绒', '预售', '定金', '订金', '尾款', '补差价', '价保',
  '礼品包装', '礼盒', '贺卡', '售后', '满减', '新人券', '会员日', '积分', '生日券', '验证码', '换绑', '到货提醒',
  '补货', '断码', '现货', '缺货', '预留', '定制', '印字', '团购', '批发', '实体店', '正品', '假货', '上新', '追评',
  '晒图', '隐私面单', '裤长', '裤脚', '备用扣', '纽扣', '赠品', '满赠', '氨纶', '纯棉', '精梳棉', '羊绒', '真丝',
  '起毛球', '打底', '弹力', '熨烫', '挂烫机', '机洗', '手洗', '干洗', '甲醛', '异味', '拒收', '拒签', '漏发',
  '少件', '发错', '寄错', '破洞', '污渍', '瑕疵', '清仓', '特价', '秒杀', '内衣', '内裤', '泳衣', '文胸', '双十一',
  '双十二', '港澳台', '偏远地区', '加急', '次日达', '运费', '邮费',
];

let shopDictionaryLoaded = false;

/** Teaches the shared segmenter {@link SHOP_DICTIONARY} once per process. */
export function loadShopDictionary(): void {
  if (shopDictionaryLoaded) return;
  shopDictionaryLoaded = true;
  addUserWords(SHOP_DICTIONARY);
}

/** One phrase to index: its group (intent id, FAQ id) and whether it is the group's main wording. */
export interface Phrase {
  group: string;
  text: string;
  /** The main wording (an FAQ question, as against its alternates); ranks a little higher. */
  primary?: boolean;
}

/** How well one group matches a query. */
export interface GroupMatch {
  group: string;
  /**
   * Cosine similarity (0..1) of the query with the group's best phrase over idf-weighted tokens:
   * the match relative to both texts' self-match, so it does not grow with the library.
   */
  similarity: number;
  /** The similarity tempered by the margin to the best other group (0..1). */
  confidence: number;
}

/** Options of {@link createPhraseIndex}. */
export interface PhraseIndexOptions {
  /** Synonym groups; every word is read as its group's first word. */
  synonyms?: readonly (readonly string[])[];
  /** Weight of a primary phrase's similarity against an alternate one's (default 1.05). */
  primaryBoost?: number;
}

/** An index built once from phrases; `match` is the per-message work. */
export interface PhraseIndex {
  /** Groups that share anything with the query, best first; [] when none does. */
  match(query: string, limit?: number): GroupMatch[];
  /** Number of indexed phrases. */
  readonly size: number;
}

// Character pairs catch misspellings and unsegmented words but carry less meaning than words;
// single characters only bridge differently cut words.
const BIGRAM_WEIGHT = 0.5;
const CHAR_WEIGHT = 0.3;
// Below this similarity a group only shares a stray character or a common word with the query.
const MIN_SIMILARITY = 0.05;
// How many phrases the inverted index hands over for exact scoring.
const CANDIDATES = 60;
// A query word the library never uses still counts (it makes the query less like any phrase),
// but less than a rare library word: customers add names, dates and small talk.
const UNKNOWN_WORD_IDF_FACTOR = 0.6;
// With the best other group this far behind (relatively), the margin no longer lowers confidence.
const CLEAR_MARGIN = 0.5;
// Share of confidence that depends on the margin: two groups matching equally well each get
// (1 - MARGIN_SHARE) of their similarity.
const MARGIN_SHARE = 0.4;

interface IndexedDoc {
  id: number;
  group: string;
  primary: boolean;
  /** Tokens joined by spaces: minisearch splits them back, so it sees exactly our analysis. */
  primaryText: string;
  alternateText: string;
}

type Weighted = Map<string, number>;

function weightedTokens(text: string, synonyms: SynonymMap): Weighted {
  const { words, bigrams, chars } = analyze(text);
  const out: Weighted = new Map();
  const add = (token: string, weight: number): void => {
    const t = synonyms.get(token) ?? token;
    out.set(t, Math.max(out.get(t) ?? 0, weight));
  };
  for (const w of words) add(w, 1);
  for (const b of bigrams) add(b, BIGRAM_WEIGHT);
  for (const c of chars) add(c, CHAR_WEIGHT);
  return out;
}

/**
 * The tokens minisearch indexes and looks up: words and pairs. Single characters are too common
 * to find candidates with (each would pull in a large part of the library); they only take part
 * in scoring the candidates found.
 */
function searchTerms(v: Weighted): string[] {
  const out: string[] = [];
  for (const [t, w] of v) if (w > CHAR_WEIGHT) out.push(t);
  return out;
}

/**
 * Builds the index once: phrases are analysed with text.ts (jieba words, character pairs,
 * stemmed English, synonyms), put into minisearch (BM25+) to find candidates fast, and their
 * idf-weighted token vectors kept for an exact, comparable similarity.
 */
export function createPhraseIndex(phrases: readonly Phrase[], opts: PhraseIndexOptions = {}): PhraseIndex {
  const groups = opts.synonyms ?? [];
  loadShopDictionary();
  // Synonym words must come out of jieba whole to be mapped (免运费, not 免 + 运费).
  // Latin words are left out: in jieba's dictionary "th" would cut "with" into "wi th".
  const chineseWords = groups.flat().filter((w) => /\p{Script=Han}/u.test(w));
  if (chineseWords.length) addUserWords(chineseWords);
  const synonyms = createSynonymMap(groups);
  const primaryBoost = opts.primaryBoost ?? 1.05;

  const vectors: Weighted[] = [];
  const docs: IndexedDoc[] = [];
  const df = new Map<string, number>();
  phrases.forEach((p, id) => {
    const v = weightedTokens(p.text, synonyms);
    vectors.push(v);
    for (const t of v.keys()) df.set(t, (df.get(t) ?? 0) + 1);
    const joined = searchTerms(v).join(' ');
    docs.push({ id, group: p.group, primary: p.primary ?? false, primaryText: p.primary ? joined : '', alternateText: p.primary ? '' : joined });
  });
  const n = Math.max(phrases.length, 1);
  const idf = (t: string): number => {
    const d = df.get(t);
    return d ? Math.log(1 + n / d) : Math.log(1 + n) * UNKNOWN_WORD_IDF_FACTOR;
  };
  // Each phrase as token → weight × idf, and its length, computed once.
  const weighted = vectors.map((v) => {
    const out = new Map<string, number>();
    for (const [t, w] of v) out.set(t, w * idf(t));
    return out;
  });
  const norms = weighted.map((v) => {
    let sum = 0;
    for (const x of v.values()) sum += x * x;
    return Math.sqrt(sum);
  });

  const search = new MiniSearch<IndexedDoc>({
    fields: ['primaryText', 'alternateText'],
    tokenize: (s) => (s ? s.split(' ') : []),
    processTerm: (t) => t,
    searchOptions: {
      boost: { primaryText: 2 },
      // English typos ("adress", "cancle") within one edit for longer words; Chinese has pairs.
      fuzzy: (term) => (/^[a-z]{5,}$/.test(term) ? 1 : false),
      weights: { fuzzy: 0.5, prefix: 0 },
    },
  });
  search.addAll(docs);

  function match(query: string, limit = 10): GroupMatch[] {
    const q = weightedTokens(query, synonyms);
    if (q.size === 0 || phrases.length === 0) return [];
    let qNorm = 0;
    const qWeights = new Map<string, number>();
    for (const [t, w] of q) {
      const wt = w * idf(t);
      qWeights.set(t, wt);
      qNorm += wt * wt;
    }
    qNorm = Math.sqrt(qNorm);
    const terms = searchTerms(q);
    if (terms.length === 0) return [];
    const hits = search.search(terms.join(' ')).slice(0, CANDIDATES);

    const best = new Map<string, number>();
    for (const hit of hits) {
      const id = hit.id as number;
      const doc = docs[id];
      const vec = weighted[id];
      const norm = norms[id];
      if (!doc || !vec || !norm) continue;
      let dot = 0;
      let topical = false;
      for (const [t, wq] of qWeights) {
        const wd = vec.get(t);
        if (wd !== undefined) {
          dot += wq * wd;
          topical ||= !QUESTION_WORDS.has(t);
        }
      }
      // Query terms minisearch matched that the phrase does not contain were matched fuzzily
      // (English typos); they count half, paired with the phrase's terms in reported order.
      const fuzzyQuery = hit.queryTerms.filter((t) => !vec.has(t));
      if (fuzzyQuery.length) {
        const fuzzyDoc = hit.terms.filter((t) => !q.has(t));
        for (let i = 0; i < Math.min(fuzzyQuery.length, fuzzyDoc.length); i++) {
          dot += 0.5 * (qWeights.get(fuzzyQuery[i] ?? '') ?? 0) * (vec.get(fuzzyDoc[i] ?? '') ?? 0);
          topical = true;
        }
      }
      // Sharing only "谁" or "how" with a phrase says nothing about the topic.
      if (!topical) continue;
      let sim = Math.min(1, dot / (qNorm * norm));
      if (doc.primary) sim = Math.min(1, sim * primaryBoost);
      if (sim > (best.get(doc.group) ?? 0)) best.set(doc.group, sim);
    }

    const ranked = [...best].filter(([, sim]) => sim >= MIN_SIMILARITY).sort((a, b) => b[1] - a[1]);
    return ranked.slice(0, limit).map(([group, similarity], i) => {
      const bestOther = i === 0 ? (ranked[1]?.[1] ?? 0) : (ranked[0]?.[1] ?? 0);
      const relativeMargin = similarity > 0 ? (similarity - bestOther) / similarity : 0;
      const marginFactor = 1 - MARGIN_SHARE + MARGIN_SHARE * Math.min(1, Math.max(0, relativeMargin / CLEAR_MARGIN));
      return { group, similarity, confidence: similarity * marginFactor };
    });
  }

  return { match, size: phrases.length };
}
