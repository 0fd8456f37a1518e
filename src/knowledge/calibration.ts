/**
 * Learning the FAQ's re-ranking and confidence from the FAQ itself: each wording is held out in turn and asked as a question (whole entries are held out, and off-topic questions made, to see questions no entry answers); small logistic models turn the ranker's evidence into the probability of being right.
 */
import type { Candidate, CandidateFeatures, HeldOut, Ranker } from './ranker.ts';
import { prng } from '../shared/prng.ts';

/** A logistic model: p = 1 / (1 + e^-(bias + weights · x)). */
export interface LogisticModel {
  bias: number;
  weights: readonly number[];
}

/** The three models the FAQ decides with. */
export interface FaqModels {
  /** Relevance of one candidate from its features (rel, sim, cover, coverAll); orders the candidates. */
  relevance: LogisticModel;
  /** Probability that the first candidate is the right entry, from {@link answerInputs}. */
  answer: LogisticModel;
  /** Probability that the right entry is among the first three, from {@link clarifyInputs}. */
  clarify: LogisticModel;
}

/** A flat prior (all weights 0): what {@link DEFAULT_MODELS} were fitted from. */
export const FLAT_MODELS: FaqModels = {
  relevance: { bias: 0, weights: [0, 0, 0, 0] },
  answer: { bias: 0, weights: [0, 0, 0, 0, 0] },
  clarify: { bias: 0, weights: [0, 0, 0, 0] },
};

/**
 * Models fitted on the shipped FAQ (scripts/faq.csv) by {@link fitFaqModels} from
 * {@link FLAT_MODELS} (`npm run faq:eval -- --faq scripts/faq.csv --cases eval/demo-cases.csv
 * --fit-defaults` prints them; the cases are not used); the prior every
 * other FAQ's fit starts from and is pulled towards, and what a very small FAQ (too few wordings
 * to learn from) uses as it is.
 */
export const DEFAULT_MODELS: FaqModels = {
  relevance: { bias: -4.64, weights: [3.23, 1.56, -0.34, 1.15] },
  answer: { bias: -1.43, weights: [0.35, 0.06, 0.94, 1.35, 1.43] },
  clarify: { bias: -1.17, weights: [0.79, 0.32, 1.56, 0.84] },
};

/** The linear score (log-odds) of a model. */
export function logit(model: LogisticModel, x: readonly number[]): number {
  let z = model.bias;
  model.weights.forEach((w, i) => {
    z += w * (x[i] ?? 0);
  });
  return z;
}

/** The model's probability. */
export function predict(model: LogisticModel, x: readonly number[]): number {
  return 1 / (1 + Math.exp(-logit(model, x)));
}

/** The inputs of the relevance model. */
export function relevanceInputs(f: CandidateFeatures): number[] {
  return [f.rel, f.sim, f.cover, f.coverAll];
}

/** A candidate with its learnt relevance (log-odds), best first after {@link rerank}. */
export interface RankedCandidate extends Candidate {
  relevance: number;
}

/** Orders candidates by the relevance model (BM25+ is one of its inputs). */
export function rerank(candidates: readonly Candidate[], model: LogisticModel): RankedCandidate[] {
  return candidates
    .map((c) => ({ ...c, relevance: logit(model, relevanceInputs(c.features)) }))
    .sort((a, b) => b.relevance - a.relevance);
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/**
 * Inputs of the answer model: how well the first candidate matches on its own (similarity,
 * share of the question it explains, with and without its answer), how far its relevance is
 * ahead of the second's (as probabilities, so the lead is bounded; no second: ahead of nothing),
 * and that lead times the share explained: being alone counts only when the entry explains the
 * question ("查订单" shares one word with a single entry and is about something else).
 */
export function answerInputs(ranked: readonly RankedCandidate[]): number[] {
  const [first, second] = ranked;
  if (!first) return [0, 0, 0, 0, 0];
  const f = first.features;
  const lead = sigmoid(first.relevance) - (second ? sigmoid(second.relevance) : 0);
  return [f.sim, f.cover, f.coverAll, lead, lead * f.coverAll];
}

/**
 * Inputs of the clarify model: the best evidence among the first three, and how far the first
 * is ahead of the fourth.
 */
export function clarifyInputs(ranked: readonly RankedCandidate[]): number[] {
  const [first] = ranked;
  if (!first) return [0, 0, 0, 0];
  const three = ranked.slice(0, 3).map((c) => c.features);
  const fourth = ranked[3];
  return [
    Math.max(...three.map((f) => f.sim)),
    Math.max(...three.map((f) => f.cover)),
    Math.max(...three.map((f) => f.coverAll)),
    sigmoid(first.relevance) - (fourth ? sigmoid(fourth.relevance) : 0),
  ];
}

/** One training row. */
interface Row {
  x: number[];
  y: number;
}

/**
 * Fits a logistic model by Newton's method with an L2 pull towards a prior model (a MAP fit
 * under a Gaussian prior): with few rows the prior wins, with many the data does.
 */
export function fitLogistic(rows: readonly Row[], prior: LogisticModel, strength: number): LogisticModel {
  const d = prior.weights.length + 1;
  const wrong = rows.find((r) => r.x.length !== d - 1);
  if (wrong) throw new Error(`fitLogistic: the prior has ${d - 1} weights but a row has ${wrong.x.length} inputs`);
  const theta0 = [prior.bias, ...prior.weights];
  const theta = [...theta0];
  for (let iter = 0; iter < 30; iter++) {
    const grad = theta.map((t, i) => strength * (t - (theta0[i] ?? 0)));
    const hess = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? strength : 0)));
    for (const row of rows) {
      const x = [1, ...row.x];
      let z = 0;
      for (let i = 0; i < d; i++) z += (theta[i] ?? 0) * (x[i] ?? 0);
      const p = 1 / (1 + Math.exp(-z));
      const w = p * (1 - p);
      for (let i = 0; i < d; i++) {
        grad[i] = (grad[i] ?? 0) + (p - row.y) * (x[i] ?? 0);
        const hi = hess[i];
        if (!hi) continue;
        for (let j = 0; j < d; j++) hi[j] = (hi[j] ?? 0) + w * (x[i] ?? 0) * (x[j] ?? 0);
      }
    }
    const step = solve(hess, grad);
    let moved = 0;
    for (let i = 0; i < d; i++) {
      theta[i] = (theta[i] ?? 0) - (step[i] ?? 0);
      moved = Math.max(moved, Math.abs(step[i] ?? 0));
    }
    if (moved < 1e-6) break;
  }
  return { bias: theta[0] ?? 0, weights: theta.slice(1) };
}

/** Solves A x = b by Gaussian elimination with partial pivoting (A is small and positive definite). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i] ?? 0]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]?.[col] ?? 0) > Math.abs(m[pivot]?.[col] ?? 0)) pivot = r;
    const tmp = m[col];
    m[col] = m[pivot] ?? [];
    m[pivot] = tmp ?? [];
    const pr = m[col] ?? [];
    const pv = pr[col] ?? 0;
    if (Math.abs(pv) < 1e-12) continue;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const row = m[r] ?? [];
      const f = (row[col] ?? 0) / pv;
      if (f === 0) continue;
      for (let c = col; c <= n; c++) row[c] = (row[c] ?? 0) - f * (pr[c] ?? 0);
    }
  }
  return m.map((row, i) => (row[n] ?? 0) / (row[i] || 1));
}

/** A question asked of the index with something held out, and the entry that should come first (-1: none). */
export interface CalibrationSample {
  /** The question asked. */
  query: string;
  /** What was left out of the index for it; absent for a question about something else. */
  heldOut?: HeldOut;
  candidates: Candidate[];
  expected: number;
}

/** Options of {@link collectSamples} and {@link fitFaqModels}. */
export interface CalibrationOptions {
  /** At most this many held-out wordings are asked (default 600), drawn at random (seeded). */
  maxWordings?: number;
  /** At most this many entries are held out whole (default 150). */
  maxEntries?: number;
  /** Candidates looked at per question (default 10). */
  candidates?: number;
  /** Seed of the draw, so a library always gets the same models (default 1). */
  seed?: number;
}

function sample<T>(items: T[], max: number, next: () => number): T[] {
  if (items.length <= max) return items;
  // A partial Fisher–Yates shuffle.
  const copy = [...items];
  for (let i = 0; i < max; i++) {
    const j = i + Math.floor(next() * (copy.length - i));
    const t = copy[i] as T;
    copy[i] = copy[j] as T;
    copy[j] = t;
  }
  return copy.slice(0, max);
}

/**
 * Everyday words of no shop's FAQ, for questions about something else: a customer's "查订单",
 * "今天天气怎么样" or "你们卖手机吗" shares one word with an entry and leaves the rest
 * unexplained. Only the words an FAQ does not know are used.
 */
const OFF_TOPIC = {
  zh: ['天气', '电影', '手机', '考试', '医院', '老师', '股票', '足球', '火车', '房子', '工作', '作业', '外卖', '游戏', '明天', '朋友', '电脑', '头疼', '音乐', '机票', '查', '唱歌', '猫'],
  en: ['weather', 'movie', 'football', 'doctor', 'homework', 'train', 'guitar', 'birthday', 'holiday', 'pizza', 'school', 'music', 'garden', 'laptop', 'concert', 'hotel', 'taxi', 'museum', 'joke', 'recipe'],
} as const;

const HAN = /\p{Script=Han}/u;

/**
 * Asks the index each wording with that wording held out (would the others have found the
 * entry?); some wordings with their whole entry held out (a question the FAQ cannot answer,
 * close to the shop's topics); and as many questions about something else that share one
 * word with an entry (the FAQ should not answer those either).
 */
export function collectSamples(ranker: Ranker, opts: CalibrationOptions = {}): CalibrationSample[] {
  const next = prng(opts.seed ?? 1);
  const limit = opts.candidates ?? 10;
  const wordings: { entry: number; phrase: number }[] = [];
  const wholes: number[] = [];
  for (let entry = 0; entry < ranker.size; entry++) {
    const count = ranker.phraseCount(entry);
    if (count >= 2) for (let phrase = 0; phrase < count; phrase++) wordings.push({ entry, phrase });
    wholes.push(entry);
  }
  // Asked entry by entry (the index takes an entry's document out once for all its wordings),
  // kept in the drawn order.
  const drawn = sample(wordings, opts.maxWordings ?? 600, next);
  const asked: CalibrationSample[] = new Array<CalibrationSample>(drawn.length);
  for (const i of drawn.map((_, i) => i).sort((a, b) => drawn[a]!.entry - drawn[b]!.entry || a - b)) {
    const w = drawn[i]!;
    const query = ranker.phrase(w.entry, w.phrase);
    asked[i] = { query, heldOut: w, candidates: ranker.candidates(query, limit, w), expected: w.entry };
  }
  const out: CalibrationSample[] = [...asked];
  if (ranker.size < 2) return out;
  const unknown = {
    zh: OFF_TOPIC.zh.filter((w) => [...ranker.analyzer.tokens(w).keys()].every((t) => !ranker.knows(t))),
    en: OFF_TOPIC.en.filter((w) => [...ranker.analyzer.tokens(w).keys()].every((t) => !ranker.knows(t))),
  };
  const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(next() * items.length)];
  for (const entry of sample(wholes, opts.maxEntries ?? 150, next)) {
    const text = ranker.phrase(entry, Math.floor(next() * ranker.phraseCount(entry)));
    out.push({ query: text, heldOut: { entry }, candidates: ranker.candidates(text, limit, { entry }), expected: -1 });
    // One content word of the wording among one or two words the FAQ never uses.
    const words = [...ranker.analyzer.tokens(text)].filter(([, w]) => w >= 1).map(([t]) => t);
    const word = pick(words);
    const fillers = HAN.test(text) ? unknown.zh : unknown.en;
    const before = pick(fillers);
    if (word === undefined || before === undefined) continue;
    const after = next() < 0.5 ? pick(fillers) : undefined;
    const query = [before, word, after].filter(Boolean).join(HAN.test(text) ? '' : ' ');
    out.push({ query, candidates: ranker.candidates(query, limit), expected: -1 });
  }
  return out;
}

// How many rows the prior is worth. Small enough that the shipped FAQ's 700 questions move the
// fit freely, large enough that a 5-entry FAQ keeps the prior.
const PRIOR_STRENGTH = 8;
// Below this many held-out wordings, fitting would learn noise: the defaults are used.
export const MIN_WORDINGS_TO_FIT = 40;

/**
 * Fits the three models to an FAQ from its own wordings (never from test questions): relevance
 * on every candidate of the held-out wordings, then the answer and clarify probabilities on the
 * re-ranked lists, including those of held-out entries.
 */
export function fitFaqModels(samples: readonly CalibrationSample[], prior: FaqModels = DEFAULT_MODELS): FaqModels {
  const answerable = samples.filter((s) => s.expected >= 0);
  if (answerable.length < MIN_WORDINGS_TO_FIT) return prior;
  const relevanceRows: Row[] = [];
  for (const s of answerable) for (const c of s.candidates) relevanceRows.push({ x: relevanceInputs(c.features), y: c.entry === s.expected ? 1 : 0 });
  const relevance = fitLogistic(relevanceRows, prior.relevance, PRIOR_STRENGTH);
  const answerRows: Row[] = [];
  const clarifyRows: Row[] = [];
  for (const s of samples) {
    const ranked = rerank(s.candidates, relevance);
    if (ranked.length === 0) continue;
    answerRows.push({ x: answerInputs(ranked), y: ranked[0]?.entry === s.expected ? 1 : 0 });
    clarifyRows.push({ x: clarifyInputs(ranked), y: ranked.slice(0, 3).some((c) => c.entry === s.expected) ? 1 : 0 });
  }
  return {
    relevance,
    answer: fitLogistic(answerRows, prior.answer, PRIOR_STRENGTH),
    clarify: fitLogistic(clarifyRows, prior.clarify, PRIOR_STRENGTH),
  };
}

/**
 * Two-fold cross-validation over held-out questions: the models are learnt on one half and each
 * question of the other half is ranked with them, then the other way round. `visit` sees every
 * question once, with its re-ranked candidates and the models that never saw it.
 */
export function acrossHalves(samples: readonly CalibrationSample[], visit: (sample: CalibrationSample, ranked: RankedCandidate[], models: FaqModels) => void): void {
  for (const half of [0, 1]) {
    const models = fitFaqModels(samples.filter((_, i) => i % 2 === half), DEFAULT_MODELS);
    for (const sample of samples.filter((_, i) => i % 2 !== half)) visit(sample, rerank(sample.candidates, models.relevance), models);
  }
}
