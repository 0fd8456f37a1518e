/** The FAQ knowledge base: entries read from CSV or YAML, a Chinese-aware index, and when to answer, ask back or stay silent. */
import { LineCounter, isMap, isNode, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import type { Lang } from '../bots/messages.ts';
import { createPhraseIndex } from '../understanding/phrase-index.ts';
import { parseCsv } from './csv.ts';

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
  out.entries.push(parsed.data);
}

/**
 * Reads the FAQ CSV (UTF-8, header `id,question,answer,alternates,tags`, alternates and tags
 * separated by `|`). Good rows become entries; every bad row is refused with its line and the
 * reason. A wrong header refuses the whole file.
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
  const names = header.fields.map((f) => f.trim().toLowerCase());
  if (names.join(',') !== CSV_HEADER.join(',')) {
    out.problems.push({
      where: `${source}:${header.line}`,
      line: header.line,
      message: `the header must be "${CSV_HEADER.join(',')}", found "${header.fields.join(',')}"`,
    });
    return out;
  }
  const seen = new Map<string, number>();
  for (const row of rows) {
    if (row.fields.length !== CSV_HEADER.length) {
      out.problems.push({
        where: `${source}:${row.line}`,
        line: row.line,
        message: `expected ${CSV_HEADER.length} fields, found ${row.fields.length} (quote a field that contains a comma)`,
      });
      continue;
    }
    const [id, question, answer, alternates, tags] = row.fields;
    take(out, seen, source, row.line, { id, question, answer, alternates, tags });
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

/** One search hit: the entry, how similar its best wording is (0..1) and the calibrated confidence. */
export interface FaqHit {
  entry: FaqEntry;
  /** Cosine similarity of the query with the entry's closest question or alternate (0..1). */
  score: number;
  /** score tempered by how far ahead of the next entry it is (0..1); what decide() uses. */
  confidence: number;
}

/** What to do with a question: answer with one entry, ask which one was meant, or leave it. */
export type FaqDecision =
  | { kind: 'answer'; entry: FaqEntry; confidence: number }
  | { kind: 'clarify'; entries: FaqEntry[] }
  | { kind: 'abstain' };

/** Options of {@link createFaqIndex}; the defaults were set on a made-up shop FAQ (see the tests). */
export interface FaqIndexOptions {
  /** Synonym groups of the library. */
  synonyms?: readonly (readonly string[])[];
  /** Answer only at or above this confidence (default 0.45). */
  answerThreshold?: number;
  /** Below this confidence nothing fits: abstain (default 0.25). */
  clarifyThreshold?: number;
  /** To answer, the best must be at least this far (in score) ahead of the next (default 0.1). */
  minLead?: number;
  /** At most this many entries are offered when asking back (default 3). */
  maxClarify?: number;
}

/** The FAQ as the bot uses it; built once per library version. */
export interface FaqIndex {
  /** Entries that fit the query, best first. */
  search(query: string, limit?: number): FaqHit[];
  /** Answer when the best entry is clearly ahead and sure enough; ask back when a few fit; else abstain. */
  decide(query: string): FaqDecision;
  readonly entries: readonly FaqEntry[];
}

/**
 * Indexes each entry's question (weighted a little higher) and alternates with the same
 * Chinese-aware analysis as the intent classifier.
 */
export function createFaqIndex(entries: readonly FaqEntry[], opts: FaqIndexOptions = {}): FaqIndex {
  const answerThreshold = opts.answerThreshold ?? 0.45;
  const clarifyThreshold = opts.clarifyThreshold ?? 0.25;
  const minLead = opts.minLead ?? 0.1;
  const maxClarify = opts.maxClarify ?? 3;
  const byId = new Map(entries.map((e) => [e.id, e]));
  const index = createPhraseIndex(
    entries.flatMap((e) => [
      { group: e.id, text: e.question, primary: true },
      ...e.alternates.map((text) => ({ group: e.id, text })),
    ]),
    { synonyms: opts.synonyms ?? [] },
  );

  function search(query: string, limit = 5): FaqHit[] {
    const hits: FaqHit[] = [];
    for (const m of index.match(query, limit)) {
      const entry = byId.get(m.group);
      if (entry) hits.push({ entry, score: m.similarity, confidence: m.confidence });
    }
    return hits;
  }

  function decide(query: string): FaqDecision {
    const hits = search(query, maxClarify + 1);
    const [best, next] = hits;
    if (!best || best.confidence < clarifyThreshold) return { kind: 'abstain' };
    if (best.confidence >= answerThreshold && best.score - (next?.score ?? 0) >= minLead) {
      return { kind: 'answer', entry: best.entry, confidence: best.confidence };
    }
    // Offer the entries that are close to the best, not every weak match.
    const close = hits.filter((h) => h.score >= best.score * 0.7 && h.score >= clarifyThreshold).slice(0, maxClarify);
    return { kind: 'clarify', entries: close.map((h) => h.entry) };
  }

  return { search, decide, entries };
}
