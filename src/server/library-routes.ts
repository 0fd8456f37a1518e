/** The managers' API over the script library: the draft, check, test, publish, roll back, audit (docs/manager-api.md). */
import express, { Router, type Request } from 'express';
import { structuredPatch } from 'diff';
import { z } from 'zod';
import type { LibraryFiles } from '../flows/loader.ts';
import { parseLibrary } from '../flows/loader.ts';
import { LibraryError } from '../flows/errors.ts';
import { checkLibrary } from '../library/check.ts';
import { DraftEditError, deletePart, importFaqCsv, PARTS, putPart, FaqInput, type Part } from '../library/edit.ts';
import { LIBRARY_TOPIC } from '../library/live.ts';
import { LibraryConflict, type LibraryRepository } from '../library/repository.ts';
import type { DocumentStore, EventBus } from '../store/types.ts';
import { staffOf, type Auth } from './auth.ts';
import { HttpError, parseOr400 } from './http-error.ts';

export interface LibraryRouteDeps {
  auth: Auth;
  repo: LibraryRepository;
  bus: EventBus;
  docs: DocumentStore;
  /** Loads files as the bot would; throws LibraryError with every problem. */
  compile(files: LibraryFiles): unknown;
  /** Runs the story tests against files; absent until stories exist. */
  runStories?: (files: LibraryFiles) => Promise<{ passed: number; failed: number; results: unknown[] }>;
}

/** A refusal whose body lists every problem with where it is. */
function problemsError(status: number, code: string, message: string, problems: { where: string; message: string }[]): HttpError {
  return new HttpError(status, code, message, { problems });
}

function conflictTo409(error: unknown): never {
  if (error instanceof LibraryConflict) throw new HttpError(409, 'conflict', error.message);
  if (error instanceof DraftEditError) throw problemsError(400, 'invalid_part', error.message, error.problems);
  throw error;
}

/** What changed between two sets of files, file by file, as unified hunks. */
export function diffFiles(from: LibraryFiles, to: LibraryFiles): { name: string; status: 'added' | 'removed' | 'changed'; hunks: { oldStart: number; newStart: number; lines: string[] }[] }[] {
  const names = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  return names.flatMap((name) => {
    const a = from[name];
    const b = to[name];
    if (a === b) return [];
    const status = a === undefined ? 'added' as const : b === undefined ? 'removed' as const : 'changed' as const;
    const patch = structuredPatch(name, name, a ?? '', b ?? '', '', '', { context: 2 });
    return [{ name, status, hunks: patch.hunks.map((h) => ({ oldStart: h.oldStart, newStart: h.newStart, lines: h.lines })) }];
  });
}

export function libraryRoutes(deps: LibraryRouteDeps): Router {
  const router = Router();
  const manager = deps.auth.require('manager');
  const who = (req: Request): string => staffOf(req).username;
  router.use('/library', express.text({ type: ['text/*', 'application/yaml', 'application/x-yaml'], limit: '1mb' }));

  router.get('/library', manager, async (_req, res) => {
    const live = await deps.repo.live();
    if (!live) throw new HttpError(404, 'not_found', 'no library yet');
    const { files, ...info } = live;
    res.json({ ...info, content: { files } });
  });

  router.get('/library/versions', manager, async (_req, res) => {
    res.json({ live: await deps.repo.liveVersion(), versions: await deps.repo.versions() });
  });

  router.get('/library/versions/:n', manager, async (req, res) => {
    const n = parseOr400(z.coerce.number().int().min(1), req.params.n);
    const version = await deps.repo.version(n);
    if (!version) throw new HttpError(404, 'not_found', `no version ${n}`);
    res.json(version);
  });

  router.get('/library/draft', manager, async (_req, res) => {
    const draft = await deps.repo.draft();
    let parts: Record<string, unknown> = {};
    try {
      const content = parseLibrary(draft.files);
      parts = { faq: content.faq, flows: content.flows.map((f) => f.id), intents: content.intents, replies: content.replies, policy: content.policy, forbidden: content.forbidden };
    } catch {
      // A draft that does not parse is still shown as files; the check lists why.
    }
    res.json({ ...draft, parts });
  });

  router.put('/library/draft/:part/:id', manager, async (req, res) => {
    const part = parseOr400(z.enum(PARTS), req.params.part) as Part;
    const draft = await deps.repo.draft();
    try {
      // A flow is YAML text; every other part is JSON.
      const value = part === 'flows' ? (typeof req.body === 'string' ? req.body : (req.body as { yaml?: unknown } | null)?.yaml) : req.body;
      const files = putPart(draft.files, part, String(req.params.id), value);
      const saved = await deps.repo.saveDraft(files, who(req), draft.revision, `${part}/${String(req.params.id)} saved`);
      res.json({ revision: saved.revision, updatedAt: saved.updatedAt });
    } catch (error) {
      conflictTo409(error);
    }
  });

  router.delete('/library/draft/:part/:id', manager, async (req, res) => {
    const part = parseOr400(z.enum(PARTS), req.params.part) as Part;
    const draft = await deps.repo.draft();
    try {
      const files = deletePart(draft.files, part, String(req.params.id));
      const saved = await deps.repo.saveDraft(files, who(req), draft.revision, `${part}/${String(req.params.id)} deleted`);
      res.json({ revision: saved.revision });
    } catch (error) {
      conflictTo409(error);
    }
  });

  router.post('/library/draft/faq-import', manager, async (req, res) => {
    const csv = typeof req.body === 'string' ? req.body : parseOr400(z.object({ csv: z.string().min(1) }).strict(), req.body).csv;
    const draft = await deps.repo.draft();
    try {
      const imported = importFaqCsv(draft.files, csv);
      await deps.repo.saveDraft(imported.files, who(req), draft.revision, `FAQ import: ${imported.added} added, ${imported.replaced} replaced`);
      res.json({ added: imported.added, replaced: imported.replaced });
    } catch (error) {
      conflictTo409(error);
    }
  });

  router.post('/library/draft/reset', manager, async (req, res) => {
    const live = await deps.repo.live();
    const draft = await deps.repo.draft();
    try {
      await deps.repo.saveDraft(live?.files ?? {}, who(req), draft.revision, 'draft reset to the live version');
    } catch (error) {
      conflictTo409(error);
    }
    res.json({ ok: true });
  });

  router.get('/library/draft/diff', manager, async (_req, res) => {
    const [live, draft] = await Promise.all([deps.repo.live(), deps.repo.draft()]);
    res.json({ from: live?.version ?? 0, files: diffFiles(live?.files ?? {}, draft.files) });
  });

  router.post('/library/draft/check', manager, async (req, res) => {
    const problems = checkLibrary((await deps.repo.draft()).files, deps.compile);
    await deps.repo.audit({ by: who(req), action: 'checked', detail: problems.length === 0 ? 'ok' : `${problems.length} problems` });
    res.json({ ok: problems.length === 0, problems });
  });

  router.post('/library/draft/test', manager, async (req, res) => {
    if (!deps.runStories) throw new HttpError(501, 'not_available', 'story tests are not available in this build');
    let result: { passed: number; failed: number; results: unknown[] };
    try {
      result = await deps.runStories((await deps.repo.draft()).files);
    } catch (error) {
      // A draft that does not load cannot be tested: its problems say why.
      if (error instanceof LibraryError) throw problemsError(422, 'check_failed', 'the draft does not load', error.problems);
      if (error instanceof Error && !(error instanceof HttpError)) throw problemsError(422, 'invalid_story', error.message, []);
      throw error;
    }
    await deps.repo.audit({ by: who(req), action: 'tested', detail: `${result.passed} passed, ${result.failed} failed` });
    res.json(result);
  });

  router.post('/library/publish', manager, async (req, res) => {
    const { comment } = parseOr400(z.object({ comment: z.string().trim().min(1, 'say what changed').max(500) }).strict(), req.body);
    const draft = await deps.repo.draft();
    const problems = checkLibrary(draft.files, deps.compile);
    if (problems.length > 0) throw problemsError(422, 'check_failed', 'the draft does not pass the check', problems);
    try {
      const published = await deps.repo.publish(draft.files, who(req), comment);
      await deps.bus.publish(LIBRARY_TOPIC, { version: published.version });
      res.json(published);
    } catch (error) {
      conflictTo409(error);
    }
  });

  router.post('/library/rollback', manager, async (req, res) => {
    const { version } = parseOr400(z.object({ version: z.number().int().min(1) }).strict(), req.body);
    const target = await deps.repo.version(version);
    if (!target) throw new HttpError(404, 'not_found', `no version ${version}`);
    const problems = checkLibrary(target.files, deps.compile);
    if (problems.length > 0) throw problemsError(422, 'check_failed', `version ${version} does not load in this build`, problems);
    try {
      const live = await deps.repo.rollback(version, who(req));
      await deps.bus.publish(LIBRARY_TOPIC, { version: live.version });
      res.json(live);
    } catch (error) {
      conflictTo409(error);
    }
  });

  router.get('/library/audit', manager, async (_req, res) => {
    res.json({ audit: await deps.repo.auditLog() });
  });

  router.get('/library/suggestions', manager, async (_req, res) => {
    const suggestions = (await deps.docs.list('faq_suggestions'))
      .sort((a, b) => String(b.doc.at ?? '').localeCompare(String(a.doc.at ?? '')))
      .map((d) => ({ ...d.doc, id: d.id }));
    res.json({ suggestions });
  });

  router.post('/library/suggestions/:id/accept', manager, async (req, res) => {
    const body = parseOr400(FaqInput.extend({ entryId: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'entryId: letters, digits and _') }), req.body);
    const stored = await deps.docs.get('faq_suggestions', String(req.params.id));
    if (!stored) throw new HttpError(404, 'not_found', `no suggestion ${String(req.params.id)}`);
    const draft = await deps.repo.draft();
    try {
      const { entryId, ...entry } = body;
      const files = putPart(draft.files, 'faq', entryId, entry);
      await deps.repo.saveDraft(files, who(req), draft.revision, `FAQ suggestion ${stored.id} accepted as ${entryId}`);
      await deps.docs.put('faq_suggestions', stored.id, { ...stored.doc, status: 'accepted', entryId, reviewedBy: who(req) }, stored.version);
    } catch (error) {
      conflictTo409(error);
    }
    res.json({ ok: true });
  });

  return router;
}
