/**
 * Documents with versions in Redis: per collection two hashes under one hash tag, P{d:<name>}:v
 * (id → version) and P{d:<name>}:j (id → JSON); a Lua compare-and-set makes `put` atomic.
 */
import { VersionConflict, type DocumentStore, type JsonObject, type StoredDoc } from './types.ts';

/** What the documents need of the Redis store: a guarded call and a script runner. */
export interface RedisDocumentsDeps {
  prefix: string;
  guarded<T>(what: string, call: () => Promise<T>): Promise<T>;
  eval(source: string, keys: string[], args: string[]): Promise<unknown>;
}

const PUT = `
local v = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if v ~= tonumber(ARGV[2]) then return {0, v} end
redis.call('HSET', KEYS[1], ARGV[1], v + 1)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return {1, v + 1}
`;
const GET = `return {redis.call('HGET', KEYS[1], ARGV[1]), redis.call('HGET', KEYS[2], ARGV[1])}`;
const LIST = `return {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}`;
const DELETE = `redis.call('HDEL', KEYS[1], ARGV[1]); redis.call('HDEL', KEYS[2], ARGV[1]); return 1`;

export function createRedisDocuments(deps: RedisDocumentsDeps): DocumentStore {
  const keys = (name: string): string[] => [`${deps.prefix}{d:${name}}:v`, `${deps.prefix}{d:${name}}:j`];
  return {
    async get(name, id) {
      const [version, json] = await deps.guarded('docs.get', () => deps.eval(GET, keys(name), [id])) as [string | null, string | null];
      return version && json ? { id, version: Number(version), doc: JSON.parse(json) as JsonObject } : null;
    },
    async put(name, id, doc, expectedVersion) {
      const [ok, version] = await deps.guarded('docs.put', () => deps.eval(PUT, keys(name), [id, String(expectedVersion), JSON.stringify(doc)])) as [number, number];
      if (ok !== 1) throw new VersionConflict(`${name}/${id}`, expectedVersion, Number(version));
      return Number(version);
    },
    async list(name) {
      const [flatVersions, flatJson] = await deps.guarded('docs.list', () => deps.eval(LIST, keys(name), [])) as [string[], string[]];
      const versions = new Map<string, number>();
      for (let i = 0; i + 1 < flatVersions.length; i += 2) versions.set(flatVersions[i]!, Number(flatVersions[i + 1]));
      const docs: StoredDoc[] = [];
      for (let i = 0; i + 1 < flatJson.length; i += 2) {
        const id = flatJson[i]!;
        docs.push({ id, version: versions.get(id) ?? 1, doc: JSON.parse(flatJson[i + 1]!) as JsonObject });
      }
      return docs;
    },
    async delete(name, id) {
      await deps.guarded('docs.delete', () => deps.eval(DELETE, keys(name), [id]));
    },
  };
}
