/** The FAQ's ranking core: minisearch (BM25+) over one document per entry, and the scale-free evidence about each candidate that the confidence is learnt from. */
import MiniSearch, { type Query, type SearchResult } from 'minisearch';
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
   * How many postings (entries listed under a query term, per field group) one question may
   * make minisearch walk: terms are taken rarest first, for the wordings' fields and then, with
   * what is left, for the answers' field. Common terms add almost nothing to BM25+ but cost the
   * most time, and minisearch makes a few objects per entry found: on a 10,000-entry FAQ a
   * question's terms list several thousand entries. Terms left out still count in the
   * features of the candidates found. Default 200 (chosen by cross-validation over the
   * entries' own wordings as good as no budget at all, docs/faq.md).
   */
  postingBudget?: number;
  /** When the rarest term alone is over the budget, it is still searched up to this many postings (default 400). */
  rarestTermCap?: number;
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

interface EntryDoc {
  id: number;
  /** The question's tokens. */
  q: string;
  /** The alternates' tokens. */
  a: string;
  /** The answer's and tags' tokens. */
  ans: string;
}

interface IndexedEntry {
  /** Weighted tokens of each wording, question first. */
  phrases: WeightedTokens[];
  /** Every token of the wordings, with its largest weight. */
  wordings: Map<string, number>;
  /** Tokens of the answer (both languages) and tags, with their largest weight. */
  rest: Map<string, number>;
  doc: EntryDoc;
  /** Each wording as token → weight × idf. */
  vectors: Map<string, number>[];
  /** Norm of each wording's idf-weighted vector. */
  norms: number[];
}

const joinTokens = (tokens: Iterable<string>): string => [...tokens].join(' ');

function docOf(id: number, phrases: readonly WeightedTokens[], ans: string, skip = -1): EntryDoc {
  const alternates: string[] = [];
  phrases.forEach((p, i) => {
    if (i > 0 && i !== skip) alternates.push(joinTokens(p.keys()));
  });
  return { id, q: skip === 0 ? '' : joinTokens(phrases[0]?.keys() ?? []), a: alternates.join(' '), ans };
}

/** A query's tokens with their idf-weighted weights, as parallel arrays (cheap to walk). */
interface QueryVector {
  tokens: string[];
  /** Token weight × idf. */
  weights: number[];
  /** Token weight (1 word, less for pairs and characters). */
  shares: number[];
  /** Norm of the idf-weighted vector. */
  norm: number;
}

function queryVector(q: WeightedTokens, idf: (t: string) => number): QueryVector {
  const tokens: string[] = [];
  const weights: number[] = [];
  const shares: number[] = [];
  let norm = 0;
  for (const [t, w] of q) {
    const x = w * idf(t);
    tokens.push(t);
    weights.push(x);
    shares.push(w);
    norm += x * x;
  }
  return { tokens, weights, shares, norm: Math.sqrt(norm) };
}

/** An entry's largest weight for a token over its wordings but one (calibration's held-out wording). */
function weightWithout(entry: IndexedEntry, token: string, skip: number): number {
  let w = 0;
  for (let i = 0; i < entry.phrases.length; i++) {
    if (i !== skip) w = Math.max(w, entry.phrases[i]?.get(token) ?? 0);
  }
  return w;
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
    return { phrases, wordings, rest, doc: docOf(id, phrases, joinTokens(rest.keys())), vectors: [], norms: [] };
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
  const budget = opts.postingBudget ?? 200;
  const rarestCap = opts.rarestTermCap ?? 400;
  // Document frequencies of the wordings' fields and of the answers' field, to spend the budget.
  const wordingDf = new Map<string, number>();
  const answerDf = new Map<string, number>();
  for (const e of entries) {
    for (const t of e.wordings.keys()) wordingDf.set(t, (wordingDf.get(t) ?? 0) + 1);
    for (const t of e.rest.keys()) answerDf.set(t, (answerDf.get(t) ?? 0) + 1);
  }
  /**
   * The query's terms searched in some fields: rarest first, while the postings they list fit
   * in what is left of the question's budget (`spent` of it is used). When nothing is spent
   * yet, the rarest is searched even over budget, up to `rarestCap` postings: a question whose
   * every word is in more entries than that cannot single one out (it shares only common words
   * with the FAQ).
   */
  function within(terms: readonly string[], counts: ReadonlyMap<string, number>, spent: number): { terms: string[]; spent: number } {
    const known = terms.filter((t) => counts.has(t)).sort((a, b) => (counts.get(a) ?? 0) - (counts.get(b) ?? 0));
    const out: string[] = [];
    for (const t of known) {
      const c = counts.get(t) ?? 0;
      if (spent > 0 ? spent + c > budget : c > rarestCap) break;
      out.push(t);
      spent += c;
    }
    return { terms: out, spent };
  }

  // One minisearch document per entry with three fields: the question, the alternates and the
  // answer (with tags). A query asks the wordings' fields for its terms within the wordings'
  // budget and the answer's field for those within the answers' budget, in one search: minisearch
  // sums the fields' BM25+ and multiplies by the number of query terms matched, and builds one
  // result per entry (its per-result objects are most of a question's garbage at 10,000 entries).
  const tokensOf = (s: string): string[] => (s ? s.split(' ') : []);
  const index = new MiniSearch<EntryDoc>({
    fields: ['q', 'a', 'ans'],
    tokenize: tokensOf,
    processTerm: (t) => t,
    searchOptions: { boost: { q: FIELD_BOOST.q, a: FIELD_BOOST.a, ans: FIELD_BOOST.ans } },
  });
  index.addAll(entries.map((e) => e.doc));
  const WORDING_FIELDS = ['q', 'a'];
  const ALL_FIELDS = ['q', 'a', 'ans'];
  const ANSWER_FIELDS = ['ans'];

  /** The search: each term over the fields whose budget it is within. */
  function queryOf(wordingTerms: readonly string[], answerTerms: readonly string[]): Query {
    const both: string[] = [];
    const wordingOnly: string[] = [];
    for (const t of wordingTerms) (answerTerms.includes(t) ? both : wordingOnly).push(t);
    const answerOnly = answerTerms.filter((t) => !wordingTerms.includes(t));
    const queries: Query[] = [];
    if (both.length) queries.push({ queries: both, fields: ALL_FIELDS });
    if (wordingOnly.length) queries.push({ queries: wordingOnly, fields: WORDING_FIELDS });
    if (answerOnly.length) queries.push({ queries: answerOnly, fields: ANSWER_FIELDS });
    return queries.length === 1 && queries[0] ? queries[0] : { queries, combineWith: 'OR' };
  }

  /**
   * Evidence about one candidate; undefined when the entry shares only a question word or a
   * stray character with the query (which says nothing of the topic).
   */
  function features(query: QueryVector, entry: IndexedEntry, skip: number): Omit<CandidateFeatures, 'rel'> | undefined {
    const { tokens, weights, shares, norm } = query;
    let sim = 0;
    for (let i = 0; i < entry.vectors.length; i++) {
      const wordingNorm = entry.norms[i];
      const v = entry.vectors[i];
      if (i === skip || !wordingNorm || !v) continue;
      let dot = 0;
      for (let k = 0; k < tokens.length; k++) {
        const wd = v.get(tokens[k] as string);
        if (wd !== undefined) dot += (weights[k] ?? 0) * wd;
      }
      sim = Math.max(sim, dot / (norm * wordingNorm));
    }
    // A query token counts as explained up to the entry's own weight for it: a word of the
    // question met only as a single character of the entry's text ("查" in 查看) counts 0.3.
    let total = 0;
    let inWordings = 0;
    let inAll = 0;
    let topical = false;
    for (let k = 0; k < tokens.length; k++) {
      const t = tokens[k] as string;
      const wq = weights[k] ?? 0;
      const share = shares[k] ?? 1;
      // The wordings without the one left out (only while calibrating).
      const own = skip >= 0 ? weightWithout(entry, t, skip) : (entry.wordings.get(t) ?? 0);
      const fromWordings = Math.min(share, own) / share;
      const fromAll = Math.max(fromWordings, Math.min(share, entry.rest.get(t) ?? 0) / share);
      total += wq;
      inWordings += wq * fromWordings;
      inAll += wq * fromAll;
      // Topical: a word or pair of the question is a word or pair of the entry too.
      topical ||= share > TOKEN_WEIGHTS.questionWord && fromAll * share > TOKEN_WEIGHTS.questionWord;
    }
    if (!topical) return undefined;
    return { sim: Math.min(1, sim), cover: total ? inWordings / total : 0, coverAll: total ? inAll / total : 0 };
  }

  /**
   * The entry whose own document is out of the index (-1: none). Calibration asks the wordings
   * of one entry after another, so the document stays out until a question needs it back
   * (removing and adding a whole document, answer included, was most of the index's build time).
   */
  let takenOut = -1;
  function restore(): void {
    const out = entries[takenOut];
    if (out) index.add(out.doc);
    takenOut = -1;
  }

  function candidates(query: string, limit: number, heldOut?: HeldOut): Candidate[] {
    const q = analyzer.tokens(query);
    if (q.size === 0 || entries.length === 0 || limit <= 0) return [];
    const vector = queryVector(q, idf);
    const terms = vector.tokens;
    // The wordings' fields first; the answers' field with what is left of the budget.
    const wording = within(terms, wordingDf, 0);
    const wordingTerms = wording.terms;
    const answerTerms = within(terms, answerDf, wording.spent).terms;
    if ((wordingTerms.length === 0 && answerTerms.length === 0) || vector.norm === 0) return [];

    // Calibration asks how the index would answer without one wording: that wording's entry
    // is put back without it for this one query. A whole entry held out is only hidden.
    const held = heldOut ? entries[heldOut.entry] : undefined;
    let swapped: EntryDoc | undefined;
    if (held && heldOut?.phrase !== undefined) {
      swapped = docOf(heldOut.entry, held.phrases, held.doc.ans, heldOut.phrase);
      if (takenOut !== heldOut.entry) {
        restore();
        index.remove(held.doc);
        takenOut = heldOut.entry;
      }
      index.add(swapped);
    } else {
      restore();
    }
    const hidden = heldOut && heldOut.phrase === undefined ? heldOut.entry : -1;
    const boostTerm = (t: string): number => q.get(t) ?? 1;
    // Only while calibrating: a per-posting callback costs time on every search.
    const options = hidden >= 0 ? { boostTerm, boostDocument: (id: unknown) => (id === hidden ? 0 : 1) } : { boostTerm };
    let hits: SearchResult[];
    try {
      hits = index.search(queryOf(wordingTerms, answerTerms), options);
    } finally {
      if (swapped) index.remove(swapped);
    }
    // minisearch's results come best first; the first `limit` are the candidates.
    const top = hits.length > limit ? hits.slice(0, limit) : hits;
    const best = top[0]?.score ?? 0;
    const out: Candidate[] = [];
    for (const hit of top) {
      const id = hit.id as number;
      const entry = entries[id];
      if (!entry || best <= 0) continue;
      const skip = heldOut && heldOut.entry === id ? (heldOut.phrase ?? -1) : -1;
      const f = features(vector, entry, skip);
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
