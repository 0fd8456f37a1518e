/**
 * Measuring FAQ answering on a set of customer questions: the figures of DESIGN.md
 * (`npm run faq:eval`), a baseline a user might pick instead (minisearch with default settings),
 * and a latency bench on a synthesised FAQ of any size.
 */
import MiniSearch from 'minisearch';
import type { Llm } from '../llm/types.ts';
import { detectLang } from '../understanding/text.ts';
import { createFaqIndex, DEFAULT_ANSWER_THRESHOLD, type FaqEntry, type FaqIndex, type FaqIndexOptions, type FaqInspection } from './faq.ts';
import type { FaqEmbeddings } from './embeddings.ts';
import { modelCandidates, resolveWithModel } from './model-resolve.ts';
import { createFaqAnalyzer } from './analysis.ts';
import { acrossHalves, answerInputs, collectSamples, predict } from './calibration.ts';
import { parseCsv } from './csv.ts';
import { createRanker } from './ranker.ts';

/** One evaluation question and the entry that answers it ('' when none does: the right behaviour is not to answer). */
export interface EvalCase {
  query: string;
  expected: string;
}

/** A case file's rows that could not be taken, with their line. */
export interface EvalCaseProblem {
  line: number;
  message: string;
}

/** Reads a case CSV: header `query,expected_id`, an empty expected_id for a question no entry answers. */
export function parseCasesCsv(text: string): { cases: EvalCase[]; problems: EvalCaseProblem[] } {
  const { records, problems } = parseCsv(text);
  const out: EvalCaseProblem[] = [...problems];
  const [header, ...rows] = records;
  const names = header?.fields.map((f) => f.trim().toLowerCase()).join(',');
  if (names !== 'query,expected_id') {
    out.push({ line: header?.line ?? 1, message: `the header must be "query,expected_id", found "${header?.fields.join(',') ?? ''}"` });
    return { cases: [], problems: out };
  }
  const cases: EvalCase[] = [];
  for (const row of rows) {
    const [query, expected] = row.fields;
    if (row.fields.length !== 2 || !query?.trim()) {
      out.push({ line: row.line, message: 'expected a non-empty query and an expected_id (empty for none)' });
      continue;
    }
    cases.push({ query: query.trim(), expected: (expected ?? '').trim() });
  }
  return { cases, problems: out };
}

/** What a system under evaluation says about one question. */
export interface SystemAnswer {
  /** Entry ids, best first (for MRR). */
  ranked: string[];
  kind: 'answer' | 'clarify' | 'abstain';
  /** The entry answered with, when kind is 'answer'. */
  answerId?: string;
  /** The entries offered, when kind is 'clarify'. */
  offered?: string[];
}

/** A system that answers FAQ questions. */
export interface FaqSystem {
  name: string;
  ask(query: string): SystemAnswer;
}

/**
 * The figures of DESIGN.md's `faq:eval`. Rates are shares of all cases unless named otherwise;
 * `null` where the denominator is empty (no in-scope or no out-of-scope case).
 */
export interface EvalReport {
  system: string;
  /** Number of cases. */
  n: number;
  /** Share of in-scope cases answered directly with the expected entry. */
  top1: number | null;
  /** Mean reciprocal rank of the expected entry in the ranked list (10 deep), over in-scope cases. */
  mrr: number | null;
  /** Share of all cases answered directly. */
  answerRate: number;
  /** Share of all cases answered by asking back ("A or B?"). */
  clarifyRate: number;
  /** Share of all cases left to the fallback. */
  abstainRate: number;
  /** Share of all cases answered directly with a wrong entry, or answered at all when none fits. */
  falseAnswerRate: number;
  /** Share of out-of-scope cases not answered directly. */
  oosRejectRate: number | null;
  /** Median time of one question, milliseconds. */
  p50Ms: number;
  /** 99th percentile time of one question, milliseconds. */
  p99Ms: number;
}

const round = (x: number, digits = 4): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** The value at quantile q (0..1) of sorted numbers, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? 0;
}

/** At least this many questions are timed: the cases are asked again until there are (p99 of 468 times is the 5th slowest, too much at the mercy of one pause). */
const MIN_TIMED = 2000;

/** One case's answer and its time, for {@link figuresOf}. */
interface Asked {
  answer: SystemAnswer;
  ms: number;
}

/** The figures of the answers to the cases (answers[i] to cases[i]); `times` are all the timed questions. */
function figuresOf(name: string, cases: readonly EvalCase[], answers: readonly SystemAnswer[], times: number[]): EvalReport {
  let inScope = 0;
  let outOfScope = 0;
  let right = 0;
  let reciprocal = 0;
  let answered = 0;
  let clarified = 0;
  let abstained = 0;
  let wrong = 0;
  let rejected = 0;
  cases.forEach((c, i) => {
    const a = answers[i] ?? { ranked: [], kind: 'abstain' };
    if (a.kind === 'answer') answered++;
    else if (a.kind === 'clarify') clarified++;
    else abstained++;
    if (c.expected) {
      inScope++;
      if (a.kind === 'answer' && a.answerId === c.expected) right++;
      else if (a.kind === 'answer') wrong++;
      const rank = a.ranked.slice(0, 10).indexOf(c.expected);
      if (rank >= 0) reciprocal += 1 / (rank + 1);
    } else {
      outOfScope++;
      if (a.kind === 'answer') wrong++;
      else rejected++;
    }
  });
  const n = cases.length;
  times.sort((x, y) => x - y);
  return {
    system: name,
    n,
    top1: inScope ? round(right / inScope) : null,
    mrr: inScope ? round(reciprocal / inScope) : null,
    answerRate: n ? round(answered / n) : 0,
    clarifyRate: n ? round(clarified / n) : 0,
    abstainRate: n ? round(abstained / n) : 0,
    falseAnswerRate: n ? round(wrong / n) : 0,
    oosRejectRate: outOfScope ? round(rejected / outOfScope) : null,
    p50Ms: round(quantile(times, 0.5), 3),
    p99Ms: round(quantile(times, 0.99), 3),
  };
}

/**
 * Asks every case and computes the figures. Up to 500 questions are asked once untimed first,
 * so the times are those of a running bot, not of a process still collecting the garbage of
 * building the index; the cases are then asked again (same answers) until at least 2,000 have
 * been timed.
 */
export function evaluate(system: FaqSystem, cases: readonly EvalCase[]): EvalReport {
  for (const c of cases.slice(0, 500)) system.ask(c.query);
  const asked: Asked[] = [];
  for (const c of cases) {
    const start = performance.now();
    const answer = system.ask(c.query);
    asked.push({ answer, ms: performance.now() - start });
  }
  const times = asked.map((a) => a.ms);
  while (cases.length > 0 && times.length < MIN_TIMED) {
    for (const c of cases) {
      const start = performance.now();
      system.ask(c.query);
      times.push(performance.now() - start);
    }
  }
  return figuresOf(system.name, cases, asked.map((a) => a.answer), times);
}

/** A system whose answers may take a network call (the bot with a model). */
export interface AsyncFaqSystem {
  name: string;
  ask(query: string): Promise<SystemAnswer>;
}

/**
 * {@link evaluate} for a system that calls a model: the same figures, computed the same way,
 * but every case is asked once, in turn, and timed once (no warm-up, no repetition: each
 * question may be a paid call, and its time is the model's). Run it after {@link evaluate} on
 * the same process so the index part is warm.
 */
export async function evaluateAsync(system: AsyncFaqSystem, cases: readonly EvalCase[]): Promise<EvalReport> {
  const asked: Asked[] = [];
  for (const c of cases) {
    const start = performance.now();
    const answer = await system.ask(c.query);
    asked.push({ answer, ms: performance.now() - start });
  }
  return figuresOf(system.name, cases, asked.map((a) => a.answer), asked.map((a) => a.ms));
}

/** Figures beyond DESIGN.md's, to see where the in-scope cases go (`faq:eval --details`). */
export interface EvalDetails {
  system: string;
  /** Share of in-scope cases whose expected entry is ranked first, answered or not. */
  rankedFirst: number | null;
  /** Share of in-scope cases asked back with the expected entry among the options. */
  offered: number | null;
  /** Share of in-scope cases answered with the expected entry or asked back with it among the options. */
  answeredOrOffered: number | null;
}

/** Asks the in-scope cases again and says how many were ranked right, and how many asked back with the right entry offered. */
export function evaluateDetails(system: FaqSystem, cases: readonly EvalCase[]): EvalDetails {
  const inScope = cases.filter((c) => c.expected);
  let first = 0;
  let offered = 0;
  let right = 0;
  for (const c of inScope) {
    const a = system.ask(c.query);
    if (a.ranked[0] === c.expected) first++;
    if (a.kind === 'clarify' && a.offered?.includes(c.expected)) offered++;
    if (a.kind === 'answer' && a.answerId === c.expected) right++;
  }
  const share = (k: number): number | null => (inScope.length ? round(k / inScope.length) : null);
  return { system: `${system.name}-details`, rankedFirst: share(first), offered: share(offered), answeredOrOffered: share(right + offered) };
}

/** What the bot does with an inspected question, as the eval records it. */
function answerOf({ hits, decision }: FaqInspection): SystemAnswer {
  return {
    ranked: hits.map((h) => h.entry.id),
    kind: decision.kind,
    ...(decision.kind === 'answer' ? { answerId: decision.entry.id } : {}),
    ...(decision.kind === 'clarify' ? { offered: decision.entries.map((e) => e.id) } : {}),
  };
}

/** The bot's FAQ index as a system under evaluation. */
export function botSystem(entries: readonly FaqEntry[], opts: FaqIndexOptions = {}): FaqSystem {
  return botSystemOn(createFaqIndex(entries, opts));
}

/** {@link botSystem} on an index already built (to share it with {@link botWithModelSystem}). */
export function botSystemOn(index: FaqIndex): FaqSystem {
  return { name: 'bot', ask: (query) => answerOf(index.inspect(query, 10)) };
}

/** The bot with a model, and how often the model was asked and picked an entry. */
export interface ModelFaqSystem extends AsyncFaqSystem {
  /** Questions passed to the model (clarify or abstain with candidates). */
  readonly modelAsked: number;
  /** Of those, answered with the entry the model picked. */
  readonly modelPicked: number;
}

/**
 * The bot with a model (`"system": "bot+llm"`): the index decides as in {@link botSystem}, and
 * with `embeddings` (an embeddings model) a question it would not answer is asked again with its
 * vector as the pipeline does (FaqEmbeddings.askWithVector); when it would still ask back or
 * abstain with close candidates ({@link modelCandidates}), the model picks one of them
 * ({@link resolveWithModel}) and the question counts as answered directly with it (ranked
 * first); when the model says none or fails, the index's decision stands.
 */
export function botWithModelSystem(index: FaqIndex, llm: Pick<Llm, 'wordAnswer'>, embeddings?: FaqEmbeddings): ModelFaqSystem {
  let asked = 0;
  let picked = 0;
  async function inspect(query: string): Promise<FaqInspection> {
    const withVector = embeddings ? (await embeddings.askWithVector(index, query, 10, true)).inspection : null;
    return withVector ?? index.inspect(query, 10);
  }
  return {
    name: embeddings ? 'bot+llm+embeddings' : 'bot+llm',
    get modelAsked() { return asked; },
    get modelPicked() { return picked; },
    async ask(query) {
      const inspection = await inspect(query);
      const base = answerOf(inspection);
      const candidates = modelCandidates(inspection);
      if (candidates.length === 0) return base;
      asked++;
      const chosen = await resolveWithModel({ question: query, lang: detectLang(query), candidates }, llm);
      if (!chosen) return base;
      picked++;
      return { ranked: [chosen.id, ...base.ranked.filter((id) => id !== chosen.id)], kind: 'answer', answerId: chosen.id };
    },
  };
}

interface BaselineDoc {
  id: string;
  question: string;
  alternates: string;
}

function baselineIndex(entries: readonly FaqEntry[]): MiniSearch<BaselineDoc> {
  const index = new MiniSearch<BaselineDoc>({ fields: ['question', 'alternates'] });
  index.addAll(entries.map((e) => ({ id: e.id, question: e.question, alternates: e.alternates.join(' ') })));
  return index;
}

/**
 * The score above which the baseline answers: the one that would have done best on the FAQ's
 * own wordings, each held out in turn (right answers minus 1.5 × wrong ones, the trade-off the
 * bot's default threshold of 0.6 stands for), so the baseline is tuned as fairly as the bot.
 */
export function fitBaselineMinScore(entries: readonly FaqEntry[]): number {
  const outcomes: { score: number; right: boolean }[] = [];
  entries.forEach((entry, i) => {
    const wordings = [entry.question, ...entry.alternates];
    if (wordings.length < 2) return;
    wordings.forEach((held, k) => {
      const rest = wordings.filter((_, j) => j !== k);
      const others = entries.map((e, j) => (j === i ? { ...e, question: rest[0] ?? '', alternates: rest.slice(1) } : e));
      const top = baselineIndex(others).search(held)[0];
      if (top) outcomes.push({ score: top.score, right: top.id === entry.id });
    });
  });
  let best = Infinity;
  let bestUtility = 0;
  for (const { score } of outcomes) {
    let utility = 0;
    for (const o of outcomes) if (o.score >= score) utility += o.right ? 1 : -1.5;
    if (utility > bestUtility) {
      bestUtility = utility;
      best = score;
    }
  }
  return best;
}

/**
 * A baseline a user might pick instead: minisearch with its default settings (its own
 * tokenizer, no Chinese analysis, no synonyms) over question and alternates, answering with
 * the top hit when its score is at least `minScore`, never asking back.
 */
export function baselineSystem(entries: readonly FaqEntry[], minScore: number): FaqSystem {
  const index = baselineIndex(entries);
  return {
    name: 'baseline-minisearch-default',
    ask(query) {
      const hits = index.search(query);
      const top = hits[0];
      const ranked = hits.slice(0, 10).map((h) => String(h.id));
      return top && top.score >= minScore ? { ranked, kind: 'answer', answerId: String(top.id) } : { ranked, kind: 'abstain' };
    },
  };
}

/**
 * An FAQ of `size` entries made from the real ones, for latency at scale: entry k takes the
 * wordings of real entry k mod n, each joined with a wording of another real entry, and the
 * first entries' answers and tags. Its vocabulary is the real FAQ's, so its terms' posting
 * lists are as long as they can get: a harder case for speed than a real FAQ of that size.
 */
export function synthesizeEntries(entries: readonly FaqEntry[], size: number): FaqEntry[] {
  const n = entries.length;
  if (n === 0) return [];
  const out: FaqEntry[] = [];
  for (let k = 0; k < size; k++) {
    const base = entries[k % n] as FaqEntry;
    const round = Math.floor(k / n);
    const other = entries[(k * 7 + round * 13 + 1) % n] as FaqEntry;
    const otherWordings = [other.question, ...other.alternates];
    const mix = (text: string, j: number): string => (round === 0 ? text : `${text} ${otherWordings[(j + round) % otherWordings.length] ?? ''}`);
    out.push({
      id: `${base.id}_${k}`,
      question: mix(base.question, 0),
      answer: base.answer,
      alternates: base.alternates.map((a, j) => mix(a, j + 1)),
      tags: base.tags,
    });
  }
  return out;
}

/** Latency of the bot's FAQ at a given size. */
export interface ScaleReport {
  system: string;
  entries: number;
  n: number;
  buildMs: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Builds the bot's index over a synthesised FAQ of `size` entries and times each question
 * (decide and the ranked list, as the eval does). Calibration runs as it would in production.
 */
export function benchScale(entries: readonly FaqEntry[], queries: readonly string[], size: number, opts: FaqIndexOptions = {}): ScaleReport {
  const start = performance.now();
  const system = botSystem(synthesizeEntries(entries, size), opts);
  const buildMs = performance.now() - start;
  const report = evaluate(system, queries.map((query) => ({ query, expected: '' })));
  return { system: 'bot', entries: size, n: report.n, buildMs: round(buildMs, 0), p50Ms: report.p50Ms, p99Ms: report.p99Ms };
}

/** How a threshold behaves on one FAQ size, from held-out wordings (no test questions). */
export interface CalibrationCheck {
  entries: number;
  /** Held-out questions asked (wordings, held-out entries, off-topic questions). */
  samples: number;
  /** Share of them answered at the threshold. */
  answered: number;
  /** Share of the answered ones answered with the right entry (none right for the unanswerable ones). */
  precision: number | null;
  /** Mean confidence of the answered ones: close to precision when the confidence is calibrated. */
  meanConfidence: number | null;
}

/**
 * Does one threshold mean the same in FAQs of different sizes? For each size, the first
 * entries of every k-th are taken; the models are learnt on half the held-out questions and
 * measured on the other half (and the other way round).
 */
export function checkCalibration(entries: readonly FaqEntry[], sizes: readonly number[], opts: { synonyms?: readonly (readonly string[])[]; threshold?: number } = {}): CalibrationCheck[] {
  const threshold = opts.threshold ?? DEFAULT_ANSWER_THRESHOLD;
  return sizes.map((size) => {
    const step = Math.max(1, Math.floor(entries.length / size));
    const subset = entries.filter((_, i) => i % step === 0).slice(0, size);
    const samples = collectSamples(createRanker(subset, createFaqAnalyzer(opts.synonyms ?? [])));
    let answered = 0;
    let right = 0;
    let confidence = 0;
    acrossHalves(samples, (sample, ranked, models) => {
      if (ranked.length === 0) return;
      const p = predict(models.answer, answerInputs(ranked));
      if (p < threshold) return;
      answered++;
      confidence += p;
      if (ranked[0]?.entry === sample.expected) right++;
    });
    return {
      entries: subset.length,
      samples: samples.length,
      answered: samples.length ? round(answered / samples.length) : 0,
      precision: answered ? round(right / answered) : null,
      meanConfidence: answered ? round(confidence / answered) : null,
    };
  });
}
