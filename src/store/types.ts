/**
 * Persistence behind narrow interfaces (DESIGN.md "Storage and scale"). Two implementations,
 * in-memory and Redis, pass one contract suite (test/store.contract.test.ts). The store knows
 * nothing of flows or shops: conversation state is an opaque JSON object with a version.
 */

/** A JSON object as stored; the conversations part owns its shape. */
export type JsonObject = { [key: string]: unknown };

/** Who said a line of a transcript. */
export type Speaker = 'customer' | 'bot' | 'agent' | 'system';

/** One line of a conversation's transcript. */
export interface TranscriptEntry {
  from: Speaker;
  text: string;
  /** ISO 8601. */
  at: string;
  /** The platform message id for customer lines; the outbox item id for replies. */
  messageId?: string;
  /** Who sent it, for agent lines (their username). */
  by?: string;
  imageUrl?: string;
}

/** A message waiting to be delivered to a customer through its channel. */
export interface OutboxItem {
  /** Unique and deterministic (e.g. `<messageId>:<n>`), so a re-enqueue is harmless. */
  id: string;
  conversationId: string;
  /**
   * The serialised ConversationRef and Outbound. The store reads only `ref.channel` (see
   * `outboxChannelOf`), to index items per channel; the rest it does not look inside.
   */
  ref: JsonObject;
  message: JsonObject;
  /** ISO 8601 time it was enqueued. */
  at: string;
  /** Delivery attempts so far. */
  attempts: number;
}

/** Everything one successful turn writes, applied all at once or not at all. */
export interface TurnCommit {
  conversationId: string;
  /** The version the turn loaded (0 when the conversation was new). */
  expectedVersion: number;
  state: JsonObject;
  /** The customer message id this turn handled; later deliveries of it are duplicates. */
  messageId?: string;
  transcript: TranscriptEntry[];
  /** Replies to deliver through the outbox (channels that do not answer inline). */
  outbox: OutboxItem[];
  /** The turn lock's token: the commit frees the lock in the same step when it is still this one. */
  unlock?: string;
}

/** What {@link ConversationStore.beginTurn} found. */
export type TurnStart =
  | { kind: 'busy' }
  | { kind: 'seen' }
  | { kind: 'ready'; saved: { version: number; state: JsonObject } | null };

/**
 * The lock key of a conversation's turns (a {@link LockStore} key). Stores keep it with the
 * conversation, so beginTurn and commit take and free it in the same step as the state.
 */
export function turnLockKey(conversationId: string): string {
  return `${TURN_LOCK_PREFIX}${conversationId}`;
}
export const TURN_LOCK_PREFIX = 'turn:';

/** Thrown by `commit` when another writer saved the conversation first. */
export class VersionConflict extends Error {
  constructor(readonly conversationId: string, readonly expected: number, readonly actual: number) {
    super(`conversation ${conversationId}: expected version ${expected}, found ${actual}`);
    this.name = 'VersionConflict';
  }
}

/** Thrown by any store call when the backing store cannot be reached. */
export class StoreUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailable';
  }
}

/** Conversation state, transcripts and dedupe; one conversation's keys live in one hash slot. */
export interface ConversationStore {
  /** The saved state and its version, or null for a conversation never saved. */
  load(conversationId: string): Promise<{ version: number; state: JsonObject } | null>;
  /** Whether a turn for this customer message id was already committed. */
  seen(conversationId: string, messageId: string): Promise<boolean>;
  /**
   * How a customer turn starts, in one call (one round trip at a sale's peak): takes the turn lock
   * ({@link turnLockKey}) with `token` unless someone else holds it (`busy`; holding it already
   * is fine), then `seen` when the message was already handled (the lock is then left free),
   * else `ready` with the saved state (null for a new conversation), the lock held for `ttlMs`.
   */
  beginTurn(conversationId: string, messageId: string, token: string, ttlMs: number): Promise<TurnStart>;
  /**
   * Saves state (version becomes expectedVersion + 1), appends transcript lines, marks the
   * message id seen and queues the outbox items, atomically. Throws VersionConflict.
   */
  commit(turn: TurnCommit): Promise<{ version: number }>;
  /** Appends lines outside a turn (delivery records, agent notes); keeps state untouched. */
  appendTranscript(conversationId: string, entries: TranscriptEntry[]): Promise<void>;
  /** The last `limit` transcript lines, oldest first. */
  transcript(conversationId: string, limit?: number): Promise<TranscriptEntry[]>;
}

/** The channel an outbox item goes out on: its `ref.channel`, or '' when it has none. */
export function outboxChannelOf(item: Pick<OutboxItem, 'ref'>): string {
  const channel = item.ref.channel;
  return typeof channel === 'string' ? channel : '';
}

/** One message the outbox delivered, as its delivery log keeps it. */
export interface OutboxDelivery {
  itemId: string;
  /** When the platform accepted it, ms since the epoch. */
  deliveredAt: number;
  /** The item's enqueue time (ISO 8601): messages of one turn share it. */
  at: string;
  message: JsonObject;
}

/**
 * Messages waiting for delivery, leased to one deliverer at a time. Items are indexed per
 * channel, so a process leases only what it can send (WeChat: only the process logged in).
 * All items of one conversation go out on one channel.
 */
export interface OutboxStore {
  /**
   * Queues messages outside a turn (an agent's reply, a reminder). Re-adding an id is a no-op,
   * both while it is queued and once it was delivered (within the delivery log's last 100).
   */
  enqueue(items: OutboxItem[]): Promise<void>;
  /**
   * Leases up to `limit` items that are due (queued, or whose lease or retry time has passed),
   * oldest first per conversation, for `leaseMs`. Items of one conversation come in order.
   * With `channels`, only items going out on those channels; without, every channel's.
   */
  lease(now: number, limit: number, leaseMs: number, channels?: readonly string[]): Promise<OutboxItem[]>;
  /** Done without delivery (malformed, given up): removes the item. */
  ack(conversationId: string, itemId: string): Promise<void>;
  /**
   * Delivered: removes the item and adds it to the conversation's delivery log (the last 100),
   * in one step, so "sent" is never recorded without the item leaving the queue or the other way
   * round. Returns false when the item was not queued (already recorded, or never there).
   */
  delivered(conversationId: string, itemId: string, deliveredAt: number): Promise<boolean>;
  /** Not delivered: counts the attempt and makes the item due again at `retryAt` (ms). */
  retry(conversationId: string, itemId: string, retryAt: number): Promise<void>;
  /** Items still queued for a conversation (oldest first), for inspection and tests. */
  pending(conversationId: string): Promise<OutboxItem[]>;
  /** The last `limit` (default 100) deliveries to a conversation, oldest first. */
  deliveries(conversationId: string, limit?: number): Promise<OutboxDelivery[]>;
}

/** A timer set for a conversation: a silence reminder, a follow-up. */
export interface DueTimer {
  conversationId: string;
  name: string;
  /** When it is due, ms since the epoch. */
  at: number;
}

/** Timers; setting the same (conversation, name) again moves it. */
export interface TimerStore {
  set(timer: DueTimer): Promise<void>;
  cancel(conversationId: string, name: string): Promise<void>;
  /** Leases up to `limit` due timers for `leaseMs`; an un-acked timer comes back after the lease. */
  lease(now: number, limit: number, leaseMs: number): Promise<DueTimer[]>;
  /** Fired: removes it, unless it was set again for a later time meanwhile (`at` differs). */
  ack(timer: DueTimer): Promise<void>;
}

/** Mutual exclusion across processes, with expiry so a dead holder cannot block forever. */
export interface LockStore {
  /** Tries once; returns a token when taken, null when someone else holds it. */
  tryAcquire(key: string, ttlMs: number): Promise<string | null>;
  /** Extends a held lock; false when it was lost. */
  extend(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** Releases only if still held with this token. */
  release(key: string, token: string): Promise<void>;
}

/** Messages between processes (a web chat's live events, library published). */
export interface EventBus {
  publish(topic: string, payload: JsonObject): Promise<void>;
  /** Calls `handler` for each later publish on `topic`; returns the unsubscribe. */
  subscribe(topic: string, handler: (payload: JsonObject) => void): Promise<() => Promise<void>>;
}

/** A stored document with its version (1 after the first put). */
export interface StoredDoc {
  id: string;
  version: number;
  doc: JsonObject;
}

/**
 * Small shared records with optimistic versions: staff accounts, tickets, shift rosters, FAQ
 * suggestions. A collection's documents share one hash slot, so a collection is meant for
 * thousands of records, not millions.
 */
export interface DocumentStore {
  get(collection: string, id: string): Promise<StoredDoc | null>;
  /**
   * Writes `doc` if the stored version is `expectedVersion` (0: only if it does not exist yet)
   * and returns the new version; throws VersionConflict otherwise, writing nothing.
   */
  put(collection: string, id: string, doc: JsonObject, expectedVersion: number): Promise<number>;
  list(collection: string): Promise<StoredDoc[]>;
  delete(collection: string, id: string): Promise<void>;
}

/** Changes to one day's report counters, applied together; src/reports decides what the names mean. */
export interface ReportChange {
  /** Counter fields and what to add to each. */
  counters: [field: string, by: number][];
  /** `counter` gains 1 the first time `member` is seen that day (distinct conversations). */
  distinct: { member: string; counter: string }[];
  /** Values kept one by one (first-response seconds), the last 50,000 a day. */
  samples: string[];
  /** Texts counted for top lists (unanswered questions), the 5,000 most frequent a day. */
  ranked: string[];
}

/** One day's report data as kept. */
export interface ReportDay {
  /** YYYY-MM-DD in the shop's time zone. */
  day: string;
  counters: Record<string, number>;
  samples: string[];
  /** The most frequent texts first (up to 1,000). */
  ranked: [text: string, count: number][];
}

/**
 * Report counters kept as events happen (per day, so a report reads only the days it shows), and a
 * short memory per conversation to count an outcome once and take it back when a person follows.
 */
export interface ReportStore {
  add(day: string, change: ReportChange): Promise<void>;
  read(days: string[]): Promise<ReportDay[]>;
  /**
   * Remembers `key` of `subject` with `value` at `at` (ms): `first` when it was not remembered within
   * `windowMs` before (it is now), `repeat` when it was, `blocked` when `block` was called for the
   * subject within the window (then nothing is remembered).
   */
  remember(subject: string, key: string, value: string, at: number, windowMs: number): Promise<'first' | 'repeat' | 'blocked'>;
  /** Blocks `subject` for `windowMs` from `at`; forgets and returns the values of its keys starting with `prefix` remembered within the window. */
  block(subject: string, prefix: string, at: number, windowMs: number): Promise<string[]>;
}

export interface Store {
  /** 'memory' or 'redis', for the start-up log. */
  readonly kind: 'memory' | 'redis';
  conversations: ConversationStore;
  outbox: OutboxStore;
  timers: TimerStore;
  locks: LockStore;
  bus: EventBus;
  docs: DocumentStore;
  reports: ReportStore;
  /** Answers when the store can be reached (for /healthz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
