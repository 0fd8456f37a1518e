/** Reads the script library (YAML and CSV files) and refuses a malformed file with its line and reason. */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { z } from 'zod';
import { Flow, ForbiddenPhrases, Intent, Policy, Replies } from './schema.ts';
import { LibraryError, type LibraryProblem } from './errors.ts';
import { parseFaqCsv, parseFaqYaml, type FaqEntry } from '../knowledge/faq.ts';

/** The library as files: path relative to the library folder → text. Drafts are kept this way too. */
export type LibraryFiles = Record<string, string>;

/** The library's parsed content, before names are resolved (see compile.ts). */
export interface LibraryContent {
  intents: Intent[];
  flows: Flow[];
  replies: Replies;
  policy: Policy;
  forbidden: string[];
  /** Groups of words that mean the same to the shop (包邮/免运费...), first word canonical. */
  synonyms: string[][];
  faq: FaqEntry[];
}

const Synonyms = z.array(z.array(z.string().min(1)).min(2));
const IntentsFile = z.array(Intent).min(1);

/** Reads every library file below `dir` (yaml, yml, csv). */
export async function readLibraryDir(dir: string): Promise<LibraryFiles> {
  const files: LibraryFiles = {};
  async function walk(folder: string): Promise<void> {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (/\.(ya?ml|csv)$/i.test(entry.name)) files[relative(dir, full).split('\\').join('/')] = await readFile(full, 'utf8');
    }
  }
  await walk(dir);
  return files;
}

/**
 * Parses one YAML text against a schema. Problems name the file, the line, the path inside and
 * the reason, e.g. `flows/track.yaml:12 steps[2].prompt.en: the English text is empty`.
 */
export function parseYaml<T>(schema: z.ZodType<T>, text: string, source: string): { value?: T; problems: LibraryProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => ({
        where: `${source}:${lineCounter.linePos(e.pos[0]).line}`,
        message: `YAML: ${e.message.split('\n')[0]}`,
      })),
    };
  }
  const result = schema.safeParse(doc.toJS());
  if (result.success) return { value: result.data, problems: [] };
  return {
    problems: result.error.issues.map((issue) => {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      return { where: `${source}:${lineOf(doc, path, lineCounter)} ${formatPath(path)}`.trim(), message: issue.message };
    }),
  };
}

/** The line of the deepest node that exists along `path` (a missing key points at its parent). */
function lineOf(doc: ReturnType<typeof parseDocument>, path: (string | number)[], lines: LineCounter): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return 1;
}

function formatPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Parses the library's files; throws LibraryError listing every problem of every file. */
export function parseLibrary(files: LibraryFiles): LibraryContent {
  const problems: LibraryProblem[] = [];
  function one<T>(schema: z.ZodType<T>, name: string, fallback: T, required = true): T {
    const text = files[name];
    if (text === undefined) {
      if (required) problems.push({ where: name, message: 'file missing from the library' });
      return fallback;
    }
    const parsed = parseYaml(schema, text, name);
    problems.push(...parsed.problems);
    return parsed.value ?? fallback;
  }
  const intents = one(IntentsFile, 'intents.yaml', []);
  const replies = one(Replies, 'replies.yaml', undefined as unknown as Replies);
  const policy = one(Policy, 'policy.yaml', Policy.parse({}), false);
  const forbidden = one(ForbiddenPhrases, 'forbidden.yaml', []);
  const synonyms = one(Synonyms, 'synonyms.yaml', [], false);
  const flows: Flow[] = [];
  const faq: FaqEntry[] = [];
  for (const [name, text] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    if (name.startsWith('flows/') && /\.ya?ml$/.test(name)) {
      const parsed = parseYaml(Flow, text, name);
      problems.push(...parsed.problems);
      if (parsed.value) flows.push(parsed.value);
    } else if (name.startsWith('faq/') || /^faq\.(csv|ya?ml)$/.test(name)) {
      const parsed = name.endsWith('.csv') ? parseFaqCsv(text, name) : parseFaqYaml(text, name);
      faq.push(...parsed.entries);
      problems.push(...parsed.problems.map((p) => ({ where: p.where, message: p.message })));
    }
  }
  if (problems.length > 0) throw new LibraryError(problems);
  return { intents, flows, replies, policy, forbidden, synonyms, faq };
}
