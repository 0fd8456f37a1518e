/** The FAQ's ranking core: minisearch (BM25+) over one document per entry, and the scale-free evidence about each candidate that the confidence is learnt from. */
import MiniSearch from 'minisearch';
import { TOKEN_WEIGHTS, type FaqAnalyzer, type WeightedTokens } from './analysis.ts';

/** What the ranker needs of an entry. */
export interface RankableEntry {
  question: string;
  alternates: readonly string[];
  answer: string;
  tags: readonly string[];
}

/**
 * Evidence about one candidate entry for one query; every value is a share or a ratio, so it
 * means the same in an FAQ of 10 entries and of 10,000.
 */
export interface CandidateFeatures {
  /** BM25+ score relative to the best candidate's (1 for the best). */
  rel: number;
  /** Cosine similarity (idf-weighted tokens) of the query with the entry's closest wording. */
  sim: number;
  /** Share of the query's idf-weighted tokens found in the entry's question and alternates. */
  cover: number;
  /** The same share counting the entry's answer and tags too. */
  coverAll: number;
}

/** One candidate of a query, as the ranker found it. */
export interface Candidate {
  /** Position of the entry in the list the ranker was built from. */
  entry: number;
  /** minisearch's BM25+ score. */
  bm25: number;
  features: CandidateFeatures;
}

/** Leave something out of the index for one query: a wording of an entry, or the whole entry. */
export interface HeldOut {
  entry: number;
  /** Index into [question, ...alternates]; absent: the whole entry is left out. */
  phrase?: number;
}

/** Options of {@link createRanker}. */
export interface RankerOptions {
  /**
   * How many postings (entries listed under a query term) one search may walk in each of the two
   * minisearch indexes; terms are taken rarest first until it is spent (the rarest up to four
   * times it).
   * Common terms add almost nothing to BM25+ but cost the most time: on a 10,000-entry FAQ a
   * question's terms list several thousand entries. An FAQ of a few hundred entries never
   * reaches it. They still count in the features of the candidates found. Default 100.
   */
  postingBudget?: number;
  /** Rank on the answers' text (and tags) too (default true). */
  indexAnswers?: boolean;
}

/** The built index. */
export interface Ranker {
  /** Candidates for a query, best BM25 first; [] when nothing shares a token with it. */
  candidates(query: string, limit: number, heldOut?: HeldOut): Candidate[];
  /** Number of entries indexed. */
  readonly size: number;
  /** Number of wordings (question and alternates) of an entry. */
  phraseCount(entry: number): number;
  /** A wording of an entry: 0 is the question, then the alternates. */
  phrase(entry: number, phrase: number): string;
  /** Whether any entry's wordings, answer or tags have this token. */
  knows(token: string): boolean;
  /** The analyzer the index reads with. */
  readonly analyzer: FaqAnalyzer;
}

/**
 * Field boosts. The question weighs a little more than the alternates; the answer (with the
 * tags) as much as the alternates: it says what the entry is about in the words customers use,
 * and cross-validation over the shipped FAQ's alternates ranked 11 points better with it than
 * without (docs/faq.md). BM25+'s own k, b, d stay at minisearch's defaults, which the same
 * cross-validation found as good as any.
 */
const FIELD_BOOST = { q: 1.5, a: 1, ans: 1 } as const;

interface WordingDoc {
  id: number;
  q: string;
  a: string;
}

interface AnswerDoc {
  id: number;
  ans: string;
}

interface IndexedEntry {
  /** Weighted tokens of each wording, question first. */
  phrases: WeightedTokens[];
  /** Every token of the wordings, with its largest weight. */
  wordings: Map<string, number>;
  /** Tokens of the answer (both languages) and tags, with their largest weight. */
  rest: Map<string, number>;
  doc: WordingDoc;
  /** Each wording as token → weight × idf. */
  vectors: Map<string, number>[];
  /** Norm of each wording's idf-weighted vector. */
  norms: number[];
}

const joinTokens = (tokens: Iterable<string>): string => [...tokens].join(' ');

function docOf(id: number, phrases: readonly WeightedTokens[], skip = -1): WordingDoc {
  const alternates: string[] = [];
  phrases.forEach((p, i) => {
    if (i > 0 && i !== skip) alternates.push(joinTokens(p.keys()));
  });
  return { id, q: skip === 0 ? '' : joinTokens(phrases[0]?.keys() ?? []), a: alternates.join(' ') };
}

/**
 * Builds the index. Each entry is one minisearch document (one per entry, not per wording:
 * cross-validation ranked that better, and it keeps posting lists short); texts are analysed
 * by the FAQ analyzer and handed to minisearch as ready tokens, so BM25+ ranks exactly the
 * shop-aware analysis. The candidates' features are computed on the same tokens.
 */
export function createRanker(source: readonly RankableEntry[], analyzer: FaqAnalyzer, opts: RankerOptions = {}): Ranker {
  const entries: IndexedEntry[] = source.map((e, id) => {
    const phrases = [e.question, ...e.alternates].map((t) => analyzer.tokens(t));
    const wordings = new Map<string, number>();
    for (const p of phrases) for (const [t, w] of p) wordings.set(t, Math.max(wordings.get(t) ?? 0, w));
    const rest = new Map<string, number>();
    if (opts.indexAnswers !== false) {
      for (const text of [e.answer, ...e.tags]) for (const [t, w] of analyzer.tokens(text)) rest.set(t, Math.max(rest.get(t) ?? 0, w));
    }
    return { phrases, wordings, rest, doc: docOf(id, phrases), vectors: [], norms: [] };
  });
  const n = Math.max(entries.length, 1);
  const df = new Map<string, number>();
  for (const e of entries) for (const t of new Set([...e.wordings.keys(), ...e.rest.keys()])) df.set(t, (df.get(t) ?? 0) + 1);
  // A word no entry uses is as telling as the rarest one used (idf with a frequency of 1): words
  // the FAQ cannot explain ("明天会下雨吗") make a question less like any entry. Cross-validation
  // over the alternates preferred this to weighing them lighter (0.6 of it), on both data sets.
  const unknownIdf = Math.log(1 + n);
  const idfOf = new Map<string, number>();
  for (const [t, d] of df) idfOf.set(t, Math.log(1 + n / d));
  const idf = (t: string): number => idfOf.get(t) ?? unknownIdf;
  // Each wording as token → weight × idf, and its norm, computed once.
  for (const e of entries) {
    e.vectors = e.phrases.map((p) => {
      const v = new Map<string, number>();
      for (const [t, w] of p) v.set(t, w * idf(t));
      return v;
    });
    e.norms = e.vectors.map((v) => {
      let sum = 0;
      for (const x of v.values()) sum += x * x;
      return Math.sqrt(sum);
    });
  }
  const budget = opts.postingBudget ?? 100;
  // Document frequencies in each minisearch index, to spend the posting budget.
  const wordingDf = new Map<string, number>();
  const answerDf = new Map<string, number>();
  for (const e of entries) {
    for (const t of e.wordings.keys()) wordingDf.set(t, (wordingDf.get(t) ?? 0) + 1);
    for (const t of e.rest.keys()) answerDf.set(t, (answerDf.get(t) ?? 0) + 1);
  }
  /**
   * The query's terms an index is searched with: rarest first, within the posting budget. The
   * rarest is searched even over budget, up to four times it: a question whose every word is in
   * more entries than that cannot single one out (it shares only common words with the FAQ).
   */
  function within(terms: readonly string[], counts: ReadonlyMap<string, number>): string[] {
    const known = terms.filter((t) => counts.has(t)).sort((a, b) => (counts.get(a) ?? 0) - (counts.get(b) ?? 0));
    const out: string[] = [];
    let spent = 0;
    for (const t of known) {
      const c = counts.get(t) ?? 0;
      if (out.length > 0 ? spent + c > budget : c > 4 * budget) break;
      out.push(t);
      spent += c;
    }
    return out;
  }

  // Two minisearch indexes of the same entries: the wordings (question, alternates) and the
  // answers (with tags). Together they score exactly as one index with three fields would
  // (minisearch sums the fields' BM25+ and multiplies by the number of query terms matched),
  // but holding out one wording while calibrating touches only the small wordings document.
  const tokensOf = (s: string): string[] => (s ? s.split(' ') : []);
  const wordingIndex = new MiniSearch<WordingDoc>({
    fields: ['q', 'a'],
    tokenize: tokensOf,
    processTerm: (t) => t,
    searchOptions: { boost: { q: FIELD_BOOST.q, a: FIELD_BOOST.a } },
  });
  wordingIndex.addAll(entries.map((e) => e.doc));
  const answerIndex = new MiniSearch<AnswerDoc>({
    fields: ['ans'],
    tokenize: tokensOf,
    processTerm: (t) => t,
    searchOptions: { boost: { ans: FIELD_BOOST.ans } },
  });
  answerIndex.addAll(entries.map((e, id) => ({ id, ans: joinTokens(e.rest.keys()) })));

  function features(qTokens: WeightedTokens, qWeights: Map<string, number>, qNorm: number, entry: IndexedEntry, skip: number): Omit<CandidateFeatures, 'rel'> | undefined {
    let sim = 0;
    entry.vectors.forEach((v, i) => {
      const norm = entry.norms[i];
      if (i === skip || !norm) return;
      let dot = 0;
      for (const [t, wq] of qWeights) {
        const wd = v.get(t);
        if (wd !== undefined) dot += wq * wd;
      }
      sim = Math.max(sim, dot / (qNorm * norm));
    });
    // The wordings without the one left out (only while calibrating).
    let wordings: ReadonlyMap<string, number> = entry.wordings;
    if (skip >= 0) {
      const kept = new Map<string, number>();
      entry.phrases.forEach((p, i) => {
        if (i !== skip) for (const [t, w] of p) kept.set(t, Math.max(kept.get(t) ?? 0, w));
      });
      wordings = kept;
    }
    // A query token counts as explained up to the entry's own weight for it: a word of the
    // question met only as a single character of the entry's text ("查" in 查看) counts 0.3.
    let total = 0;
    let inWordings = 0;
    let inAll = 0;
    let topical = false;
    for (const [t, wq] of qWeights) {
      total += wq;
      const share = qTokens.get(t) ?? 1;
      const fromWordings = Math.min(share, wordings.get(t) ?? 0) / share;
      const fromAll = Math.max(fromWordings, Math.min(share, entry.rest.get(t) ?? 0) / share);
      inWordings += wq * fromWordings;
      inAll += wq * fromAll;
      // Topical: a word or pair of the question is a word or pair of the entry too.
      topical ||= share > TOKEN_WEIGHTS.questionWord && fromAll * share > TOKEN_WEIGHTS.questionWord;
    }
    if (!topical) return undefined;
    return { sim: Math.min(1, sim), cover: total ? inWordings / total : 0, coverAll: total ? inAll / total : 0 };
  }

  function candidates(query: string, limit: number, heldOut?: HeldOut): Candidate[] {
    const q = analyzer.tokens(query);
    if (q.size === 0 || entries.length === 0) return [];
    const qWeights = new Map<string, number>();
    let qNorm = 0;
    for (const [t, w] of q) {
      const x = w * idf(t);
      qWeights.set(t, x);
      qNorm += x * x;
    }
    qNorm = Math.sqrt(qNorm);
    const terms = [...q.keys()];
    const wordingTerms = within(terms, wordingDf);
    const answerTerms = within(terms, answerDf);
    if ((wordingTerms.length === 0 && answerTerms.length === 0) || qNorm === 0) return [];

    // Calibration asks how the index would answer without one wording: that wording's entry
    // is put back without it for this one query. A whole entry held out is only hidden.
    const held = heldOut ? entries[heldOut.entry] : undefined;
    let swapped: WordingDoc | undefined;
    if (held && heldOut?.phrase !== undefined) {
      swapped = docOf(heldOut.entry, held.phrases, heldOut.phrase);
      wordingIndex.remove(held.doc);
      wordingIndex.add(swapped);
    }
    const hidden = heldOut && heldOut.phrase === undefined ? heldOut.entry : -1;
    const boostTerm = (t: string): number => q.get(t) ?? 1;
    // Only while calibrating: a per-posting callback costs time on every search.
    const options = hidden >= 0 ? { boostTerm, boostDocument: (id: unknown) => (id === hidden ? 0 : 1) } : { boostTerm };
    const scored = new Map<number, { sum: number; terms: Set<string> }>();
    const collect = (hit: { id: unknown; score: number; queryTerms: string[] }): void => {
      const id = hit.id as number;
      const s = scored.get(id) ?? { sum: 0, terms: new Set<string>() };
      s.sum += hit.score / Math.max(1, hit.queryTerms.length);
      for (const t of hit.queryTerms) s.terms.add(t);
      scored.set(id, s);
    };
    try {
      if (wordingTerms.length) for (const hit of wordingIndex.search(wordingTerms.join(' '), options)) collect(hit);
    } finally {
      if (held && swapped) {
        wordingIndex.remove(swapped);
        wordingIndex.add(held.doc);
      }
    }
    if (answerTerms.length) for (const hit of answerIndex.search(answerTerms.join(' '), options)) collect(hit);
    const hits = [...scored].map(([id, s]) => ({ id, score: s.sum * s.terms.size })).sort((a, b) => b.score - a.score);
    const top = hits.slice(0, limit);
    const best = top[0]?.score ?? 0;
    const out: Candidate[] = [];
    for (const hit of top) {
      const id = hit.id;
      const entry = entries[id];
      if (!entry || best <= 0) continue;
      const skip = heldOut && heldOut.entry === id ? (heldOut.phrase ?? -1) : -1;
      // Sharing only a question word or a stray character with an entry says nothing of the topic.
      const f = features(q, qWeights, qNorm, entry, skip);
      if (f) out.push({ entry: id, bm25: hit.score, features: { rel: hit.score / best, ...f } });
    }
    return out;
  }

  return {
    candidates,
    size: entries.length,
    phraseCount: (entry) => entries[entry]?.phrases.length ?? 0,
    phrase: (entry, phrase) => {
      const e = source[entry];
      return (phrase === 0 ? e?.question : e?.alternates[phrase - 1]) ?? '';
    },
    knows: (token) => df.has(token),
    analyzer,
  };
}
