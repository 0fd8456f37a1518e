/**
 * Edits of one part of a library draft (an FAQ entry, a flow, a reply...), each checked on its
 * own: a malformed part is refused with its line and reason and the draft stays as it was.
 * YAML files are changed through the yaml Document API, so managers' comments survive.
 */
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { parseFaqCsv, type FaqEntry } from '../knowledge/faq.ts';
import { parseYaml, type LibraryFiles } from '../flows/loader.ts';
import { Flow, Intent, Text } from '../flows/schema.ts';
import type { LibraryProblem } from '../flows/errors.ts';
import { Shift } from '../handover/config.ts';

/** A part edit that was refused, with every problem found. */
export class DraftEditError extends Error {
  constructor(readonly problems: LibraryProblem[]) {
    super(problems.map((p) => `${p.where}: ${p.message}`).join('; '));
    this.name = 'DraftEditError';
  }
}

export const PARTS = ['faq', 'flows', 'intents', 'replies', 'policy', 'forbidden', 'canned', 'shifts'] as const;
export type Part = (typeof PARTS)[number];

export const FaqInput = z.object({
  question: z.string().trim().min(1, 'the question is empty').max(500),
  answer: z.string().trim().min(1, 'the answer is empty').max(4000),
  alternates: z.array(z.string().trim().min(1).max(500)).max(50).default([]),
  tags: z.array(z.string().trim().min(1).max(50)).max(20).default([]),
  /** This entry's own answer threshold (0..1); absent: the index's. */
  threshold: z.number().min(0).max(1).optional(),
}).strict();

const PartId = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'ids are letters, digits and _, starting with a letter');

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function faqToCsv(entries: FaqEntry[]): string {
  // The optional `threshold` column only when some entry has its own threshold.
  const withThreshold = entries.some((e) => e.threshold !== undefined);
  const header = `id,question,answer,alternates,tags${withThreshold ? ',threshold' : ''}`;
  const rows = entries.map((e) => [e.id, e.question, e.answer, e.alternates.join('|'), e.tags.join('|'), ...(withThreshold ? [e.threshold === undefined ? '' : String(e.threshold)] : [])].map(csvField).join(','));
  return `${[header, ...rows].join('\n')}\n`;
}

function faqEntries(files: LibraryFiles): FaqEntry[] {
  const parsed = parseFaqCsv(files['faq.csv'] ?? 'id,question,answer,alternates,tags\n', 'faq.csv');
  return parsed.entries;
}

function yamlDoc(files: LibraryFiles, name: string): Document {
  const doc = parseDocument(files[name] ?? '');
  if (doc.errors.length > 0) throw new DraftEditError([{ where: name, message: `the draft's ${name} is not valid YAML; fix it as a whole first` }]);
  return doc;
}

/** The index of the list item whose `id` is `id`, in a YAML sequence at `path`. */
function indexById(doc: Document, path: (string | number)[], id: string): number {
  const seq = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isSeq(seq)) return -1;
  return seq.items.findIndex((item) => isMap(item) && item.get('id') === id);
}

function checked<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new DraftEditError(parsed.error.issues.map((i) => ({ where: `${where}${i.path.length ? ` ${i.path.join('.')}` : ''}`, message: i.message })));
}

/** Sets or replaces one part; returns the draft's new files. */
export function putPart(files: LibraryFiles, part: Part, rawId: string, value: unknown): LibraryFiles {
  const next = { ...files };
  switch (part) {
    case 'faq': {
      const id = checked(PartId, rawId, 'faq id');
      const input = checked(FaqInput, value, `faq ${id}`);
      const entries = faqEntries(files);
      const entry: FaqEntry = { id, ...input };
      const at = entries.findIndex((e) => e.id === id);
      if (at >= 0) entries[at] = entry; else entries.push(entry);
      next['faq.csv'] = faqToCsv(entries);
      return next;
    }
    case 'flows': {
      const id = checked(PartId, rawId, 'flow id');
      const text = checked(z.string().min(1, 'the flow is empty').max(100_000), value, `flows/${id}.yaml`);
      const name = `flows/${id}.yaml`;
      const parsed = parseYaml(Flow, text, name);
      if (parsed.problems.length > 0) throw new DraftEditError(parsed.problems);
      if (parsed.value?.id !== id) throw new DraftEditError([{ where: `${name}:1 id`, message: `the flow's id must be "${id}" (its file name)` }]);
      next[name] = text;
      return next;
    }
    case 'intents': {
      const id = checked(PartId, rawId, 'intent id');
      const intent = checked(Intent, { ...(value as object), id }, `intents.yaml ${id}`);
      const doc = yamlDoc(files, 'intents.yaml');
      const at = indexById(doc, [], id);
      if (at >= 0) doc.setIn([at], doc.createNode(intent)); else (doc.contents as { items: unknown[] } | null)?.items.push(doc.createNode(intent));
      next['intents.yaml'] = doc.toString();
      return next;
    }
    case 'replies': {
      const text = checked(Text, value, `replies.yaml ${rawId}`);
      const doc = yamlDoc(files, 'replies.yaml');
      doc.set(checked(PartId, rawId, 'reply name'), doc.createNode(text));
      next['replies.yaml'] = doc.toString();
      return next;
    }
    case 'policy': {
      // A bare number or boolean, or {value: …} from clients that only send objects.
      const bare = value !== null && typeof value === 'object' && 'value' in value ? (value as { value: unknown }).value : value;
      const v = checked(z.union([z.number(), z.boolean()]), bare, `policy.yaml ${rawId}`);
      const doc = yamlDoc(files, 'policy.yaml');
      doc.set(checked(PartId, rawId, 'policy name'), v);
      next['policy.yaml'] = doc.toString();
      return next;
    }
    case 'forbidden': {
      const phrase = checked(z.string().trim().min(2, 'a forbidden phrase has at least 2 characters').max(100), rawId, 'forbidden phrase');
      const doc = yamlDoc(files, 'forbidden.yaml');
      const list = doc.toJS() as string[] | null;
      if (!list?.includes(phrase)) (doc.contents as { items: unknown[] } | null)?.items.push(doc.createNode(phrase));
      next['forbidden.yaml'] = doc.toString();
      return next;
    }
    case 'canned': {
      const id = checked(PartId, rawId, 'canned reply id');
      const canned = checked(z.object({ title: z.string().trim().min(1).max(40), text: Text }).strict(), value, `handover.yaml canned ${id}`);
      const doc = yamlDoc(files, 'handover.yaml');
      const at = indexById(doc, ['canned'], id);
      const node = doc.createNode({ id, ...canned });
      if (at >= 0) doc.setIn(['canned', at], node); else doc.addIn(['canned'], node);
      next['handover.yaml'] = doc.toString();
      return next;
    }
    case 'shifts': {
      const id = checked(PartId, rawId, 'shift id');
      const shift = checked(Shift, { ...(value as object), id }, `handover.yaml shifts ${id}`);
      const doc = yamlDoc(files, 'handover.yaml');
      const at = indexById(doc, ['shifts'], id);
      if (at >= 0) doc.setIn(['shifts', at], doc.createNode(shift)); else doc.addIn(['shifts'], doc.createNode(shift));
      next['handover.yaml'] = doc.toString();
      return next;
    }
  }
}

/** Removes one part; returns the draft's new files. */
export function deletePart(files: LibraryFiles, part: Part, id: string): LibraryFiles {
  const next = { ...files };
  const dropById = (name: string, path: (string | number)[]): void => {
    const doc = yamlDoc(files, name);
    const at = indexById(doc, path, id);
    if (at < 0) throw new DraftEditError([{ where: `${name} ${id}`, message: 'no such item' }]);
    doc.deleteIn([...path, at]);
    next[name] = doc.toString();
  };
  switch (part) {
    case 'faq': {
      const entries = faqEntries(files);
      if (!entries.some((e) => e.id === id)) throw new DraftEditError([{ where: `faq ${id}`, message: 'no such entry' }]);
      next['faq.csv'] = faqToCsv(entries.filter((e) => e.id !== id));
      return next;
    }
    case 'flows':
      if (!(`flows/${id}.yaml` in files)) throw new DraftEditError([{ where: `flows/${id}.yaml`, message: 'no such flow' }]);
      delete next[`flows/${id}.yaml`];
      return next;
    case 'intents': dropById('intents.yaml', []); return next;
    case 'canned': dropById('handover.yaml', ['canned']); return next;
    case 'shifts': dropById('handover.yaml', ['shifts']); return next;
    case 'replies': case 'policy': {
      const name = `${part}.yaml`;
      const doc = yamlDoc(files, name);
      if (!doc.has(id)) throw new DraftEditError([{ where: `${name} ${id}`, message: 'no such item' }]);
      doc.delete(id);
      next[name] = doc.toString();
      return next;
    }
    case 'forbidden': {
      const doc = yamlDoc(files, 'forbidden.yaml');
      const list = (doc.toJS() as string[] | null) ?? [];
      const at = list.indexOf(id);
      if (at < 0) throw new DraftEditError([{ where: `forbidden.yaml ${id}`, message: 'no such phrase' }]);
      doc.deleteIn([at]);
      next['forbidden.yaml'] = doc.toString();
      return next;
    }
  }
}

/** A manager's CSV upload merged into the draft's FAQ: rows with a known id replace it, new ids are added. */
export function importFaqCsv(files: LibraryFiles, csv: string): { files: LibraryFiles; added: number; replaced: number } {
  const upload = parseFaqCsv(csv, 'upload.csv');
  if (upload.problems.length > 0) throw new DraftEditError(upload.problems.map((p) => ({ where: p.where, message: p.message })));
  const entries = faqEntries(files);
  let added = 0;
  let replaced = 0;
  for (const entry of upload.entries) {
    const at = entries.findIndex((e) => e.id === entry.id);
    if (at >= 0) { entries[at] = entry; replaced += 1; } else { entries.push(entry); added += 1; }
  }
  return { files: { ...files, 'faq.csv': faqToCsv(entries) }, added, replaced };
}
