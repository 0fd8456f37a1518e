/** In-memory documents with versions; the same semantics as the Redis ones (test/store.documents.test.ts). */
import { VersionConflict, type DocumentStore, type JsonObject, type StoredDoc } from './types.ts';

export function createMemoryDocuments(isOpen: () => void): DocumentStore {
  const collections = new Map<string, Map<string, { version: number; json: string }>>();
  const collection = (name: string) => {
    let found = collections.get(name);
    if (!found) collections.set(name, (found = new Map()));
    return found;
  };
  // Stored as JSON so callers never share objects with the store (as with Redis).
  const read = (id: string, r: { version: number; json: string }): StoredDoc => ({ id, version: r.version, doc: JSON.parse(r.json) as JsonObject });
  return {
    async get(name, id) {
      isOpen();
      const r = collection(name).get(id);
      return r ? read(id, r) : null;
    },
    async put(name, id, doc, expectedVersion) {
      isOpen();
      const docs = collection(name);
      const actual = docs.get(id)?.version ?? 0;
      if (actual !== expectedVersion) throw new VersionConflict(`${name}/${id}`, expectedVersion, actual);
      docs.set(id, { version: actual + 1, json: JSON.stringify(doc) });
      return actual + 1;
    },
    async list(name) {
      isOpen();
      return [...collection(name)].map(([id, r]) => read(id, r));
    },
    async delete(name, id) {
      isOpen();
      collection(name).delete(id);
    },
  };
}
