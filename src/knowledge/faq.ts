/** The FAQ knowledge base: entries read from CSV or YAML, a Chinese-aware index, and when to answer, ask back or stay silent. */
import { LineCounter, isMap, isNode, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import type { Lang } from '../bots/messages.ts';
import { createFaqAnalyzer } from './analysis.ts';
import {
  DEFAULT_MODELS, answerInputs, clarifyInputs, collectSamples, fitFaqModels, predict, rerank,
  type CalibrationOptions, type FaqModels, type RankedCandidate,
} from './calibration.ts';
import { parseCsv } from './csv.ts';
import { decideOn, type DecisionSettings } from './decision.ts';
import { trainDenseFaq, type DenseFaq, type Vector } from './dense.ts';
import { createRanker } from './ranker.ts';

/**
 * One question the shop answers. `answer` is Chinese, optionally followed by a line
 * `---en---` and the English answer (see {@link answerIn}); `alternates` are other ways
 * customers ask the same (in either language).
 */
export interface FaqEntry {
  id: string;
  question: string;
  answer: string;
  alternates: string[];
  tags: string[];
  /**
   * This entry's own answer threshold (0..1), set by a manager: higher for an answer that must
   * not be given by mistake, lower for a harmless one. Absent: the index's threshold.
   */
  threshold?: number;
}

/** The line that separates an answer's Chinese text from its English text. */
export const ENGLISH_ANSWER_MARK = '---en---';

/**
 * The answer in the customer's language. The CSV format stays exactly `id,question,answer,
 * alternates,tags`, so an English answer lives in the same cell after a line `---en---`;
 * without it (or for Chinese) the Chinese text is given.
 */
export function answerIn(entry: Pick<FaqEntry, 'answer'>, lang: Lang): string {
  const at = entry.answer.search(/^\s*---en---\s*$/m);
  if (at < 0) return entry.answer.trim();
  const zh = entry.answer.slice(0, at).trim();
  const en = entry.answer.slice(at).replace(/^\s*---en---\s*$/m, '').trim();
  return lang === 'en' && en ? en : zh || en;
}

/** A row that could not be taken, with where it is (`source:line`) and why. */
export interface FaqProblem {
  where: string;
  line: number;
  message: string;
}

/** The entries that were read, and the rows that were refused. */
export interface FaqParseResult {
  entries: FaqEntry[];
  problems: FaqProblem[];
}

const CSV_HEADER = ['id', 'question', 'answer', 'alternates', 'tags'] as const;
/** The optional last column: an entry's own answer threshold. */
const THRESHOLD_COLUMN = 'threshold';

/** Alternates and tags are lists in one cell, separated by `|`. */
function splitList(cell: string): string[] {
  return cell.split('|').map((s) => s.trim()).filter(Boolean);
}

const listField = z.union([z.array(z.string()), z.string().transform(splitList)]).default([]);

/** What one FAQ entry must be; shared by the CSV and YAML readers and the library editor. */
export const FaqEntrySchema = z.object({
  id: z.string().trim().regex(/^[^\s|,]{1,64}$/, 'id must be 1–64 characters without spaces, commas or |'),
  question: z.string().trim().min(1, 'question is empty').max(500, 'question is longer than 500 characters'),
  answer: z.string().trim().min(1, 'answer is empty').max(5000, 'answer is longer than 5000 characters')
    .transform((s) => s.replace(/\r\n?/g, '\n')),
  alternates: listField.pipe(z.array(z.string().trim().min(1).max(500, 'an alternate is longer than 500 characters'))),
  tags: listField.pipe(z.array(z.string().trim().min(1).max(50, 'a tag is longer than 50 characters'))),
  threshold: z.preprocess(
    (v) => (typeof v === 'string' ? (v.trim() === '' ? undefined : Number(v.trim())) : v),
    z.number({ error: 'threshold must be a number from 0 to 1' }).min(0, 'threshold must be a number from 0 to 1').max(1, 'threshold must be a number from 0 to 1').optional(),
  ),
});

function reason(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/** Adds an entry unless its id was seen before; refusals go to problems. */
function take(out: FaqParseResult, seen: Map<string, number>, source: string, line: number, raw: unknown): void {
  const parsed = FaqEntrySchema.safeParse(raw);
  if (!parsed.success) {
    out.problems.push({ where: `${source}:${line}`, line, message: reason(parsed.error) });
    return;
  }
  const first = seen.get(parsed.data.id);
  if (first !== undefined) {
    out.problems.push({ where: `${source}:${line}`, line, message: `id ${parsed.data.id} is already used on line ${first}` });
    return;
  }
  seen.set(parsed.data.id, line);
  // An entry without its own threshold has no threshold key at all (entries compare equal).
  const { threshold, ...entry } = parsed.data;
  out.entries.push(threshold === undefined ? entry : { ...entry, threshold });
}

/**
 * Reads the FAQ CSV (UTF-8, header `id,question,answer,alternates,tags`, alternates and tags
 * separated by `|`; an optional sixth column `threshold` holds an entry's own answer threshold,
 * 0..1, empty for the default). Good rows become entries; every bad row is refused with its
 * line and the reason. A wrong header refuses the whole file.
 */
export function parseFaqCsv(text: string, source: string): FaqParseResult {
  const out: FaqParseResult = { entries: [], problems: [] };
  const { records, problems } = parseCsv(text);
  for (const p of problems) out.problems.push({ where: `${source}:${p.line}`, line: p.line, message: p.message });
  const [header, ...rows] = records;
  if (!header) {
    if (out.problems.length === 0) out.problems.push({ where: `${source}:1`, line: 1, message: 'the file is empty' });
    return out;
  }
  const names = header.fields.map((f) => f.trim().toLowerCase()).join(',');
  const withThreshold = names === [...CSV_HEADER, THRESHOLD_COLUMN].join(',');
  if (names !== CSV_HEADER.join(',') && !withThreshold) {
    out.problems.push({
      where: `${source}:${header.line}`,
      line: header.line,
      message: `the header must be "${CSV_HEADER.join(',')}" (optionally followed by ",${THRESHOLD_COLUMN}"), found "${header.fields.join(',')}"`,
    });
    return out;
  }
  const width = withThreshold ? CSV_HEADER.length + 1 : CSV_HEADER.length;
  const seen = new Map<string, number>();
  for (const row of rows) {
    if (row.fields.length !== width) {
      out.problems.push({
        where: `${source}:${row.line}`,
        line: row.line,
        message: `expected ${width} fields, found ${row.fields.length} (quote a field that contains a comma)`,
      });
      continue;
    }
    const [id, question, answer, alternates, tags, threshold] = row.fields;
    take(out, seen, source, row.line, { id, question, answer, alternates, tags, threshold });
  }
  out.problems.sort((a, b) => a.line - b.line);
  return out;
}

/**
 * Reads FAQ YAML: a list of entries with the CSV's fields (or `{faq: [...]}`); alternates and
 * tags may be lists or `|`-separated text. Bad entries are refused with their line.
 */
export function parseFaqYaml(text: string, source: string): FaqParseResult {
  const out: FaqParseResult = { entries: [], problems: [] };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const lineOf = (node: YamlNode | null | undefined): number => (node?.range ? lineCounter.linePos(node.range[0]).line : 1);
  if (doc.errors.length) {
    for (const e of doc.errors) {
      const line = lineCounter.linePos(e.pos[0]).line;
      out.problems.push({ where: `${source}:${line}`, line, message: e.message.split('\n')[0] ?? e.message });
    }
    return out;
  }
  const js: unknown = doc.toJS();
  const list: unknown = Array.isArray(js) ? js : js && typeof js === 'object' && 'faq' in js ? js.faq : undefined;
  if (!Array.isArray(list)) {
    out.problems.push({ where: `${source}:1`, line: 1, message: 'expected a list of FAQ entries (or faq: followed by a list)' });
    return out;
  }
  // The same list as nodes, for line numbers.
  const contents = doc.contents;
  const seq = isSeq(contents) ? contents : isMap(contents) ? contents.get('faq', true) : undefined;
  const nodes: readonly unknown[] = isSeq(seq) ? seq.items : [];
  const seen = new Map<string, number>();
  list.forEach((value: unknown, i) => {
    const node = nodes[i];
    take(out, seen, source, isNode(node) ? lineOf(node) : 1, value);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// The index

/** One search hit: the entry, how relevant it is and how likely it is the answer. */
export interface FaqHit {
  entry: FaqEntry;
  /** Relevance (0..1) from the learnt re-ranking of minisearch's BM25+ candidates; orders the hits. */
  score: number;
  /**
   * Calibrated probability (0..1) that this entry is the right answer to the question, counting
   * how far ahead of the other hits it is; what decide() compares with the threshold.
   */
  confidence: number;
}

/** What to do with a question: answer with one entry, ask which one was meant, or leave it. */
export type FaqDecision =
  | { kind: 'answer'; entry: FaqEntry; confidence: number }
  | { kind: 'clarify'; entries: FaqEntry[] }
  | { kind: 'abstain' };

/** Default answer threshold: answer when the entry is at least this likely to be right. */
export const DEFAULT_ANSWER_THRESHOLD = 0.6;
/** Default clarify threshold: ask back when the right entry is at least this likely among the first three. */
export const DEFAULT_CLARIFY_THRESHOLD = 0.5;

/** Options of {@link createFaqIndex}. */
export interface FaqIndexOptions {
  /** Synonym groups of the library. */
  synonyms?: readonly (readonly string[])[];
  /**
   * Answer when the best entry's confidence (a probability, the same meaning in any FAQ) is at
   * least this; an entry's own `threshold` wins (default {@link DEFAULT_ANSWER_THRESHOLD}).
   */
  answerThreshold?: number;
  /** Ask back when the probability that one of the first three is right is at least this (default {@link DEFAULT_CLARIFY_THRESHOLD}). */
  clarifyThreshold?: number;
  /** At most this many entries are offered when asking back (default 3). */
  maxClarify?: number;
  /**
   * Models to use as they are instead of learning them from the entries' own wordings (a
   * test, or a bench that does not want to pay for calibration).
   */
  models?: FaqModels;
  /** How the models are learnt (sample sizes, seed). */
  calibration?: CalibrationOptions;
  /**
   * Rank on the answers' text and tags too, not only on questions and alternates (default
   * true: an answer says what its entry is about in words customers use).
   */
  indexAnswers?: boolean;
}

/** A question's ranked hits and the decision on it, for evaluation and explanation. */
export interface FaqInspection {
  hits: FaqHit[];
  decision: FaqDecision;
}

/** The FAQ as the bot uses it; built once per library version. */
export interface FaqIndex {
  /** Entries that fit the query, best first. */
  search(query: string, limit?: number): FaqHit[];
  /** Answer when the best entry is likely enough to be right; ask back when one of a few probably is; else abstain. */
  decide(query: string): FaqDecision;
  /** search() and decide() in one pass. */
  inspect(query: string, limit?: number): FaqInspection;
  readonly entries: readonly FaqEntry[];
  /** The models the index decides with (learnt from its entries, or given). */
  readonly models: FaqModels;
  /**
   * What ranking with embeddings needs (dense.ts): the texts to embed (every wording and the
   * questions the models were learnt from) and the training on their vectors.
   */
  embeddingTraining(): EmbeddingTraining;
}

/** See {@link FaqIndex.embeddingTraining}. */
export interface EmbeddingTraining {
  texts: string[];
  /** The FAQ with embeddings learnt from the texts' vectors (in steps, so a process keeps answering meanwhile); null when it cannot be learnt. */
  train(vectorOf: (text: string) => Vector | undefined): Promise<DenseFaq | null>;
}

// Candidates taken from minisearch for re-ranking.
const CANDIDATES = 10;

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/**
 * Builds the index: minisearch (BM25+) over the entries' questions, alternates and answers as
 * analysed by analysis.ts; then learns from the entries' own wordings (each held out in turn)
 * how to re-rank its candidates and how likely the first is right. See docs/faq.md.
 */
export function createFaqIndex(entries: readonly FaqEntry[], opts: FaqIndexOptions = {}): FaqIndex {
  const settings: DecisionSettings = {
    answerThreshold: opts.answerThreshold ?? DEFAULT_ANSWER_THRESHOLD,
    clarifyThreshold: opts.clarifyThreshold ?? DEFAULT_CLARIFY_THRESHOLD,
    maxClarify: Math.max(2, opts.maxClarify ?? 3),
  };
  const ranker = createRanker(entries, createFaqAnalyzer(opts.synonyms ?? []), { indexAnswers: opts.indexAnswers ?? true });
  const models = opts.models ?? fitFaqModels(collectSamples(ranker, opts.calibration), DEFAULT_MODELS);

  function hitsOf(ranked: readonly RankedCandidate[], limit: number): FaqHit[] {
    const hits: FaqHit[] = [];
    const count = Math.min(limit, ranked.length);
    for (let i = 0; i < count; i++) {
      const c = ranked[i];
      const entry = c ? entries[c.entry] : undefined;
      if (!c || !entry) continue;
      // Each hit's confidence as if it were first: its lead over the best of the others (the
      // answer model looks at the first two only).
      const runnerUp = i === 0 ? ranked[1] : ranked[0];
      const confidence = predict(models.answer, answerInputs(runnerUp ? [c, runnerUp] : [c]));
      hits.push({ entry, score: sigmoid(c.relevance), confidence });
    }
    return hits;
  }

  function inspect(query: string, limit = 5): FaqInspection {
    const ranked = rerank(ranker.candidates(query, CANDIDATES), models.relevance);
    const decision = decideOn(ranked, entries, settings, predict(models.answer, answerInputs(ranked)), () => predict(models.clarify, clarifyInputs(ranked)));
    return { hits: hitsOf(ranked, limit), decision };
  }

  function embeddingTraining(): EmbeddingTraining {
    // The same draw as the models' (the seed), asked again: keeping them would hold a megabyte
    // in every library for a build that only runs with an embeddings model.
    const asked = collectSamples(ranker, opts.calibration);
    const texts = new Set<string>();
    for (let entry = 0; entry < ranker.size; entry++) for (let phrase = 0; phrase < ranker.phraseCount(entry); phrase++) texts.add(ranker.phrase(entry, phrase));
    for (const s of asked) texts.add(s.query);
    return { texts: [...texts], train: (vectorOf) => trainDenseFaq({ entries, ranker, models, samples: asked, settings, vectorOf }) };
  }

  return {
    search: (query, limit = 5) => inspect(query, limit).hits,
    decide: (query) => inspect(query, 0).decision,
    inspect,
    entries,
    models,
    embeddingTraining,
  };
}
