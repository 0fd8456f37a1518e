/** The document store's contract, run on the memory store and on a real redis-server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../src/store/memory.ts';
import { createRedisStore } from '../src/store/redis.ts';
import { VersionConflict, type Store } from '../src/store/types.ts';
import { describeRedis, uniqueKeyPrefix } from './support/redis.ts';

function documentsContract(makeStore: () => Promise<Store>): void {
  let store: Store;
  beforeAll(async () => { store = await makeStore(); });
  afterAll(async () => { await store.close(); });

  it('creates only once (expected version 0), then updates by version', async () => {
    expect(await store.docs.get('tickets', 'a')).toBeNull();
    expect(await store.docs.put('tickets', 'a', { status: 'open' }, 0)).toBe(1);
    await expect(store.docs.put('tickets', 'a', { status: 'open' }, 0)).rejects.toBeInstanceOf(VersionConflict);
    expect(await store.docs.put('tickets', 'a', { status: 'claimed', by: '小王' }, 1)).toBe(2);
    expect(await store.docs.get('tickets', 'a')).toEqual({ id: 'a', version: 2, doc: { status: 'claimed', by: '小王' } });
  });

  it('a stale version writes nothing: of two racing claims one wins', async () => {
    await store.docs.put('tickets', 'race', { status: 'open' }, 0);
    const results = await Promise.allSettled([
      store.docs.put('tickets', 'race', { status: 'claimed', by: 'a' }, 1),
      store.docs.put('tickets', 'race', { status: 'claimed', by: 'b' }, 1),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(loser.reason).toBeInstanceOf(VersionConflict);
    const winner = (await store.docs.get('tickets', 'race'))!;
    expect(winner.version).toBe(2);
    expect(['a', 'b']).toContain(winner.doc.by);
  });

  it('lists a collection, keeps collections apart, deletes', async () => {
    await store.docs.put('staff', 'wang', { role: 'agent' }, 0);
    await store.docs.put('staff', 'li', { role: 'manager' }, 0);
    expect((await store.docs.list('staff')).map((d) => d.id).sort()).toEqual(['li', 'wang']);
    expect((await store.docs.list('staff')).find((d) => d.id === 'li')).toEqual({ id: 'li', version: 1, doc: { role: 'manager' } });
    expect((await store.docs.list('tickets')).map((d) => d.id)).not.toContain('wang');
    await store.docs.delete('staff', 'wang');
    expect(await store.docs.get('staff', 'wang')).toBeNull();
    expect((await store.docs.list('staff')).map((d) => d.id)).toEqual(['li']);
  });

  it('returns copies: changing a returned document changes nothing stored', async () => {
    await store.docs.put('copies', 'x', { list: [1] }, 0);
    const first = (await store.docs.get('copies', 'x'))!;
    (first.doc.list as number[]).push(2);
    expect((await store.docs.get('copies', 'x'))!.doc).toEqual({ list: [1] });
  });
}

describe('documents: memory store', () => {
  documentsContract(async () => createMemoryStore());
});

describeRedis('documents: redis store', (server) => {
  documentsContract(() => createRedisStore(server().url, { keyPrefix: uniqueKeyPrefix('docs') }));
});
