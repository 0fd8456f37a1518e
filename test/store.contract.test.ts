/** One contract for every Store: the memory store and the Redis store run the same cases. */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../src/store/memory.ts';
import { createRedisStore } from '../src/store/redis.ts';
import { StoreUnavailable, turnLockKey, VersionConflict } from '../src/store/types.ts';
import type { JsonObject, OutboxItem, Store, TranscriptEntry, TurnCommit } from '../src/store/types.ts';
import { deleteKeys, describeRedis, startRedis, uniqueKeyPrefix } from './support/redis.ts';

/** A store under test and its clock: fake for memory, the wall clock for Redis. */
interface StoreFixture {
  store: Store;
  /** The time the store reads for enqueue times and lock expiry. */
  now(): number;
  /** Lets `ms` pass on that clock (moves the fake one, or really waits). */
  advance(ms: number): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds; the bus delivers asynchronously on both stores. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}

function line(from: TranscriptEntry['from'], text: string, extra: Partial<TranscriptEntry> = {}): TranscriptEntry {
  return { from, text, at: '2025-03-01T08:00:00.000Z', ...extra };
}

function item(conversationId: string, id: string, channel = 'telegram'): OutboxItem {
  return {
    id,
    conversationId,
    ref: { channel, chatId: '42', userId: '7' },
    message: { kind: 'text', text: `reply ${id}`, nested: { list: [1, 2.5, '三'] } },
    at: '2025-03-01T08:00:01.000Z',
    attempts: 0,
  };
}

function turn(conversationId: string, expectedVersion: number, extra: Partial<TurnCommit> = {}): TurnCommit {
  return {
    conversationId,
    expectedVersion,
    state: { step: `after-${expectedVersion}`, slots: { orderId: 'A123' } },
    transcript: [],
    outbox: [],
    ...extra,
  };
}

const ids = (items: OutboxItem[]): string[] => items.map((queued) => queued.id);

/** The cases every Store implementation must pass (Hono's `runTest({ newRouter })` shape). */
function storeContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(name, () => {
    let fx: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      fx = await makeStore();
      store = fx.store;
    });
    afterEach(async () => {
      await store.close();
    });

    describe('conversations', () => {
      it('knows nothing of a conversation never saved', async () => {
        expect(await store.conversations.load('c1')).toBeNull();
        expect(await store.conversations.seen('c1', 'm1')).toBe(false);
        expect(await store.conversations.transcript('c1')).toEqual([]);
        expect(await store.outbox.pending('c1')).toEqual([]);
      });

      it('round-trips state and counts versions', async () => {
        const state: JsonObject = { step: 'ask-order', slots: { orderId: 'A123' }, n: 1.5, 中文: ['是'] };
        expect(await store.conversations.commit(turn('c1', 0, { state }))).toEqual({ version: 1 });
        expect(await store.conversations.load('c1')).toEqual({ version: 1, state });
        expect(await store.conversations.commit(turn('c1', 1, { state: { step: 'done' } }))).toEqual({ version: 2 });
        expect(await store.conversations.load('c1')).toEqual({ version: 2, state: { step: 'done' } });
      });

      it('rejects a stale version with VersionConflict and writes nothing', async () => {
        await store.conversations.commit(
          turn('c1', 0, { messageId: 'm1', transcript: [line('customer', 'hi')], outbox: [item('c1', 'o1')] }),
        );
        const stale = turn('c1', 0, {
          state: { step: 'lost' },
          messageId: 'm2',
          transcript: [line('customer', 'lost')],
          outbox: [item('c1', 'o2')],
        });
        const error: unknown = await store.conversations.commit(stale).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(VersionConflict);
        expect(error).toMatchObject({ conversationId: 'c1', expected: 0, actual: 1 });

        expect(await store.conversations.load('c1')).toEqual({ version: 1, state: turn('c1', 0).state });
        expect(await store.conversations.transcript('c1')).toEqual([line('customer', 'hi')]);
        expect(await store.conversations.seen('c1', 'm2')).toBe(false);
        expect(ids(await store.outbox.pending('c1'))).toEqual(['o1']);
        expect(ids(await store.outbox.lease(fx.now(), 10, 1000))).toEqual(['o1']);
      });

      it('refuses outbox items of another conversation, writing nothing', async () => {
        await expect(
          store.conversations.commit(turn('c1', 0, { outbox: [item('c2', 'o1')] })),
        ).rejects.toBeInstanceOf(RangeError);
        expect(await store.conversations.load('c1')).toBeNull();
        expect(await store.outbox.pending('c1')).toEqual([]);
        expect(await store.outbox.pending('c2')).toEqual([]);
      });

      it('leaves no trace of a conflicting commit on a new conversation', async () => {
        const error: unknown = await store.conversations
          .commit(turn('c1', 3, { messageId: 'm1', outbox: [item('c1', 'o1')] }))
          .catch((e: unknown) => e);
        expect(error).toMatchObject({ name: 'VersionConflict', expected: 3, actual: 0 });
        expect(await store.conversations.load('c1')).toBeNull();
        expect(await store.conversations.seen('c1', 'm1')).toBe(false);
        expect(await store.outbox.pending('c1')).toEqual([]);
        expect(await store.outbox.lease(fx.now(), 10, 1000)).toEqual([]);
      });

      it('marks the message id seen, for that conversation only', async () => {
        await store.conversations.commit(turn('c1', 0, { messageId: 'm1' }));
        await store.conversations.commit(turn('c1', 1));
        expect(await store.conversations.seen('c1', 'm1')).toBe(true);
        expect(await store.conversations.seen('c1', 'm2')).toBe(false);
        expect(await store.conversations.seen('c2', 'm1')).toBe(false);
      });

      it('begins a turn in one step: takes the turn lock, then seen or the saved state; the commit frees the lock', async () => {
        const lockKey = turnLockKey('c1');
        expect(await store.conversations.beginTurn('c1', 'm1', 'tok-a', 5_000)).toEqual({ kind: 'ready', saved: null });
        // Held: another turn is told busy, the holder may begin again (a retry after a conflict).
        expect(await store.conversations.beginTurn('c1', 'm1', 'tok-b', 5_000)).toEqual({ kind: 'busy' });
        expect(await store.locks.tryAcquire(lockKey, 5_000)).toBeNull();
        expect(await store.conversations.beginTurn('c1', 'm1', 'tok-a', 5_000)).toEqual({ kind: 'ready', saved: null });
        const state: JsonObject = { step: 'ask-order', 中文: ['是'] };
        await store.conversations.commit({ ...turn('c1', 0, { messageId: 'm1', state }), unlock: 'tok-a' });
        // Freed by the commit; the message is now seen, the next one finds the state.
        expect(await store.conversations.beginTurn('c1', 'm1', 'tok-b', 5_000)).toEqual({ kind: 'seen' });
        expect(await store.conversations.beginTurn('c1', 'm2', 'tok-b', 5_000)).toEqual({ kind: 'ready', saved: { version: 1, state } });
        // A commit with someone else's token leaves their lock alone.
        await store.conversations.commit({ ...turn('c1', 1), unlock: 'tok-a' });
        expect(await store.conversations.beginTurn('c1', 'm3', 'tok-c', 5_000)).toEqual({ kind: 'busy' });
        await store.locks.release(lockKey, 'tok-b');
        expect(await store.conversations.beginTurn('c2', 'm1', 'tok-c', 5_000)).toEqual({ kind: 'ready', saved: null });
      });

      it('leaves the turn lock free when the message was seen, even for its holder', async () => {
        await store.conversations.commit(turn('c1', 0, { messageId: 'm1' }));
        expect(await store.conversations.beginTurn('c1', 'm2', 'tok-a', 5_000)).toMatchObject({ kind: 'ready' });
        expect(await store.conversations.beginTurn('c1', 'm1', 'tok-a', 5_000)).toEqual({ kind: 'seen' });
        expect(await store.locks.tryAcquire(turnLockKey('c1'), 5_000)).not.toBeNull();
      });

      it('remembers the newest 1000 message ids', async () => {
        for (let n = 0; n <= 1000; n += 1) {
          await store.conversations.commit(turn('c1', n, { messageId: `m${n}` }));
        }
        expect(await store.conversations.seen('c1', 'm0')).toBe(false);
        expect(await store.conversations.seen('c1', 'm1')).toBe(true);
        expect(await store.conversations.seen('c1', 'm1000')).toBe(true);
      });

      it('keeps transcript lines in order, whole, and returns the last `limit`', async () => {
        const first = line('customer', '我要改地址', { messageId: 'm1' });
        const second = line('bot', '请告诉我订单号', { messageId: 'o1' });
        const note = line('agent', 'VIP customer', { by: 'li.na' });
        const photo = line('customer', '', { messageId: 'm2', imageUrl: 'https://example.test/a.jpg' });
        await store.conversations.commit(turn('c1', 0, { transcript: [first, second] }));
        await store.conversations.appendTranscript('c1', [note]);
        await store.conversations.commit(turn('c1', 1, { transcript: [photo] }));

        expect(await store.conversations.transcript('c1')).toEqual([first, second, note, photo]);
        expect(await store.conversations.transcript('c1', 2)).toEqual([note, photo]);
        expect(await store.conversations.transcript('c1', 10)).toHaveLength(4);
        expect(await store.conversations.transcript('c1', 0)).toEqual([]);
      });

      it('keeps the last 500 transcript lines', async () => {
        const lines = Array.from({ length: 505 }, (_, n) => line('system', `line ${n}`));
        await store.conversations.appendTranscript('c1', lines);
        const kept = await store.conversations.transcript('c1', 1000);
        expect(kept).toHaveLength(500);
        expect(kept[0]?.text).toBe('line 5');
        expect(kept[499]?.text).toBe('line 504');
      });

      it('appends transcript lines without touching state', async () => {
        await store.conversations.commit(turn('c1', 0));
        await store.conversations.appendTranscript('c1', [line('system', 'delivered')]);
        await store.conversations.appendTranscript('c1', []);
        expect(await store.conversations.load('c1')).toEqual({ version: 1, state: turn('c1', 0).state });

        await store.conversations.appendTranscript('c2', [line('agent', 'note', { by: 'wang' })]);
        expect(await store.conversations.load('c2')).toBeNull();
        expect(await store.conversations.transcript('c2')).toEqual([line('agent', 'note', { by: 'wang' })]);
        expect(await store.conversations.commit(turn('c2', 0))).toEqual({ version: 1 });
      });
    });

    describe('outbox', () => {
      it('queues a turn’s replies and lists them in order', async () => {
        const queued = [item('c1', 'm1:0'), item('c1', 'm1:1')];
        await store.conversations.commit(turn('c1', 0, { outbox: queued }));
        expect(await store.outbox.pending('c1')).toEqual(queued);
      });

      it('ignores an id already queued', async () => {
        await store.outbox.enqueue([item('c1', 'a')]);
        await store.outbox.retry('c1', 'a', fx.now());
        await store.outbox.enqueue([item('c1', 'a'), item('c1', 'b'), item('c1', 'b')]);
        await store.conversations.commit(turn('c1', 0, { outbox: [item('c1', 'b'), item('c1', 'c')] }));
        const pending = await store.outbox.pending('c1');
        expect(ids(pending)).toEqual(['a', 'b', 'c']);
        expect(pending[0]?.attempts).toBe(1);
      });

      it('leases due items in order and holds them until the lease ends', async () => {
        await store.outbox.enqueue([item('c1', 'a'), item('c1', 'b'), item('c1', 'c')]);
        const t = fx.now();
        const leased = await store.outbox.lease(t, 10, 1000);
        expect(leased).toEqual([item('c1', 'a'), item('c1', 'b'), item('c1', 'c')]);
        expect(await store.outbox.lease(t, 10, 1000)).toEqual([]);
        expect(await store.outbox.lease(t + 999, 10, 1000)).toEqual([]);
        expect(ids(await store.outbox.lease(t + 1000, 10, 1000))).toEqual(['a', 'b', 'c']);
      });

      it('removes acked items, and the last ack of a lease frees the rest at once', async () => {
        await store.outbox.enqueue([item('c1', 'a'), item('c1', 'b')]);
        const t = fx.now();
        expect(ids(await store.outbox.lease(t, 1, 60_000))).toEqual(['a']);
        // The conversation is held: b must not overtake a.
        expect(await store.outbox.lease(t, 10, 60_000)).toEqual([]);
        await store.outbox.ack('c1', 'a');
        expect(ids(await store.outbox.pending('c1'))).toEqual(['b']);
        expect(ids(await store.outbox.lease(fx.now(), 10, 60_000))).toEqual(['b']);
        await store.outbox.ack('c1', 'b');
        expect(await store.outbox.pending('c1')).toEqual([]);
        expect(await store.outbox.lease(t + 3_600_000, 10, 60_000)).toEqual([]);
      });

      it('holds items queued during a lease behind the leased ones', async () => {
        await store.outbox.enqueue([item('c1', 'a')]);
        const t = fx.now();
        expect(ids(await store.outbox.lease(t, 10, 60_000))).toEqual(['a']);
        await store.conversations.commit(turn('c1', 0, { outbox: [item('c1', 'b')] }));
        expect(await store.outbox.lease(fx.now(), 10, 60_000)).toEqual([]);
        await store.outbox.ack('c1', 'a');
        expect(ids(await store.outbox.lease(fx.now(), 10, 60_000))).toEqual(['b']);
      });

      it('leases items of several conversations, up to the limit', async () => {
        await store.outbox.enqueue([item('conv-a', 'a1'), item('conv-a', 'a2')]);
        await fx.advance(2);
        await store.outbox.enqueue([item('conv-b', 'b1')]);
        const t = fx.now();
        expect(ids(await store.outbox.lease(t, 2, 1000))).toEqual(['a1', 'a2']);
        // conv-b was not reached: still due, not held by the lease above.
        expect(ids(await store.outbox.lease(t, 2, 1000))).toEqual(['b1']);
        expect(await store.outbox.lease(t, 0, 1000)).toEqual([]);
      });

      it('leases both conversations’ items in one call', async () => {
        await store.conversations.commit(turn('conv-a', 0, { outbox: [item('conv-a', 'a1')] }));
        await store.conversations.commit(turn('conv-b', 0, { outbox: [item('conv-b', 'b1'), item('conv-b', 'b2')] }));
        const leased = await store.outbox.lease(fx.now(), 10, 1000);
        expect(ids(leased).sort()).toEqual(['a1', 'b1', 'b2']);
        expect(ids(leased.filter((queued) => queued.conversationId === 'conv-b'))).toEqual(['b1', 'b2']);
      });

      it('counts a failed attempt and makes the conversation due at retryAt', async () => {
        await store.outbox.enqueue([item('c1', 'a'), item('c1', 'b')]);
        const t = fx.now();
        await store.outbox.lease(t, 10, 1000);
        await store.outbox.retry('c1', 'a', t + 5000);
        expect(await store.outbox.lease(t + 4999, 10, 1000)).toEqual([]);
        const again = await store.outbox.lease(t + 5000, 10, 1000);
        expect(again).toEqual([{ ...item('c1', 'a'), attempts: 1 }, item('c1', 'b')]);
        await store.outbox.retry('c1', 'a', t + 6000);
        expect((await store.outbox.pending('c1'))[0]?.attempts).toBe(2);
      });

      it('treats ack and retry of unknown items as no-ops', async () => {
        await store.outbox.ack('c1', 'nope');
        await store.outbox.retry('c1', 'nope', fx.now());
        await store.outbox.enqueue([item('c1', 'a')]);
        await store.outbox.ack('c1', 'nope');
        await store.outbox.retry('c1', 'nope', fx.now() + 10_000);
        expect(ids(await store.outbox.lease(fx.now(), 10, 1000))).toEqual(['a']);
      });

      it('leases only the channels asked for, leaving the others due', async () => {
        await store.outbox.enqueue([item('wechat:w1', 'w', 'wechat')]);
        await store.conversations.commit(turn('telegram:t1', 0, { outbox: [item('telegram:t1', 't', 'telegram')] }));
        const t = fx.now();
        expect(ids(await store.outbox.lease(t, 10, 60_000, ['telegram']))).toEqual(['t']);
        expect(await store.outbox.lease(t, 10, 60_000, ['web'])).toEqual([]);
        expect(await store.outbox.lease(t, 10, 60_000, [])).toEqual([]);
        // The process that can send WeChat finds its item due at once, not held by the lease above.
        expect(ids(await store.outbox.lease(t, 10, 60_000, ['wechat', 'web']))).toEqual(['w']);
        expect(await store.outbox.lease(t, 10, 60_000)).toEqual([]);
        expect(ids(await store.outbox.lease(t + 60_000, 10, 60_000)).sort()).toEqual(['t', 'w']);
      });

      it('keeps a retried item on its channel', async () => {
        await store.outbox.enqueue([item('wechat:w1', 'a', 'wechat')]);
        const t = fx.now();
        await store.outbox.lease(t, 10, 1000, ['wechat']);
        await store.outbox.retry('wechat:w1', 'a', t + 5000);
        expect(await store.outbox.lease(t + 5000, 10, 1000, ['telegram'])).toEqual([]);
        expect(await store.outbox.lease(t + 5000, 10, 1000, ['wechat'])).toEqual([{ ...item('wechat:w1', 'a', 'wechat'), attempts: 1 }]);
      });

      it('refuses items of one conversation on several channels, writing nothing', async () => {
        await expect(store.outbox.enqueue([item('c1', 'a', 'wechat'), item('c1', 'b', 'telegram')])).rejects.toBeInstanceOf(RangeError);
        await expect(
          store.conversations.commit(turn('c1', 0, { outbox: [item('c1', 'a', 'wechat'), item('c1', 'b', 'web')] })),
        ).rejects.toBeInstanceOf(RangeError);
        await expect(store.outbox.enqueue([item('c1', 'a', 'we{chat}')])).rejects.toBeInstanceOf(RangeError);
        expect(await store.conversations.load('c1')).toBeNull();
        expect(await store.outbox.pending('c1')).toEqual([]);
      });

      it('records a delivery in one step: the item leaves the queue, enters the log, and is never queued again', async () => {
        await store.outbox.enqueue([item('c1', 'a'), item('c1', 'b')]);
        const t = fx.now();
        expect(ids(await store.outbox.lease(t, 1, 60_000))).toEqual(['a']);
        expect(await store.outbox.delivered('c1', 'a', t + 5)).toBe(true);
        expect(await store.outbox.delivered('c1', 'a', t + 6)).toBe(false);
        expect(ids(await store.outbox.pending('c1'))).toEqual(['b']);
        const { message, at } = item('c1', 'a');
        expect(await store.outbox.deliveries('c1')).toEqual([{ itemId: 'a', deliveredAt: t + 5, at, message }]);
        // The last delivery of a lease frees the rest at once, as an ack does.
        expect(ids(await store.outbox.lease(fx.now(), 10, 60_000))).toEqual(['b']);
        // Delivered ids are not queued again, by enqueue or by a commit.
        await store.outbox.enqueue([item('c1', 'a')]);
        await store.conversations.commit(turn('c1', 0, { outbox: [item('c1', 'a'), item('c1', 'c')] }));
        expect(ids(await store.outbox.pending('c1'))).toEqual(['b', 'c']);
        await store.outbox.delivered('c1', 'b', t + 7);
        await store.outbox.delivered('c1', 'c', t + 8);
        expect(await store.outbox.pending('c1')).toEqual([]);
        expect((await store.outbox.deliveries('c1', 2)).map((d) => d.itemId)).toEqual(['b', 'c']);
        expect(await store.outbox.deliveries('c1', 0)).toEqual([]);
        expect(await store.outbox.lease(t + 3_600_000, 10, 60_000)).toEqual([]);
        expect(await store.outbox.deliveries('c2')).toEqual([]);
      });

      it('keeps the last 100 deliveries', async () => {
        const queued = Array.from({ length: 102 }, (_, n) => item('c1', `d${n}`));
        await store.outbox.enqueue(queued);
        for (const [n, q] of queued.entries()) await store.outbox.delivered('c1', q.id, n);
        const log = await store.outbox.deliveries('c1');
        expect(log).toHaveLength(100);
        expect(log[0]?.itemId).toBe('d2');
        expect(log.at(-1)?.deliveredAt).toBe(101);
      });
    });

    describe('timers', () => {
      const timer = (name: string, at: number) => ({ conversationId: 'c1', name, at });

      it('leases a timer once due, with the time it was set for', async () => {
        const t = fx.now();
        await store.timers.set(timer('silence', t + 100));
        expect(await store.timers.lease(t + 99, 10, 1000)).toEqual([]);
        expect(await store.timers.lease(t + 100, 10, 1000)).toEqual([timer('silence', t + 100)]);
      });

      it('moves a timer set again, and forgets a cancelled one', async () => {
        const t = fx.now();
        await store.timers.set(timer('silence', t + 100));
        await store.timers.set(timer('silence', t + 500));
        await store.timers.set({ conversationId: 'c2', name: 'follow-up', at: t + 100 });
        expect(await store.timers.lease(t + 100, 10, 1000)).toEqual([{ conversationId: 'c2', name: 'follow-up', at: t + 100 }]);
        expect(await store.timers.lease(t + 500, 10, 1000)).toEqual([timer('silence', t + 500)]);
        await store.timers.cancel('c1', 'silence');
        await store.timers.cancel('c1', 'never-set');
        expect(await store.timers.lease(t + 10_000, 10, 1000)).toEqual([
          { conversationId: 'c2', name: 'follow-up', at: t + 100 },
        ]);
      });

      it('returns un-acked timers after the lease, oldest first, up to the limit', async () => {
        const t = fx.now();
        await store.timers.set(timer('z', t + 3));
        await store.timers.set(timer('x', t + 1));
        await store.timers.set(timer('y', t + 2));
        expect(await store.timers.lease(t + 10, 2, 1000)).toEqual([timer('x', t + 1), timer('y', t + 2)]);
        expect(await store.timers.lease(t + 10, 10, 1000)).toEqual([timer('z', t + 3)]);
        expect(await store.timers.lease(t + 1009, 10, 1000)).toEqual([]);
        const back = await store.timers.lease(t + 1010, 10, 1000);
        expect(back).toEqual([timer('x', t + 1), timer('y', t + 2), timer('z', t + 3)]);
        for (const due of back) await store.timers.ack(due);
        expect(await store.timers.lease(t + 1_000_000, 10, 1000)).toEqual([]);
      });

      it('keeps a timer set again while it was leased, despite the ack', async () => {
        const t = fx.now();
        await store.timers.set(timer('silence', t + 1));
        const [leased] = await store.timers.lease(t + 1, 10, 60_000);
        expect(leased).toEqual(timer('silence', t + 1));
        await store.timers.set(timer('silence', t + 5000));
        if (leased) await store.timers.ack(leased);
        expect(await store.timers.lease(t + 4999, 10, 60_000)).toEqual([]);
        expect(await store.timers.lease(t + 5000, 10, 60_000)).toEqual([timer('silence', t + 5000)]);
      });

      it('keeps a cancelled timer cancelled when its lease is acked', async () => {
        const t = fx.now();
        await store.timers.set(timer('silence', t + 1));
        const [leased] = await store.timers.lease(t + 1, 10, 1000);
        await store.timers.cancel('c1', 'silence');
        if (leased) await store.timers.ack(leased);
        expect(await store.timers.lease(t + 1_000_000, 10, 1000)).toEqual([]);
      });
    });

    describe('locks', () => {
      it('is exclusive and released only with the right token', async () => {
        const token = await store.locks.tryAcquire('turn:c1', 10_000);
        expect(token).toEqual(expect.any(String));
        expect(await store.locks.tryAcquire('turn:c1', 10_000)).toBeNull();
        expect(await store.locks.tryAcquire('turn:c2', 10_000)).toEqual(expect.any(String));
        await store.locks.release('turn:c1', 'not-the-token');
        expect(await store.locks.tryAcquire('turn:c1', 10_000)).toBeNull();
        await store.locks.release('turn:c1', token ?? '');
        expect(await store.locks.tryAcquire('turn:c1', 10_000)).toEqual(expect.any(String));
      });

      it('expires, and the late holder can neither extend nor release it', async () => {
        const first = await store.locks.tryAcquire('turn:c1', 50);
        await fx.advance(80);
        const second = await store.locks.tryAcquire('turn:c1', 10_000);
        expect(second).toEqual(expect.any(String));
        expect(await store.locks.extend('turn:c1', first ?? '', 10_000)).toBe(false);
        await store.locks.release('turn:c1', first ?? '');
        expect(await store.locks.tryAcquire('turn:c1', 10_000)).toBeNull();
      });

      it('lives longer when extended', async () => {
        const token = await store.locks.tryAcquire('turn:c1', 100);
        await fx.advance(50);
        expect(await store.locks.extend('turn:c1', token ?? '', 200)).toBe(true);
        await fx.advance(100);
        expect(await store.locks.tryAcquire('turn:c1', 10_000)).toBeNull();
        await fx.advance(150);
        expect(await store.locks.extend('turn:c1', token ?? '', 200)).toBe(false);
        expect(await store.locks.tryAcquire('turn:c1', 10_000)).toEqual(expect.any(String));
      });
    });

    describe('bus', () => {
      it('delivers to subscribers of the topic until they unsubscribe', async () => {
        const got: JsonObject[] = [];
        const fence: JsonObject[] = [];
        const unsubscribe = await store.bus.subscribe('chat:c1', (payload) => got.push(payload));
        await store.bus.subscribe('fence', (payload) => fence.push(payload));

        await store.bus.publish('chat:c1', { kind: 'reply', text: '您好', n: 1 });
        await until(() => got.length === 1);
        expect(got).toEqual([{ kind: 'reply', text: '您好', n: 1 }]);

        await unsubscribe();
        await store.bus.publish('chat:c1', { n: 2 });
        await store.bus.publish('other', { n: 3 });
        // Messages arrive in publish order, so once the fence is here a late one would be too.
        await store.bus.publish('fence', { n: 4 });
        await until(() => fence.length === 1);
        expect(got).toHaveLength(1);
      });

      it('gives every handler of a topic its own copy, and unsubscribes them one by one', async () => {
        const first: JsonObject[] = [];
        const second: JsonObject[] = [];
        const stopFirst = await store.bus.subscribe('t', (payload) => {
          payload.touched = true;
          first.push(payload);
        });
        await store.bus.subscribe('t', (payload) => second.push(payload));
        await store.bus.publish('t', { n: 1 });
        await until(() => first.length === 1 && second.length === 1);
        expect(second).toEqual([{ n: 1 }]);

        await stopFirst();
        await store.bus.publish('t', { n: 2 });
        await until(() => second.length === 2);
        expect(first).toHaveLength(1);
      });
    });

    describe('lifecycle', () => {
      it('answers ping until closed, then fails with StoreUnavailable', async () => {
        expect(await store.ping()).toBe(true);
        await store.close();
        expect(await store.ping()).toBe(false);
        await expect(store.conversations.load('c1')).rejects.toBeInstanceOf(StoreUnavailable);
      });
    });
  });
}

storeContract('memory store', async () => {
  let clock = 1_750_000_000_000;
  const store = createMemoryStore({ now: () => clock });
  expect(store.kind).toBe('memory');
  return {
    store,
    now: () => clock,
    advance: async (ms) => {
      clock += ms;
    },
  };
});

describeRedis('redis store', (server) => {
  // One prefix for this file, and a fresh one below it per test, so no test sees another's keys.
  const filePrefix = uniqueKeyPrefix('store-contract');
  let stores = 0;
  afterAll(async () => {
    await deleteKeys(server().url, filePrefix);
  });

  storeContract('contract', async () => {
    stores += 1;
    const store = await createRedisStore(server().url, { keyPrefix: `${filePrefix}${stores}:` });
    expect(store.kind).toBe('redis');
    return { store, now: () => Date.now(), advance: sleep };
  });

  describe('outages', () => {
    it('rejects with StoreUnavailable when nothing listens', async () => {
      const started = Date.now();
      await expect(createRedisStore('redis://127.0.0.1:1')).rejects.toBeInstanceOf(StoreUnavailable);
      expect(Date.now() - started).toBeLessThan(2000);
    });

    // stop/restart need a server of our own.
    it.skipIf(Boolean(process.env.REDIS_URL))(
      'fails fast while Redis is down and works again after a restart',
      async () => {
        const own = await startRedis();
        const store = await createRedisStore(own.url, { keyPrefix: uniqueKeyPrefix('store-outage') });
        try {
          await store.conversations.commit(turn('c1', 0));
          const got: JsonObject[] = [];
          await store.bus.subscribe('live', (payload) => got.push(payload));

          await own.stop();
          const started = Date.now();
          const calls: (() => Promise<unknown>)[] = [
            () => store.conversations.load('c1'),
            () => store.conversations.commit(turn('c1', 1)),
            () => store.outbox.lease(Date.now(), 10, 1000),
            () => store.timers.set({ conversationId: 'c1', name: 'silence', at: Date.now() }),
            () => store.locks.tryAcquire('turn:c1', 1000),
            () => store.bus.publish('live', { n: 1 }),
            () => store.bus.subscribe('other', () => undefined),
          ];
          for (const call of calls) await expect(call()).rejects.toBeInstanceOf(StoreUnavailable);
          expect(Date.now() - started).toBeLessThan(2500);
          expect(await store.ping()).toBe(false);

          await own.restart();
          await until(() => store.ping(), 5000);
          // The restarted server has no data (no persistence in tests).
          expect(await store.conversations.load('c1')).toBeNull();
          expect(await store.conversations.commit(turn('c1', 0))).toEqual({ version: 1 });
          // The subscription comes back with the connection.
          await until(async () => {
            await store.bus.publish('live', { n: 2 });
            return got.length > 0;
          }, 5000);

          await own.kill();
          await expect(store.conversations.load('c1')).rejects.toBeInstanceOf(StoreUnavailable);
          expect(await store.ping()).toBe(false);
        } finally {
          await store.close();
          await own.stop();
        }
      },
    );
  });
});
