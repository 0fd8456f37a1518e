/**
 * The script library's versions in the store: the live version, every published version, one
 * shared draft, and an audit log of who changed, checked, published and rolled back what.
 */
import { VersionConflict, type DocumentStore } from '../store/types.ts';
import type { LibraryFiles } from '../flows/loader.ts';

const LIBRARY = 'library';
const VERSIONS = 'library_versions';
const AUDIT = 'library_audit';

export interface LibraryVersionInfo {
  version: number;
  publishedAt: string;
  publishedBy: string;
  comment: string;
}

export interface LibraryVersion extends LibraryVersionInfo {
  files: LibraryFiles;
}

export interface LibraryDraft {
  files: LibraryFiles;
  /** The live version the draft started from. */
  basedOn: number;
  updatedAt: string;
  updatedBy: string;
  /** The draft document's own version, for compare-and-set between two managers. */
  revision: number;
}

export interface AuditEntry {
  at: string;
  by: string;
  action: 'seeded' | 'edited' | 'checked' | 'tested' | 'published' | 'rolled_back' | 'draft_reset';
  detail: string;
}

export class LibraryConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LibraryConflict';
  }
}

export interface LibraryRepository {
  live(): Promise<LibraryVersion | null>;
  liveVersion(): Promise<number>;
  versions(): Promise<LibraryVersionInfo[]>;
  version(n: number): Promise<LibraryVersion | null>;
  /** Version 1 from the shipped folder, when the store has no library yet; returns the live one. */
  seed(files: LibraryFiles): Promise<LibraryVersion>;
  draft(): Promise<LibraryDraft>;
  /** Saves the draft if nobody saved it since `revision`; returns the new draft. */
  saveDraft(files: LibraryFiles, by: string, revision: number, detail: string): Promise<LibraryDraft>;
  /** Makes `files` the next version and live. */
  publish(files: LibraryFiles, by: string, comment: string): Promise<LibraryVersionInfo>;
  /** Makes an earlier version live again (as it was); the draft is left alone. */
  rollback(version: number, by: string): Promise<LibraryVersionInfo>;
  audit(entry: Omit<AuditEntry, 'at'>): Promise<void>;
  auditLog(limit?: number): Promise<AuditEntry[]>;
}

function info(v: LibraryVersion): LibraryVersionInfo {
  return { version: v.version, publishedAt: v.publishedAt, publishedBy: v.publishedBy, comment: v.comment };
}

export function createLibraryRepository(docs: DocumentStore, now: () => Date): LibraryRepository {
  const iso = (): string => now().toISOString();

  async function liveVersion(): Promise<number> {
    const live = await docs.get(LIBRARY, 'live');
    return live ? Number(live.doc.version) : 0;
  }

  async function version(n: number): Promise<LibraryVersion | null> {
    const stored = await docs.get(VERSIONS, String(n));
    return stored ? (stored.doc as unknown as LibraryVersion) : null;
  }

  /** Points `live` at version n, whatever it pointed at before. */
  async function setLive(n: number): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const live = await docs.get(LIBRARY, 'live');
      try {
        await docs.put(LIBRARY, 'live', { version: n }, live?.version ?? 0);
        return;
      } catch (error) {
        if (!(error instanceof VersionConflict)) throw error;
      }
    }
    throw new LibraryConflict('the live version kept changing; try again');
  }

  const repo: LibraryRepository = {
    async live() {
      const n = await liveVersion();
      return n > 0 ? version(n) : null;
    },
    liveVersion,
    async versions() {
      return (await docs.list(VERSIONS)).map((d) => info(d.doc as unknown as LibraryVersion)).sort((a, b) => b.version - a.version);
    },
    version,

    async seed(files) {
      const existing = await repo.live();
      if (existing) return existing;
      const first: LibraryVersion = { version: 1, files, publishedAt: iso(), publishedBy: 'system', comment: '初始版本（随程序发布的脚本库）' };
      try {
        await docs.put(VERSIONS, '1', first as unknown as Record<string, unknown>, 0);
        await docs.put(LIBRARY, 'live', { version: 1 }, 0);
        await repo.audit({ by: 'system', action: 'seeded', detail: 'version 1 from the shipped library' });
      } catch (error) {
        if (!(error instanceof VersionConflict)) throw error; // another process seeded at the same moment
      }
      return (await repo.live())!;
    },

    async draft() {
      const stored = await docs.get(LIBRARY, 'draft');
      if (stored) return { ...(stored.doc as unknown as Omit<LibraryDraft, 'revision'>), revision: stored.version };
      const live = await repo.live();
      return { files: live?.files ?? {}, basedOn: live?.version ?? 0, updatedAt: live?.publishedAt ?? iso(), updatedBy: live?.publishedBy ?? 'system', revision: 0 };
    },

    async saveDraft(files, by, revision, detail) {
      const current = await repo.draft();
      const draft = { files, basedOn: current.basedOn, updatedAt: iso(), updatedBy: by };
      try {
        const saved = await docs.put(LIBRARY, 'draft', draft, revision);
        await repo.audit({ by, action: 'edited', detail });
        return { ...draft, revision: saved };
      } catch (error) {
        if (error instanceof VersionConflict) throw new LibraryConflict('someone else changed the draft meanwhile; reload it');
        throw error;
      }
    },

    async publish(files, by, comment) {
      const n = (await repo.versions())[0]?.version ?? 0;
      const next: LibraryVersion = { version: n + 1, files, publishedAt: iso(), publishedBy: by, comment };
      try {
        await docs.put(VERSIONS, String(n + 1), next as unknown as Record<string, unknown>, 0);
      } catch (error) {
        if (error instanceof VersionConflict) throw new LibraryConflict('another version was published at the same moment; check again and publish');
        throw error;
      }
      await setLive(n + 1);
      // The draft starts again from what is now live.
      await docs.delete(LIBRARY, 'draft');
      await repo.audit({ by, action: 'published', detail: `version ${n + 1}: ${comment}` });
      return info(next);
    },

    async rollback(n, by) {
      const target = await version(n);
      if (!target) throw new LibraryConflict(`there is no version ${n}`);
      await setLive(n);
      await repo.audit({ by, action: 'rolled_back', detail: `version ${n} is live again` });
      return info(target);
    },

    async audit(entry) {
      const at = iso();
      await docs.put(AUDIT, `${at}-${Math.random().toString(36).slice(2, 8)}`, { ...entry, at }, 0);
    },

    async auditLog(limit = 200) {
      return (await docs.list(AUDIT)).map((d) => d.doc as unknown as AuditEntry).sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit);
    },
  };
  return repo;
}
