/**
 * The FAQ with embeddings (a model with an embeddings model configured): a question's vector
 * finds entries that share no word with it ("运费谁出" for 包邮吗), and ranking and confidence
 * are learnt again, the same way as without (each wording held out in turn, whole entries held
 * out, questions about something else), from the words' evidence and the vectors together.
 * Nothing here calls a model: embeddings.ts gets the vectors. See docs/faq.md "With embeddings".
 */
import {
  MIN_WORDINGS_TO_FIT, fitLogistic, logit, predict, rerank,
  type CalibrationSample, type FaqModels, type LogisticModel,
} from './calibration.ts';
import { decideOn, type DecisionSettings } from './decision.ts';
import type { FaqDecision, FaqEntry, FaqHit, FaqInspection } from './faq.ts';
import type { CandidateFeatures, HeldOut, Ranker } from './ranker.ts';

/** A text's embedding scaled to length 1, so a dot product is the cosine. */
export type Vector = Float32Array;

/** The vector of a model's embedding, or null when it has no direction (all zeros, not finite). */
export function unitVector(values: readonly number[]): Vector | null {
  let sum = 0;
  for (const x of values) sum += x * x;
  if (!(sum > 0) || !Number.isFinite(sum)) return null;
  const scale = 1 / Math.sqrt(sum);
  return Float32Array.from(values, (x) => x * scale);
}

/** The three models of the FAQ with embeddings; inputs as {@link denseRelevanceInputs}, {@link denseAnswerInputs}, {@link denseClarifyInputs}. */
export type DenseModels = FaqModels;

/** The FAQ asked with a question's vector too. */
export interface DenseFaq {
  /** Hits and decision, like FaqIndex.inspect. */
  inspect(query: string, vector: Vector, limit?: number): FaqInspection;
  decide(query: string, vector: Vector): FaqDecision;
  readonly models: DenseModels;
}

/** A candidate with the vector's evidence: `emb` is the cosine of the question with the entry's closest wording. */
export interface DenseCandidate {
  entry: number;
  features: CandidateFeatures;
  /** The words' relevance (log-odds of the FAQ's own relevance model). */
  lexical: number;
  emb: number;
  /** The learnt relevance from both (log-odds); orders the candidates. */
  relevance: number;
}

// Entries taken by their vector alone, on top of the words' candidates.
const VECTOR_CANDIDATES = 5;
// The words' candidates (as FaqIndex takes).
const WORD_CANDIDATES = 10;
// How many rows the flat prior is worth: barely more than keeping the fit finite.
const PRIOR_STRENGTH = 1;

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
const NO_FEATURES: CandidateFeatures = Object.freeze({ rel: 0, sim: 0, cover: 0, coverAll: 0 });

/** Relevance inputs: the words' probability, the cosine, and how far the cosine is below the best entry's. */
export function denseRelevanceInputs(c: Pick<DenseCandidate, 'lexical' | 'emb'>, bestEmb: number): number[] {
  return [sigmoid(c.lexical), c.emb, c.emb - bestEmb];
}

/** Answer inputs: the first's probability and lead over the second, its cosine and lead in cosine, and the share of the question its text explains. */
export function denseAnswerInputs(ranked: readonly DenseCandidate[]): number[] {
  const [first, second] = ranked;
  if (!first) return [0, 0, 0, 0, 0];
  const p = sigmoid(first.relevance);
  return [p, p - (second ? sigmoid(second.relevance) : 0), first.emb, first.emb - (second?.emb ?? 0), first.features.coverAll];
}

/** Clarify inputs: the best cosine and explained share among the first three, and the first's lead over the fourth. */
export function denseClarifyInputs(ranked: readonly DenseCandidate[]): number[] {
  const three = ranked.slice(0, 3);
  const first = ranked[0];
  if (!first) return [0, 0, 0];
  const fourth = ranked[3];
  return [
    Math.max(...three.map((c) => c.emb)),
    Math.max(...three.map((c) => c.features.coverAll)),
    sigmoid(first.relevance) - (fourth ? sigmoid(fourth.relevance) : 0),
  ];
}

/**
 * A question's inspection with its vector, as a turn uses it: the vectors' when they answer or
 * when the words would stay silent; the words' when they would ask back and the vectors would
 * not answer (vectors that are close for the FAQ's own wordings but not for customers' questions
 * must not turn "您是想问 A 还是 B?" into silence).
 */
export function preferred(words: FaqInspection, vectors: FaqInspection): FaqInspection {
  if (vectors.decision.kind === 'answer' || words.decision.kind === 'abstain') return vectors;
  return words;
}

/** What {@link trainDenseFaq} learns from. */
export interface DenseTrainingInput {
  entries: readonly FaqEntry[];
  ranker: Ranker;
  /** The FAQ's own models (its relevance model reads the words' evidence). */
  models: FaqModels;
  /** The questions the FAQ's models were learnt from, with what was held out for each. */
  samples: readonly CalibrationSample[];
  settings: DecisionSettings;
  /** The vector of a wording or a sample's question; undefined when it has none. */
  vectorOf(text: string): Vector | undefined;
}

// Learning gives the event loop back after this long (ms), so customers' turns go on meanwhile.
const STEP_MS = 10;
const yieldToOthers = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Learns the FAQ with embeddings from the same held-out questions as the FAQ's own models;
 * null when the FAQ has too few wordings to learn from, or a wording has no vector. Compares
 * a few questions at a time and lets the process answer customers in between.
 */
export async function trainDenseFaq(input: DenseTrainingInput): Promise<DenseFaq | null> {
  const { entries, ranker, models: lexicalModels, settings } = input;
  // Every wording's vector, one row each, with its entry and place.
  const rows: Vector[] = [];
  const rowEntry: number[] = [];
  const rowPhrase: number[] = [];
  for (let entry = 0; entry < ranker.size; entry++) {
    for (let phrase = 0; phrase < ranker.phraseCount(entry); phrase++) {
      const v = input.vectorOf(ranker.phrase(entry, phrase));
      if (!v) return null;
      rows.push(v);
      rowEntry.push(entry);
      rowPhrase.push(phrase);
    }
  }
  const dimension = rows[0]?.length ?? 0;
  if (rows.some((v) => v.length !== dimension)) return null;
  const floor = logit(lexicalModels.relevance, [0, 0, 0, 0]);

  /** The cosine of the question with each entry's closest wording (-1: none), leaving out what is held out. */
  function cosines(q: Vector, held?: HeldOut): Float32Array {
    const best = new Float32Array(ranker.size).fill(-1);
    for (let r = 0; r < rows.length; r++) {
      const entry = rowEntry[r] as number;
      if (held && held.entry === entry && (held.phrase === undefined || held.phrase === rowPhrase[r])) continue;
      const v = rows[r] as Vector;
      let dot = 0;
      for (let i = 0; i < dimension; i++) dot += (q[i] ?? 0) * (v[i] ?? 0);
      if (dot > (best[entry] as number)) best[entry] = dot;
    }
    return best;
  }

  /** The words' candidates and the vector's best entries, with the evidence of both, unordered. */
  function candidatesOf(words: readonly { entry: number; features: CandidateFeatures; relevance: number }[], emb: Float32Array): DenseCandidate[] {
    const out = new Map<number, DenseCandidate>();
    for (const c of words) out.set(c.entry, { entry: c.entry, features: c.features, lexical: c.relevance, emb: emb[c.entry] ?? -1, relevance: 0 });
    const byVector = [...emb.keys()].filter((e) => (emb[e] ?? -1) > -1).sort((a, b) => (emb[b] ?? 0) - (emb[a] ?? 0)).slice(0, VECTOR_CANDIDATES);
    for (const e of byVector) if (!out.has(e)) out.set(e, { entry: e, features: NO_FEATURES, lexical: floor, emb: emb[e] ?? -1, relevance: 0 });
    return [...out.values()];
  }

  function ranked(cands: DenseCandidate[], relevance: LogisticModel): DenseCandidate[] {
    const bestEmb = Math.max(-1, ...cands.map((c) => c.emb));
    for (const c of cands) c.relevance = logit(relevance, denseRelevanceInputs(c, bestEmb));
    return cands.sort((a, b) => b.relevance - a.relevance);
  }

  // The held-out questions again, now with their vectors.
  const asked: { cands: DenseCandidate[]; expected: number }[] = [];
  let stepStart = performance.now();
  for (const s of input.samples) {
    if (performance.now() - stepStart > STEP_MS) {
      await yieldToOthers();
      stepStart = performance.now();
    }
    const q = input.vectorOf(s.query);
    if (!q || q.length !== dimension) return null;
    asked.push({ cands: candidatesOf(rerank(s.candidates, lexicalModels.relevance), cosines(q, s.heldOut)), expected: s.expected });
  }
  const answerable = asked.filter((s) => s.expected >= 0);
  if (answerable.length < MIN_WORDINGS_TO_FIT) return null;
  const relevanceRows = answerable.flatMap((s) => {
    const bestEmb = Math.max(-1, ...s.cands.map((c) => c.emb));
    return s.cands.map((c) => ({ x: denseRelevanceInputs(c, bestEmb), y: c.entry === s.expected ? 1 : 0 }));
  });
  const relevance = fitLogistic(relevanceRows, { bias: 0, weights: [0, 0, 0] }, PRIOR_STRENGTH);
  const answerRows: { x: number[]; y: number }[] = [];
  const clarifyRows: { x: number[]; y: number }[] = [];
  for (const s of asked) {
    const list = ranked(s.cands, relevance);
    if (list.length === 0) continue;
    answerRows.push({ x: denseAnswerInputs(list), y: list[0]?.entry === s.expected ? 1 : 0 });
    clarifyRows.push({ x: denseClarifyInputs(list), y: list.slice(0, 3).some((c) => c.entry === s.expected) ? 1 : 0 });
  }
  const models: DenseModels = {
    relevance,
    answer: fitLogistic(answerRows, { bias: 0, weights: [0, 0, 0, 0, 0] }, PRIOR_STRENGTH),
    clarify: fitLogistic(clarifyRows, { bias: 0, weights: [0, 0, 0] }, PRIOR_STRENGTH),
  };

  function inspect(query: string, vector: Vector, limit = 5): FaqInspection {
    if (vector.length !== dimension) throw new RangeError(`the question's vector has ${vector.length} dimensions, the FAQ's ${dimension}`);
    const words = rerank(ranker.candidates(query, WORD_CANDIDATES), lexicalModels.relevance);
    const list = ranked(candidatesOf(words, cosines(vector)), models.relevance);
    const hits: FaqHit[] = [];
    for (let i = 0; i < Math.min(limit, list.length); i++) {
      const c = list[i] as DenseCandidate;
      const entry = entries[c.entry];
      if (!entry) continue;
      // As if it were first: its lead over the best of the others.
      const runnerUp = i === 0 ? list[1] : list[0];
      hits.push({ entry, score: sigmoid(c.relevance), confidence: predict(models.answer, denseAnswerInputs(runnerUp ? [c, runnerUp] : [c])) });
    }
    const decision = decideOn(list, entries, settings, predict(models.answer, denseAnswerInputs(list)), () => predict(models.clarify, denseClarifyInputs(list)));
    return { hits, decision };
  }

  return { inspect, decide: (query, vector) => inspect(query, vector, 0).decision, models };
}
