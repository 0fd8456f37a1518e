/** Redis store (the system of record in production): Lua scripts for atomic steps, hash-tagged keys for Cluster. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createClient, ErrorReply } from 'redis';
import { outboxChannelOf, StoreUnavailable, TURN_LOCK_PREFIX, VersionConflict } from './types.ts';
import { createRedisDocuments } from './redis-documents.ts';
import { createRedisReports } from './redis-reports.ts';
import type {
  ConversationStore,
  DueTimer,
  EventBus,
  JsonObject,
  LockStore,
  OutboxDelivery,
  OutboxItem,
  OutboxStore,
  Speaker,
  Store,
  TimerStore,
  TranscriptEntry,
} from './types.ts';

/*
 * Key layout (P = keyPrefix). Everything of one conversation shares the hash tag {c:<id>}, so a
 * Lua script may touch all of it, also under Cluster:
 *   P{c:<id>}:s  hash  v = version, s = state JSON, og = last outbox write (nonce), ol = lease note,
 *                      ch = the channel its outbox items go out on
 *   P{c:<id>}:t  list  transcript lines (compact JSON arrays), the last 500
 *   P{c:<id>}:m  zset  handled customer message ids, score = version, the newest 1000
 *   P{c:<id>}:o  list  outbox items, oldest first: `<id as JSON>\n<attempts>\n<[at,ref,message]>`
 *   P{c:<id>}:d  list  delivery log, the last 100: `<id as JSON>\n<delivered ms>\n<[at,ref,message]>`
 *   P{c:<id>}:l  string  the turn lock's token (LockStore key `turn:<id>`, expiring by itself), so
 *                      beginTurn takes it and commit frees it in the scripts that read and write the state
 * All five expire 30 days after the conversation's last write.
 * Global indexes, each in its own slot, one pair per channel <ch> (so a process leases only the
 * channels it can send on; WeChat only where it is logged in):
 *   P{outbox:<ch>}:due  zset  conversationId -> when its outbox is next due (enqueue, lease end, retry)
 *   P{outbox:<ch>}:gen  hash  conversationId -> `<nonce>|<ms>` of the last announced outbox write
 *   P{outbox}:channels  set   the channels that ever had an outbox index (for leases of every channel)
 *   P{timers}:due  zset  JSON [conversationId, name] -> when due (`at`, or the end of a lease)
 *   P{timers}:at   hash  same member -> the `at` it was set for
 *   P{lock:<key>}  string  lock token
 *
 * The outbox index lives in another slot than the lists, so it cannot change in the same script.
 * Rule: an index entry is written BEFORE the items (an entry without items is harmless, items
 * without an entry would never be delivered). The entry is removed only when the list was seen
 * empty AND every announced write has reached the list: each write announces a random nonce in
 * P{outbox}:gen before it runs, the list-side script records it in `og`, and removal is a
 * compare-and-delete of the two. A write that announced but never ran (a crash between the two
 * steps) blocks removal for a minute at most. The channel is registered in P{outbox}:channels
 * before its first announcement, by the same rule.
 *
 * Delivery rule: `delivered` removes the item and appends it to the delivery log in one script,
 * and both enqueue and commit skip ids found in the log, so an item recorded as delivered can
 * neither stay queued nor be queued again.
 *
 * Timer ack rule: `ack` deletes a timer only when the `at` it was last set for (P{timers}:at)
 * still equals the acked timer's `at`. A lease moves only the score, never `at`, so a timer set
 * again during the lease (another `at`) survives the ack of the old one.
 */

const TRANSCRIPT_LIMIT = 500;
const SEEN_LIMIT = 1000;
const CONVERSATION_TTL_S = 30 * 24 * 60 * 60;
/** Every store call fails with StoreUnavailable after this; node-redis alone waits forever for a reply. */
const CALL_TIMEOUT_MS = 2000;
const CONNECT_TIMEOUT_MS = 2000;
/** Reconnect backoff cap; short, so a restarted Redis is used again within a second. */
const RECONNECT_MAX_MS = 1000;
/** How long an announced outbox write that never reached its list may block index cleanup. */
const STALE_ANNOUNCE_MS = 60_000;
const DELIVERY_LOG_LIMIT = 100;

/** Error replies that mean "not now" rather than "wrong": they count as unavailable too. */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|MISCONF)\b/;

interface LuaScript {
  source: string;
  sha: string;
}

function lua(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** The outbox element's id (its first line, JSON-encoded) without decoding the whole item. */
const LUA_ID_OF = `
local function idOf(v)
  local nl = string.find(v, '\\n', 1, true)
  return string.sub(v, 1, nl - 1)
end
`;

/** Appends ARGV[first..] to the outbox list `okey`, skipping ids already queued or in the delivery log `dkey`. */
const LUA_PUSH_OUTBOX = `${LUA_ID_OF}
local function pushOutbox(okey, dkey, first)
  local have = {}
  for _, v in ipairs(redis.call('LRANGE', okey, 0, -1)) do have[idOf(v)] = true end
  for _, v in ipairs(redis.call('LRANGE', dkey, 0, -1)) do have[idOf(v)] = true end
  for i = first, #ARGV do
    local id = idOf(ARGV[i])
    if not have[id] then
      have[id] = true
      redis.call('RPUSH', okey, ARGV[i])
    end
  end
end
`;

// KEYS: s t m o d. ARGV: expected, state, messageId|'', nonce|'', ttl, transcriptLimit, seenLimit,
// channel, lineCount, lines..., outbox values...
const COMMIT = lua(`${LUA_PUSH_OUTBOX}
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
local nonce = ARGV[4]
if nonce ~= '' then
  -- Recorded even on a conflict: the announced write has been dealt with either way.
  redis.call('HSET', KEYS[1], 'og', nonce)
  if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[5]) end
end
if v ~= tonumber(ARGV[1]) then return {0, v, redis.call('LLEN', KEYS[4])} end
local nv = v + 1
redis.call('HSET', KEYS[1], 'v', nv, 's', ARGV[2])
local n = tonumber(ARGV[9])
for i = 11, 10 + n do redis.call('RPUSH', KEYS[2], ARGV[i]) end
if n > 0 then redis.call('LTRIM', KEYS[2], -tonumber(ARGV[6]), -1) end
if ARGV[3] ~= '' then
  redis.call('ZADD', KEYS[3], nv, ARGV[3])
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -tonumber(ARGV[7]) - 1)
end
if #ARGV >= 11 + n then redis.call('HSET', KEYS[1], 'ch', ARGV[8]) end
pushOutbox(KEYS[4], KEYS[5], 11 + n)
for i = 1, 5 do redis.call('EXPIRE', KEYS[i], ARGV[5]) end
if ARGV[10] ~= '' and redis.call('GET', KEYS[6]) == ARGV[10] then redis.call('DEL', KEYS[6]) end
return {1, nv}
`);

// KEYS: s t m l. ARGV: message id, lock token, lock ttl ms.
// Returns {2} busy, {1} seen (the lock left free), {0, version or '', state or ''} with the lock held.
const BEGIN_TURN = lua(`
local held = redis.call('GET', KEYS[4])
if held and held ~= ARGV[2] then return {2} end
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then
  if held then redis.call('DEL', KEYS[4]) end
  return {1}
end
redis.call('SET', KEYS[4], ARGV[2], 'PX', ARGV[3])
local r = redis.call('HMGET', KEYS[1], 'v', 's')
return {0, r[1] or '', r[2] or ''}
`);

// KEYS: s t m o d. ARGV: ttl, transcriptLimit, lines...
const APPEND_TRANSCRIPT = lua(`
for i = 3, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[1]) end
`);

// KEYS: s t m o d. ARGV: nonce, ttl, channel, outbox values...
const ENQUEUE = lua(`${LUA_PUSH_OUTBOX}
redis.call('HSET', KEYS[1], 'og', ARGV[1], 'ch', ARGV[3])
pushOutbox(KEYS[4], KEYS[5], 4)
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[2]) end
`);

// KEYS: due gen. ARGV: conversationId, `<nonce>|<ms>`, score. Never shortens a lease or a retry.
const ANNOUNCE = lua(`
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[1], 'NX', ARGV[3], ARGV[1])
`);

// KEYS: due gen. ARGV: conversationId, og seen with the empty list, wall clock ms, staleMs.
const REMOVE_IF_SETTLED = lua(`
local g = redis.call('HGET', KEYS[2], ARGV[1])
if g then
  local sep = string.find(g, '|', 1, true)
  local announced = string.sub(g, 1, sep - 1)
  local at = tonumber(string.sub(g, sep + 1))
  if announced ~= ARGV[2] and at > tonumber(ARGV[3]) - tonumber(ARGV[4]) then return 0 end
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`);

// KEYS: due. ARGV: now, limit, leaseUntil. Returns conversationId, previous score, ...
const LEASE_CONVERSATIONS = lua(`
local picked = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
for i = 1, #picked, 2 do redis.call('ZADD', KEYS[1], 'XX', ARGV[3], picked[i]) end
return picked
`);

// KEYS: due. ARGV: conversationId, leaseUntil, score to restore. Only if our lease still holds.
const END_LEASE = lua(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s and tonumber(s) == tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
  return 1
end
return 0
`);

// KEYS: s o. ARGV: count, leaseUntil, score before the lease, ttl. Returns og, items...
const READ_LEASED = lua(`${LUA_ID_OF}
local items = redis.call('LRANGE', KEYS[2], 0, tonumber(ARGV[1]) - 1)
local out = {redis.call('HGET', KEYS[1], 'og') or ''}
if #items == 0 then
  redis.call('HDEL', KEYS[1], 'ol')
  return out
end
redis.call('HSET', KEYS[1], 'ol', ARGV[2] .. '|' .. ARGV[3] .. '|' .. idOf(items[#items]))
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
for i = 1, #items do out[i + 1] = items[i] end
return out
`);

// KEYS: s o d. ARGV: item id as JSON, delivered ms ('' = removed without delivery), ttl, log limit.
// Returns found, length left, og, `<leaseUntil>|<before>` when this item was the last one its
// lease took, channel.
const ACK = lua(`${LUA_ID_OF}
local values = redis.call('LRANGE', KEYS[2], 0, -1)
local og = redis.call('HGET', KEYS[1], 'og') or ''
local ch = redis.call('HGET', KEYS[1], 'ch') or ''
local found
for _, v in ipairs(values) do
  if idOf(v) == ARGV[1] then found = v break end
end
if not found then return {0, #values, og, '', ch} end
redis.call('LREM', KEYS[2], 1, found)
if ARGV[2] ~= '' then
  -- The delivery log entry is the item with its attempts line replaced by the delivery time.
  local a = string.find(found, '\\n', 1, true)
  local b = string.find(found, '\\n', a + 1, true)
  redis.call('RPUSH', KEYS[3], string.sub(found, 1, a) .. ARGV[2] .. string.sub(found, b))
  redis.call('LTRIM', KEYS[3], -tonumber(ARGV[4]), -1)
  redis.call('EXPIRE', KEYS[3], ARGV[3])
end
local finished = ''
local ol = redis.call('HGET', KEYS[1], 'ol')
if ol then
  local a = string.find(ol, '|', 1, true)
  local b = string.find(ol, '|', a + 1, true)
  if string.sub(ol, b + 1) == ARGV[1] then
    finished = string.sub(ol, 1, b - 1)
    redis.call('HDEL', KEYS[1], 'ol')
  end
end
if #values == 1 then redis.call('HDEL', KEYS[1], 'ol') end
return {1, #values - 1, og, finished, ch}
`);

// KEYS: s o. ARGV: item id as JSON. Counts the attempt in place; the payload is not re-encoded.
// Returns found, channel.
const RETRY = lua(`${LUA_ID_OF}
for i, v in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  if idOf(v) == ARGV[1] then
    local a = string.find(v, '\\n', 1, true)
    local b = string.find(v, '\\n', a + 1, true)
    local attempts = tonumber(string.sub(v, a + 1, b - 1)) + 1
    redis.call('LSET', KEYS[2], i - 1, string.sub(v, 1, a) .. attempts .. string.sub(v, b))
    redis.call('HDEL', KEYS[1], 'ol')
    return {1, redis.call('HGET', KEYS[1], 'ch') or ''}
  end
end
return {0, ''}
`);

// KEYS: due at. ARGV: member, at.
const TIMER_SET = lua(`
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
`);

// KEYS: due at. ARGV: member.
const TIMER_CANCEL = lua(`
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
`);

// KEYS: due at. ARGV: now, limit, leaseUntil. Returns member, at, ...
const TIMER_LEASE = lua(`
local picked = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for i = 1, #picked, 2 do
  redis.call('ZADD', KEYS[1], 'XX', ARGV[3], picked[i])
  out[#out + 1] = picked[i]
  out[#out + 1] = redis.call('HGET', KEYS[2], picked[i]) or picked[i + 1]
end
return out
`);

// KEYS: due at. ARGV: member, at. See the ack rule above.
const TIMER_ACK = lua(`
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
end
`);

// KEYS: lock. ARGV: token, ttlMs.
const LOCK_EXTEND = lua(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`);

// KEYS: lock. ARGV: token.
const LOCK_RELEASE = lua(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
`);

/** A reply that does not have the shape a script promises: a bug or foreign data, not an outage. */
class UnexpectedReply extends Error {
  constructor(what: string, reply: unknown) {
    super(`redis store: unexpected reply to ${what}: ${JSON.stringify(reply)}`);
    this.name = 'UnexpectedReply';
  }
}

function list(what: string, reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw new UnexpectedReply(what, reply);
  return reply;
}

function text(what: string, reply: unknown): string {
  if (typeof reply === 'string') return reply;
  if (typeof reply === 'number') return String(reply);
  throw new UnexpectedReply(what, reply);
}

function count(what: string, reply: unknown): number {
  const n = typeof reply === 'string' ? Number(reply) : reply;
  if (typeof n !== 'number' || Number.isNaN(n)) throw new UnexpectedReply(what, reply);
  return n;
}

const SPEAKERS: readonly Speaker[] = ['customer', 'bot', 'agent', 'system'];

/** `[from, text, at, messageId, by, imageUrl]` with trailing absent fields dropped. */
function encodeEntry(entry: TranscriptEntry): string {
  const fields: (string | null)[] = [
    entry.from,
    entry.text,
    entry.at,
    entry.messageId ?? null,
    entry.by ?? null,
    entry.imageUrl ?? null,
  ];
  while (fields[fields.length - 1] === null) fields.pop();
  return JSON.stringify(fields);
}

function decodeEntry(line: string): TranscriptEntry {
  const fields: unknown = JSON.parse(line);
  if (!Array.isArray(fields)) throw new UnexpectedReply('transcript', line);
  const [from, said, at, messageId, by, imageUrl] = fields as unknown[];
  if (!SPEAKERS.includes(from as Speaker) || typeof said !== 'string' || typeof at !== 'string') {
    throw new UnexpectedReply('transcript', line);
  }
  const entry: TranscriptEntry = { from: from as Speaker, text: said, at };
  if (typeof messageId === 'string') entry.messageId = messageId;
  if (typeof by === 'string') entry.by = by;
  if (typeof imageUrl === 'string') entry.imageUrl = imageUrl;
  return entry;
}

/** The id comes first, alone on its line, so scripts find and edit items without a JSON parser. */
function encodeItem(item: OutboxItem): string {
  return `${JSON.stringify(item.id)}\n${item.attempts}\n${JSON.stringify([item.at, item.ref, item.message])}`;
}

function decodeItem(conversationId: string, value: string): OutboxItem {
  const a = value.indexOf('\n');
  const b = value.indexOf('\n', a + 1);
  if (a < 0 || b < 0) throw new UnexpectedReply('outbox', value);
  const [at, ref, message] = JSON.parse(value.slice(b + 1)) as [string, JsonObject, JsonObject];
  const id = JSON.parse(value.slice(0, a)) as string;
  return { id, conversationId, ref, message, at, attempts: Number(value.slice(a + 1, b)) };
}

/** A delivery log entry: an item's encoding with the delivery time in place of the attempts. */
function decodeDelivery(conversationId: string, value: string): OutboxDelivery {
  const item = decodeItem(conversationId, value);
  return { itemId: item.id, deliveredAt: item.attempts, at: item.at, message: item.message };
}

function timerMember(conversationId: string, name: string): string {
  return JSON.stringify([conversationId, name]);
}

function groupByConversation(items: OutboxItem[]): Map<string, OutboxItem[]> {
  const groups = new Map<string, OutboxItem[]>();
  for (const item of items) {
    const group = groups.get(item.conversationId) ?? [];
    group.push(item);
    groups.set(item.conversationId, group);
  }
  return groups;
}

/** The URL without its password, for messages that end up in logs. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable url)';
  }
}

/** A caller's bug, caught before anything is written. Returns the items' one channel. */
function checkOutboxOwner(conversationId: string, items: OutboxItem[]): string {
  const foreign = items.find((item) => item.conversationId !== conversationId);
  if (foreign) {
    throw new RangeError(`outbox item ${foreign.id} belongs to ${foreign.conversationId}, not ${conversationId}`);
  }
  const channels = new Set(items.map(outboxChannelOf));
  if (channels.size > 1) {
    throw new RangeError(`outbox items of ${conversationId} go out on several channels: ${[...channels].join(', ')}`);
  }
  const [channel = ''] = channels;
  // The channel names a hash tag: braces would move it to another slot.
  if (!/^[\w-]*$/.test(channel)) throw new RangeError(`outbox channel must be letters, digits, _ or -: ${channel}`);
  return channel;
}

/** Everything except "this is wrong" (our own conflicts, script or type errors) means "not now". */
function asStoreError(what: string, error: unknown): unknown {
  if (error instanceof VersionConflict || error instanceof StoreUnavailable) return error;
  if (error instanceof UnexpectedReply || error instanceof SyntaxError) return error;
  if (error instanceof RangeError || error instanceof TypeError) return error;
  if (error instanceof ErrorReply && !TRANSIENT_REPLY.test(error.message)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreUnavailable(`redis ${what}: ${reason}`, { cause: error });
}

/**
 * Connects to Redis at `url` and returns the store. Rejects with StoreUnavailable when Redis
 * cannot be reached within a few seconds. `keyPrefix` (default `bot:`) separates deployments or
 * test files sharing one Redis; it must not contain braces (they would break the hash tags).
 * Once connected, every call fails with StoreUnavailable within about two seconds while Redis
 * is down, and the client reconnects in the background.
 */
export async function createRedisStore(url: string, opts: { keyPrefix?: string } = {}): Promise<Store> {
  const prefix = opts.keyPrefix ?? 'bot:';
  if (/[{}]/.test(prefix)) throw new RangeError(`keyPrefix must not contain braces: ${prefix}`);

  let connectedOnce = false;
  let closing = false;
  const client = createClient({
    url,
    // Fail fast while disconnected instead of queueing commands for a Redis that may never return.
    disableOfflineQueue: true,
    // Every store call has its own time limit (guarded); a second one per command (an
    // AbortSignal.timeout each) cost a tenth of a turn's time in the benchmark.
    commandOptions: { timeout: 0 },
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectStrategy: (retries, cause) => {
        if (closing) return false;
        // At start-up a wrong URL or a missing Redis should stop the start, not spin.
        if (!connectedOnce) return retries >= 2 ? cause : 100;
        return Math.min(50 * 2 ** retries, RECONNECT_MAX_MS) + Math.floor(Math.random() * 50);
      },
    },
  });
  // Without a listener an 'error' event would crash the process; each failing call reports it.
  client.on('error', () => undefined);
  client.on('ready', () => {
    connectedOnce = true;
  });

  let startTimer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise<never>((_, reject) => {
        startTimer = setTimeout(() => reject(new Error('connect timed out')), 3 * CONNECT_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    closing = true;
    client.destroy();
    const reason = error instanceof Error ? error.message : String(error);
    throw new StoreUnavailable(`redis at ${redacted(url)} unreachable: ${reason}`, { cause: error });
  } finally {
    clearTimeout(startTimer);
  }

  /** Runs one store call with the time limit and the error mapping every call needs. */
  async function guarded<T>(what: string, call: () => Promise<T>): Promise<T> {
    // Also keeps a late subscribe from opening a fresh connection after close().
    if (closing) throw new StoreUnavailable(`redis ${what}: store closed`);
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        call(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new StoreUnavailable(`redis ${what}: no answer within ${CALL_TIMEOUT_MS} ms`)),
            CALL_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (error) {
      throw asStoreError(what, error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Scripts given as source (the reports'), hashed once, so they run by EVALSHA too. */
  const scripts = new Map<string, LuaScript>();
  function scriptOf(source: string): LuaScript {
    let script = scripts.get(source);
    if (!script) scripts.set(source, (script = lua(source)));
    return script;
  }

  async function run(script: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
    const options = { keys, arguments: args.map(String) };
    try {
      return await client.evalSha(script.sha, options);
    } catch (error) {
      // The script cache is empty after a Redis restart; EVAL loads it again.
      if (error instanceof ErrorReply && error.message.startsWith('NOSCRIPT')) {
        return client.eval(script.source, options);
      }
      throw error;
    }
  }

  const keys = {
    conversation(id: string): [string, string, string, string, string] {
      const tag = `${prefix}{c:${id}}`;
      return [`${tag}:s`, `${tag}:t`, `${tag}:m`, `${tag}:o`, `${tag}:d`];
    },
    /** A channel's due index and announcements, in one slot. */
    outbox: (channel: string): [string, string] => [`${prefix}{outbox:${channel}}:due`, `${prefix}{outbox:${channel}}:gen`],
    outboxChannels: `${prefix}{outbox}:channels`,
    timersDue: `${prefix}{timers}:due`,
    timersAt: `${prefix}{timers}:at`,
    /** A conversation's turn lock lives with it (same hash tag), so its scripts can take and free it. */
    turnLock: (conversationId: string) => `${prefix}{c:${conversationId}}:l`,
    lock: (key: string) => (key.startsWith(TURN_LOCK_PREFIX) ? keys.turnLock(key.slice(TURN_LOCK_PREFIX.length)) : `${prefix}{lock:${key}}`),
    channel: (topic: string) => `${prefix}bus:${topic}`,
  };

  /** Channels this process has seen registered; the registry only grows, so once is enough. */
  const registered = new Set<string>();

  /** Step one of every outbox write: make sure the index will find the conversation. */
  async function announce(conversationId: string, channel: string): Promise<string> {
    if (!registered.has(channel)) {
      await client.sAdd(keys.outboxChannels, channel);
      registered.add(channel);
    }
    const nonce = randomBytes(8).toString('hex');
    const wallNow = Date.now();
    await run(ANNOUNCE, keys.outbox(channel), [conversationId, `${nonce}|${wallNow}`, wallNow]);
    return nonce;
  }

  async function removeIfSettled(conversationId: string, channel: string, og: string): Promise<void> {
    await run(REMOVE_IF_SETTLED, keys.outbox(channel), [conversationId, og, Date.now(), STALE_ANNOUNCE_MS]);
  }

  /** What ACK returns, after it removed an item (delivered or not). */
  async function settleAck(conversationId: string, reply: unknown[]): Promise<boolean> {
    const [found, left, og, finished, channel] = reply;
    const ch = text('ack', channel);
    if (count('ack', left) === 0) {
      await removeIfSettled(conversationId, ch, text('ack', og));
      return count('ack', found) === 1;
    }
    const lease = text('ack', finished);
    if (count('ack', found) === 1 && lease !== '') {
      // The holder delivered all it leased: the rest is due as it was before the lease.
      const [leaseUntil = '', before = ''] = lease.split('|');
      await run(END_LEASE, [keys.outbox(ch)[0]], [conversationId, leaseUntil, before]);
    }
    return count('ack', found) === 1;
  }

  /** Leases one channel's due conversations; see `OutboxStore.lease`. */
  async function leaseChannel(channel: string, now: number, wanted: number, leaseMs: number): Promise<OutboxItem[]> {
    const leased: OutboxItem[] = [];
    const [due] = keys.outbox(channel);
    const leaseUntil = now + leaseMs;
    const visited = new Set<string>();
    // More rounds only when index entries of emptied lists took places in the last one.
    for (let round = 0; round < 3 && leased.length < wanted; round += 1) {
      const picked = list('lease', await run(LEASE_CONVERSATIONS, [due], [now, wanted - leased.length, leaseUntil]));
      let emptied = false;
      for (let i = 0; i + 1 < picked.length; i += 2) {
        const conversationId = text('lease', picked[i]);
        const before = text('lease', picked[i + 1]);
        if (visited.has(conversationId)) continue;
        visited.add(conversationId);
        const budget = wanted - leased.length;
        if (budget <= 0) {
          // Picked, but others filled the limit: it stays due as it was.
          await run(END_LEASE, [due], [conversationId, leaseUntil, before]);
          continue;
        }
        const [state, , , queue] = keys.conversation(conversationId);
        const [og, ...values] = list(
          'lease',
          await run(READ_LEASED, [state, queue], [budget, leaseUntil, before, CONVERSATION_TTL_S]),
        );
        if (values.length === 0) {
          emptied = true;
          await removeIfSettled(conversationId, channel, text('lease', og));
          continue;
        }
        for (const value of values) leased.push(decodeItem(conversationId, text('lease', value)));
      }
      if (!emptied || leaseMs <= 0) break;
    }
    return leased;
  }

  const conversations: ConversationStore = {
    load: (conversationId) =>
      guarded('load', async () => {
        const [state] = keys.conversation(conversationId);
        const [version, json] = await client.hmGet(state, ['v', 's']);
        if (version == null || json == null) return null;
        return { version: Number(version), state: JSON.parse(json) as JsonObject };
      }),

    seen: (conversationId, messageId) =>
      guarded('seen', async () => {
        const [, , seen] = keys.conversation(conversationId);
        return (await client.zScore(seen, messageId)) !== null;
      }),

    beginTurn: (conversationId, messageId, token, ttlMs) =>
      guarded('beginTurn', async () => {
        const [state, transcript, seen] = keys.conversation(conversationId);
        const reply = list('beginTurn', await run(BEGIN_TURN, [state, transcript, seen, keys.turnLock(conversationId)], [messageId, token, Math.max(1, Math.ceil(ttlMs))]));
        const kind = count('beginTurn', reply[0]);
        if (kind === 2) return { kind: 'busy' as const };
        if (kind === 1) return { kind: 'seen' as const };
        const [, version, json] = reply;
        if (typeof version !== 'string' || typeof json !== 'string' || version === '' || json === '') return { kind: 'ready' as const, saved: null };
        return { kind: 'ready' as const, saved: { version: Number(version), state: JSON.parse(json) as JsonObject } };
      }),

    commit: (turn) =>
      guarded('commit', async () => {
        const { conversationId } = turn;
        const channel = checkOutboxOwner(conversationId, turn.outbox);
        // The index entry first, never after: see the outbox rule at the top.
        const nonce = turn.outbox.length > 0 ? await announce(conversationId, channel) : '';
        const reply = list(
          'commit',
          await run(COMMIT, [...keys.conversation(conversationId), keys.turnLock(conversationId)], [
            turn.expectedVersion,
            JSON.stringify(turn.state),
            turn.messageId ?? '',
            nonce,
            CONVERSATION_TTL_S,
            TRANSCRIPT_LIMIT,
            SEEN_LIMIT,
            channel,
            turn.transcript.length,
            turn.unlock ?? '',
            ...turn.transcript.map(encodeEntry),
            ...turn.outbox.map(encodeItem),
          ]),
        );
        const version = count('commit', reply[1]);
        if (count('commit', reply[0]) === 1) return { version };
        // Our announcement may have created an entry for an empty list; tidy it at once.
        if (nonce !== '' && count('commit', reply[2]) === 0) await removeIfSettled(conversationId, channel, nonce);
        throw new VersionConflict(conversationId, turn.expectedVersion, version);
      }),

    appendTranscript: (conversationId, entries) =>
      guarded('appendTranscript', async () => {
        if (entries.length === 0) return;
        await run(APPEND_TRANSCRIPT, keys.conversation(conversationId), [
          CONVERSATION_TTL_S,
          TRANSCRIPT_LIMIT,
          ...entries.map(encodeEntry),
        ]);
      }),

    transcript: (conversationId, limit = TRANSCRIPT_LIMIT) =>
      guarded('transcript', async () => {
        // LRANGE -0 -1 would mean "everything".
        if (limit < 1) return [];
        const [, transcript] = keys.conversation(conversationId);
        const lines = await client.lRange(transcript, -Math.floor(limit), -1);
        return lines.map(decodeEntry);
      }),
  };

  const outbox: OutboxStore = {
    enqueue: (items) =>
      guarded('enqueue', async () => {
        const groups = groupByConversation(items);
        const channels = new Map([...groups].map(([conversationId, group]) => [conversationId, checkOutboxOwner(conversationId, group)]));
        for (const [conversationId, group] of groups) {
          const channel = channels.get(conversationId) ?? '';
          const nonce = await announce(conversationId, channel);
          await run(ENQUEUE, keys.conversation(conversationId), [
            nonce,
            CONVERSATION_TTL_S,
            channel,
            ...group.map(encodeItem),
          ]);
        }
      }),

    lease: (now, limit, leaseMs, channels) =>
      guarded('lease', async () => {
        const leased: OutboxItem[] = [];
        const wanted = Math.floor(limit);
        if (wanted <= 0) return leased;
        const from = channels ?? (await client.sMembers(keys.outboxChannels)).sort();
        for (const channel of from) {
          if (leased.length >= wanted) break;
          leased.push(...(await leaseChannel(channel, now, wanted - leased.length, leaseMs)));
        }
        return leased;
      }),

    ack: (conversationId, itemId) =>
      guarded('ack', async () => {
        const [state, , , queue, log] = keys.conversation(conversationId);
        const reply = list('ack', await run(ACK, [state, queue, log], [JSON.stringify(itemId), '', CONVERSATION_TTL_S, DELIVERY_LOG_LIMIT]));
        await settleAck(conversationId, reply);
      }),

    delivered: (conversationId, itemId, deliveredAt) =>
      guarded('delivered', async () => {
        const [state, , , queue, log] = keys.conversation(conversationId);
        const reply = list(
          'delivered',
          await run(ACK, [state, queue, log], [JSON.stringify(itemId), Math.floor(deliveredAt), CONVERSATION_TTL_S, DELIVERY_LOG_LIMIT]),
        );
        return settleAck(conversationId, reply);
      }),

    retry: (conversationId, itemId, retryAt) =>
      guarded('retry', async () => {
        const [state, , , queue] = keys.conversation(conversationId);
        const [found, channel] = list('retry', await run(RETRY, [state, queue], [JSON.stringify(itemId)]));
        if (count('retry', found) === 1) {
          await client.zAdd(keys.outbox(text('retry', channel))[0], { score: retryAt, value: conversationId });
        }
      }),

    pending: (conversationId) =>
      guarded('pending', async () => {
        const [, , , queue] = keys.conversation(conversationId);
        const values = await client.lRange(queue, 0, -1);
        return values.map((value) => decodeItem(conversationId, value));
      }),

    deliveries: (conversationId, limit = DELIVERY_LOG_LIMIT) =>
      guarded('deliveries', async () => {
        // LRANGE -0 -1 would mean "everything".
        if (limit < 1) return [];
        const [, , , , log] = keys.conversation(conversationId);
        const values = await client.lRange(log, -Math.floor(limit), -1);
        return values.map((value) => decodeDelivery(conversationId, value));
      }),
  };

  const timers: TimerStore = {
    set: (timer: DueTimer) =>
      guarded('timers.set', async () => {
        if (!Number.isFinite(timer.at)) throw new RangeError(`timer ${timer.name}: at must be finite`);
        await run(
          TIMER_SET,
          [keys.timersDue, keys.timersAt],
          [timerMember(timer.conversationId, timer.name), String(timer.at)],
        );
      }),

    cancel: (conversationId, name) =>
      guarded('timers.cancel', async () => {
        await run(TIMER_CANCEL, [keys.timersDue, keys.timersAt], [timerMember(conversationId, name)]);
      }),

    lease: (now, limit, leaseMs) =>
      guarded('timers.lease', async () => {
        if (limit < 1) return [];
        const reply = list(
          'timers.lease',
          await run(TIMER_LEASE, [keys.timersDue, keys.timersAt], [now, Math.floor(limit), now + leaseMs]),
        );
        const due: DueTimer[] = [];
        for (let i = 0; i + 1 < reply.length; i += 2) {
          const [conversationId, name] = JSON.parse(text('timers.lease', reply[i])) as [string, string];
          due.push({ conversationId, name, at: Number(text('timers.lease', reply[i + 1])) });
        }
        return due;
      }),

    ack: (timer) =>
      guarded('timers.ack', async () => {
        await run(
          TIMER_ACK,
          [keys.timersDue, keys.timersAt],
          [timerMember(timer.conversationId, timer.name), String(timer.at)],
        );
      }),
  };

  const locks: LockStore = {
    tryAcquire: (key, ttlMs) =>
      guarded('locks.tryAcquire', async () => {
        const token = randomUUID();
        const reply = await client.set(keys.lock(key), token, {
          condition: 'NX',
          expiration: { type: 'PX', value: Math.max(1, Math.ceil(ttlMs)) },
        });
        return reply === 'OK' ? token : null;
      }),

    extend: (key, token, ttlMs) =>
      guarded('locks.extend', async () => {
        const reply = await run(LOCK_EXTEND, [keys.lock(key)], [token, Math.max(1, Math.ceil(ttlMs))]);
        return count('locks.extend', reply) === 1;
      }),

    release: (key, token) =>
      guarded('locks.release', async () => {
        await run(LOCK_RELEASE, [keys.lock(key)], [token]);
      }),
  };

  // Subscriptions need a connection of their own; it is opened at the first subscribe.
  const subscriber = client.duplicate();
  subscriber.on('error', () => undefined);
  let subscriberReady: Promise<void> | undefined;
  /** One Redis subscription per topic, shared by all its handlers. */
  interface TopicSubscription {
    handlers: Set<(payload: JsonObject) => void>;
    subscribed: Promise<void>;
    unsubscribe(): Promise<void>;
  }
  const topics = new Map<string, TopicSubscription>();

  async function connectSubscriber(): Promise<void> {
    // Kept when it outlives a call's time limit: the next subscribe waits on the same attempt.
    subscriberReady ??= subscriber.connect().then(
      () => undefined,
      (error: unknown) => {
        subscriberReady = undefined;
        throw error;
      },
    );
    await subscriberReady;
  }

  function subscribeTopic(topic: string): TopicSubscription {
    const existing = topics.get(topic);
    if (existing) return existing;
    const handlers = new Set<(payload: JsonObject) => void>();
    const listener = (message: string): void => {
      for (const handler of handlers) {
        try {
          handler(JSON.parse(message) as JsonObject);
        } catch {
          // A handler owns its errors; one failing must not stop the others.
        }
      }
    };
    const entry: TopicSubscription = {
      handlers,
      subscribed: connectSubscriber().then(() => subscriber.subscribe(keys.channel(topic), listener)),
      unsubscribe: () => subscriber.unsubscribe(keys.channel(topic), listener),
    };
    topics.set(topic, entry);
    entry.subscribed.catch(() => {
      // Failed: forget it, so the next subscribe tries again.
      if (topics.get(topic) === entry) topics.delete(topic);
    });
    return entry;
  }

  const bus: EventBus = {
    publish: (topic, payload) =>
      guarded('publish', async () => {
        await client.publish(keys.channel(topic), JSON.stringify(payload));
      }),

    subscribe: (topic, handler) =>
      guarded('subscribe', async () => {
        let entry = subscribeTopic(topic);
        await entry.subscribed;
        // Its last handler may have left while we waited; that subscription is going away.
        while (topics.get(topic) !== entry) {
          entry = subscribeTopic(topic);
          await entry.subscribed;
        }
        const current = entry;
        // A wrapper per subscription, so subscribing one function twice needs two unsubscribes.
        const subscription = (payload: JsonObject): void => handler(payload);
        current.handlers.add(subscription);
        return async () => {
          // close() has dropped every subscription already.
          if (closing) return;
          await guarded('unsubscribe', async () => {
            if (!current.handlers.delete(subscription) || current.handlers.size > 0) return;
            if (topics.get(topic) === current) topics.delete(topic);
            await current.unsubscribe();
          });
        };
      }),
  };

  async function quit(redis: typeof client): Promise<void> {
    if (!redis.isOpen) return;
    if (!redis.isReady) {
      // Connecting or reconnecting: there is nothing to say goodbye to.
      redis.destroy();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        redis.close(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('close timed out')), CALL_TIMEOUT_MS);
        }),
      ]);
    } catch {
      redis.destroy();
    } finally {
      clearTimeout(timer);
    }
  }

  const docs = createRedisDocuments({
    prefix,
    guarded,
    eval: (source, keys, args) => client.eval(source, { keys, arguments: args }),
  });

  return {
    kind: 'redis',
    conversations,
    outbox,
    timers,
    locks,
    bus,
    docs,
    reports: createRedisReports({ prefix, guarded, eval: (source, keys, args) => run(scriptOf(source), keys, args) }),

    async ping() {
      try {
        return (await guarded('ping', () => client.ping())) === 'PONG';
      } catch {
        return false;
      }
    },

    async close() {
      closing = true;
      topics.clear();
      await Promise.all([quit(subscriber), quit(client)]);
    },
  };
}
