/** In-process store for the zero-setup demo and logic tests, with the Redis store's semantics (one contract suite checks both). */
import { createMemoryDocuments } from './memory-documents.ts';
import { createMemoryReports } from './memory-reports.ts';
import { randomUUID } from 'node:crypto';
import { outboxChannelOf, StoreUnavailable, turnLockKey, VersionConflict } from './types.ts';
import type {
  DueTimer,
  JsonObject,
  OutboxDelivery,
  OutboxItem,
  Store,
  TranscriptEntry,
  TurnCommit,
} from './types.ts';

// The same limits as src/store/redis.ts; the contract suite checks both, so a drift fails a test.
const TRANSCRIPT_LIMIT = 500;
const SEEN_LIMIT = 1000;
const CONVERSATION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
const DELIVERY_LOG_LIMIT = 100;

/** One conversation's outbox: its queue, when it is next due, and the lease that holds it. */
interface OutboxQueue {
  /** The channel its items go out on (see `outboxChannelOf`); leases ask per channel. */
  channel: string;
  items: OutboxItem[];
  dueAt: number;
  /** Set by `lease`; acking `lastId` ends the lease early so later items need not wait for it. */
  lease: { until: number; dueBefore: number; lastId: string } | undefined;
}

interface ConversationRecord {
  /** 0 until the first commit; `state` is undefined exactly then. */
  version: number;
  state: string | undefined;
  transcript: TranscriptEntry[];
  /** Insertion order is age order, so the oldest ids are trimmed first. */
  seen: Set<string>;
  /** Undefined when nothing is queued, like the Redis index entry of an empty list. */
  outbox: OutboxQueue | undefined;
  /** The last deliveries, oldest first; their ids are not queued again. */
  delivered: OutboxDelivery[];
  /** Refreshed by every write to the conversation, like the TTL of its Redis keys. */
  expiresAt: number;
}

interface TimerRecord {
  conversationId: string;
  name: string;
  at: number;
  /** `at`, or the end of a lease. */
  dueAt: number;
}

/** Deep copy through JSON, so callers see exactly what a Redis round trip would give them. */
function viaJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Keeps only the known fields, as the Redis store's compact encoding does. */
function copyEntry(entry: TranscriptEntry): TranscriptEntry {
  const copy: TranscriptEntry = { from: entry.from, text: entry.text, at: entry.at };
  if (entry.messageId !== undefined) copy.messageId = entry.messageId;
  if (entry.by !== undefined) copy.by = entry.by;
  if (entry.imageUrl !== undefined) copy.imageUrl = entry.imageUrl;
  return viaJson(copy);
}

/** Redis orders equal scores by the members' bytes; UTF-16 order differs for some characters. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** A caller's bug, caught before anything is written: one conversation, one channel. */
function checkOneChannel(conversationId: string, items: OutboxItem[]): void {
  const channels = new Set(items.map(outboxChannelOf));
  if (channels.size > 1) {
    throw new RangeError(`outbox items of ${conversationId} go out on several channels: ${[...channels].join(', ')}`);
  }
  const [channel = ''] = channels;
  // As in the Redis store, where the channel names a hash tag.
  if (!/^[\w-]*$/.test(channel)) throw new RangeError(`outbox channel must be letters, digits, _ or -: ${channel}`);
}

function timerKey(conversationId: string, name: string): string {
  return JSON.stringify([conversationId, name]);
}

/** Whole milliseconds, at least one, as Redis' PX accepts. */
function lockTtl(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}

/**
 * Creates an in-memory store. `now` is the clock for due times, lock expiry and retention;
 * tests pass a fake one. Bus handlers run asynchronously (a microtask), as with Redis pub/sub.
 */
export function createMemoryStore(opts: { now?: () => number } = {}): Store {
  const now = opts.now ?? Date.now;
  const conversations = new Map<string, ConversationRecord>();
  const timers = new Map<string, TimerRecord>();
  const locks = new Map<string, { token: string; expiresAt: number }>();
  // Conversations that may have something queued, so a lease does not walk every conversation
  // (a shop on the memory store keeps 30 days of them); ids whose queue emptied are dropped lazily.
  const withOutbox = new Set<string>();
  // Expired conversations are dropped when touched, and all of them at most once a minute.
  let sweptAt = Number.NEGATIVE_INFINITY;
  const topics = new Map<string, Set<(payload: JsonObject) => void>>();
  let closed = false;

  function open(): void {
    if (closed) throw new StoreUnavailable('memory store: closed');
  }

  function live(conversationId: string): ConversationRecord | undefined {
    const record = conversations.get(conversationId);
    if (record && record.expiresAt <= now()) {
      conversations.delete(conversationId);
      return undefined;
    }
    return record;
  }

  function touch(conversationId: string): ConversationRecord {
    const record = live(conversationId) ?? {
      version: 0,
      state: undefined,
      transcript: [],
      seen: new Set<string>(),
      outbox: undefined,
      delivered: [],
      expiresAt: 0,
    };
    record.expiresAt = now() + CONVERSATION_TTL_MS;
    conversations.set(conversationId, record);
    return record;
  }

  function appendLines(record: ConversationRecord, entries: TranscriptEntry[]): void {
    record.transcript.push(...entries.map(copyEntry));
    if (record.transcript.length > TRANSCRIPT_LIMIT) {
      record.transcript.splice(0, record.transcript.length - TRANSCRIPT_LIMIT);
    }
  }

  /** Queues items whose id is neither queued nor delivered yet; a queue that was empty becomes due now. */
  function queue(record: ConversationRecord, items: OutboxItem[]): void {
    const first = items[0];
    if (!first) return;
    const outbox = record.outbox ?? { channel: outboxChannelOf(first), items: [], dueAt: now(), lease: undefined };
    outbox.channel = outboxChannelOf(first);
    for (const item of items) {
      if (outbox.items.some((queued) => queued.id === item.id)) continue;
      if (record.delivered.some((sent) => sent.itemId === item.id)) continue;
      outbox.items.push(viaJson(item));
    }
    record.outbox = outbox.items.length > 0 ? outbox : undefined;
    if (record.outbox) withOutbox.add(first.conversationId);
  }

  /** Removes a queued item; ends its lease early when it was the last one the lease took. */
  function remove(record: ConversationRecord, itemId: string): OutboxItem | undefined {
    const outbox = record.outbox;
    if (!outbox) return undefined;
    const index = outbox.items.findIndex((item) => item.id === itemId);
    if (index < 0) return undefined;
    const [removed] = outbox.items.splice(index, 1);
    if (outbox.items.length === 0) {
      record.outbox = undefined;
      return removed;
    }
    if (outbox.lease?.lastId === itemId) {
      // The holder delivered all it leased: the rest is due as it was before the lease.
      if (outbox.dueAt === outbox.lease.until) outbox.dueAt = outbox.lease.dueBefore;
      outbox.lease = undefined;
    }
    return removed;
  }

  function sweep(): void {
    const t = now();
    if (t - sweptAt < 60_000) return;
    sweptAt = t;
    for (const [id, record] of conversations) if (record.expiresAt <= t) conversations.delete(id);
  }

  return {
    kind: 'memory',
    docs: createMemoryDocuments(open),
    reports: createMemoryReports(open),

    conversations: {
      async load(conversationId) {
        open();
        const record = live(conversationId);
        if (!record || record.state === undefined) return null;
        return { version: record.version, state: JSON.parse(record.state) as JsonObject };
      },

      async seen(conversationId, messageId) {
        open();
        return live(conversationId)?.seen.has(messageId) ?? false;
      },

      async beginTurn(conversationId, messageId, token, ttlMs) {
        open();
        const key = turnLockKey(conversationId);
        const held = locks.get(key);
        const heldNow = held !== undefined && held.expiresAt > now();
        if (heldNow && held.token !== token) return { kind: 'busy' };
        const record = live(conversationId);
        if (record?.seen.has(messageId)) {
          if (heldNow) locks.delete(key);
          return { kind: 'seen' };
        }
        locks.set(key, { token, expiresAt: now() + lockTtl(ttlMs) });
        if (!record || record.state === undefined) return { kind: 'ready', saved: null };
        return { kind: 'ready', saved: { version: record.version, state: JSON.parse(record.state) as JsonObject } };
      },

      async commit(turn: TurnCommit) {
        open();
        const foreign = turn.outbox.find((item) => item.conversationId !== turn.conversationId);
        if (foreign) {
          throw new RangeError(
            `outbox item ${foreign.id} belongs to ${foreign.conversationId}, not ${turn.conversationId}`,
          );
        }
        checkOneChannel(turn.conversationId, turn.outbox);
        const actual = live(turn.conversationId)?.version ?? 0;
        if (actual !== turn.expectedVersion) {
          throw new VersionConflict(turn.conversationId, turn.expectedVersion, actual);
        }
        const record = touch(turn.conversationId);
        record.version = actual + 1;
        record.state = JSON.stringify(turn.state);
        appendLines(record, turn.transcript);
        if (turn.messageId !== undefined) {
          // Re-adding moves the id to the newest end, as a ZADD with a higher score does.
          record.seen.delete(turn.messageId);
          record.seen.add(turn.messageId);
          for (const oldest of record.seen) {
            if (record.seen.size <= SEEN_LIMIT) break;
            record.seen.delete(oldest);
          }
        }
        queue(record, turn.outbox);
        if (turn.unlock !== undefined) {
          const key = turnLockKey(turn.conversationId);
          if (locks.get(key)?.token === turn.unlock) locks.delete(key);
        }
        return { version: record.version };
      },

      async appendTranscript(conversationId, entries) {
        open();
        if (entries.length === 0) return;
        appendLines(touch(conversationId), entries);
      },

      async transcript(conversationId, limit = TRANSCRIPT_LIMIT) {
        open();
        // Below one line there is nothing to return (and slice(-0) would return everything).
        if (limit < 1) return [];
        const lines = live(conversationId)?.transcript ?? [];
        return lines.slice(-Math.floor(limit)).map(copyEntry);
      },
    },

    outbox: {
      async enqueue(items) {
        open();
        const byConversation = new Map<string, OutboxItem[]>();
        for (const item of items) {
          const group = byConversation.get(item.conversationId) ?? [];
          group.push(item);
          byConversation.set(item.conversationId, group);
        }
        for (const [conversationId, group] of byConversation) checkOneChannel(conversationId, group);
        for (const [conversationId, group] of byConversation) queue(touch(conversationId), group);
      },

      async lease(t, limit, leaseMs, channels) {
        open();
        sweep();
        const leased: OutboxItem[] = [];
        if (limit <= 0) return leased;
        const wanted = channels ? new Set(channels) : null;
        const due: { id: string; outbox: OutboxQueue }[] = [];
        for (const id of withOutbox) {
          const outbox = live(id)?.outbox;
          if (!outbox) withOutbox.delete(id);
          else if (outbox.dueAt <= t && (!wanted || wanted.has(outbox.channel))) due.push({ id, outbox });
        }
        due.sort((a, b) => a.outbox.dueAt - b.outbox.dueAt || byteOrder(a.id, b.id));
        for (const { outbox } of due) {
          const budget = Math.floor(limit) - leased.length;
          if (budget <= 0) break;
          const taken = outbox.items.slice(0, budget);
          const last = taken[taken.length - 1];
          if (!last) continue;
          outbox.lease = { until: t + leaseMs, dueBefore: outbox.dueAt, lastId: last.id };
          outbox.dueAt = t + leaseMs;
          leased.push(...taken.map(viaJson));
        }
        return leased;
      },

      async ack(conversationId, itemId) {
        open();
        const record = live(conversationId);
        if (record) remove(record, itemId);
      },

      async delivered(conversationId, itemId, deliveredAt) {
        open();
        const record = live(conversationId);
        const removed = record ? remove(record, itemId) : undefined;
        if (!record || !removed) return false;
        record.delivered.push({ itemId, deliveredAt, at: removed.at, message: removed.message });
        if (record.delivered.length > DELIVERY_LOG_LIMIT) record.delivered.splice(0, record.delivered.length - DELIVERY_LOG_LIMIT);
        return true;
      },

      async retry(conversationId, itemId, retryAt) {
        open();
        const outbox = live(conversationId)?.outbox;
        const item = outbox?.items.find((queued) => queued.id === itemId);
        if (!outbox || !item) return;
        item.attempts += 1;
        outbox.dueAt = retryAt;
        outbox.lease = undefined;
      },

      async pending(conversationId) {
        open();
        return (live(conversationId)?.outbox?.items ?? []).map(viaJson);
      },

      async deliveries(conversationId, limit = DELIVERY_LOG_LIMIT) {
        open();
        if (limit < 1) return [];
        return (live(conversationId)?.delivered ?? []).slice(-Math.floor(limit)).map(viaJson);
      },
    },

    timers: {
      async set(timer: DueTimer) {
        open();
        if (!Number.isFinite(timer.at)) throw new RangeError(`timer ${timer.name}: at must be finite`);
        const { conversationId, name, at } = timer;
        timers.set(timerKey(conversationId, name), { conversationId, name, at, dueAt: at });
      },

      async cancel(conversationId, name) {
        open();
        timers.delete(timerKey(conversationId, name));
      },

      async lease(t, limit, leaseMs) {
        open();
        if (limit <= 0) return [];
        const due: [string, TimerRecord][] = [];
        for (const entry of timers) if (entry[1].dueAt <= t) due.push(entry);
        due.sort(([ka, a], [kb, b]) => a.dueAt - b.dueAt || byteOrder(ka, kb));
        due.length = Math.min(due.length, Math.max(0, Math.floor(limit) || 0));
        return due.map(([, timer]) => {
          timer.dueAt = t + leaseMs;
          return { conversationId: timer.conversationId, name: timer.name, at: timer.at };
        });
      },

      async ack(timer) {
        open();
        const key = timerKey(timer.conversationId, timer.name);
        // Set again meanwhile (another `at`): that newer timer must still fire.
        if (timers.get(key)?.at === timer.at) timers.delete(key);
      },
    },

    locks: {
      async tryAcquire(key, ttlMs) {
        open();
        const held = locks.get(key);
        if (held && held.expiresAt > now()) return null;
        const token = randomUUID();
        locks.set(key, { token, expiresAt: now() + lockTtl(ttlMs) });
        return token;
      },

      async extend(key, token, ttlMs) {
        open();
        const held = locks.get(key);
        if (!held || held.token !== token || held.expiresAt <= now()) return false;
        held.expiresAt = now() + lockTtl(ttlMs);
        return true;
      },

      async release(key, token) {
        open();
        const held = locks.get(key);
        if (held && held.token === token && held.expiresAt > now()) locks.delete(key);
      },
    },

    bus: {
      async publish(topic, payload) {
        open();
        const message = JSON.stringify(payload);
        for (const handler of topics.get(topic) ?? []) {
          queueMicrotask(() => {
            // Unsubscribed in the meantime: Redis would not deliver either.
            if (!topics.get(topic)?.has(handler)) return;
            try {
              handler(JSON.parse(message) as JsonObject);
            } catch {
              // A handler owns its errors; one failing must not stop the others or the publisher.
            }
          });
        }
      },

      async subscribe(topic, handler) {
        open();
        // A wrapper per subscription, so subscribing one function twice needs two unsubscribes.
        const subscription = (payload: JsonObject): void => handler(payload);
        const handlers = topics.get(topic) ?? new Set();
        handlers.add(subscription);
        topics.set(topic, handlers);
        return async () => {
          handlers.delete(subscription);
          if (handlers.size === 0 && topics.get(topic) === handlers) topics.delete(topic);
        };
      },
    },

    async ping() {
      return !closed;
    },

    async close() {
      closed = true;
      topics.clear();
    },
  };
}
