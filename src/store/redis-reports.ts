/**
 * Report counters in Redis: per day D four keys under one hash tag, so one script changes a day
 * atomically (also under Cluster):
 *   P{r:D}:n  hash  counter field → count (HINCRBY)
 *   P{r:D}:u  set   members already counted for a `distinct` counter (kept 3 days)
 *   P{r:D}:s  list  samples, the last 50,000
 *   P{r:D}:q  zset  ranked text → count, the 5,000 most frequent
 * and per subject (a conversation) P{r:m:<subject>}: hash key → `<at ms>|<value>`, plus `@blocked`,
 * expiring a window after its last write. Day keys are kept three years.
 */
import type { ReportChange, ReportDay, ReportStore } from './types.ts';

/** What the reports need of the Redis store: a guarded call and a script runner. */
export interface RedisReportsDeps {
  prefix: string;
  guarded<T>(what: string, call: () => Promise<T>): Promise<T>;
  eval(source: string, keys: string[], args: string[]): Promise<unknown>;
}

const DAY_TTL_S = 3 * 366 * 24 * 3600;
const DISTINCT_TTL_S = 3 * 24 * 3600;

// KEYS: n u s q. ARGV: change as JSON {counters: [[field, by]], distinct: [[member, counter]], samples, ranked}, day ttl, distinct ttl.
const ADD = `
local c = cjson.decode(ARGV[1])
for _, f in ipairs(c.counters) do redis.call('HINCRBY', KEYS[1], f[1], f[2]) end
for _, d in ipairs(c.distinct) do
  if redis.call('SADD', KEYS[2], d[1]) == 1 then redis.call('HINCRBY', KEYS[1], d[2], 1) end
end
if #c.samples > 0 then
  for _, s in ipairs(c.samples) do redis.call('RPUSH', KEYS[3], s) end
  redis.call('LTRIM', KEYS[3], -50000, -1)
  redis.call('EXPIRE', KEYS[3], ARGV[2])
end
if #c.ranked > 0 then
  for _, r in ipairs(c.ranked) do redis.call('ZINCRBY', KEYS[4], 1, r) end
  local n = redis.call('ZCARD', KEYS[4])
  if n > 5000 then redis.call('ZREMRANGEBYRANK', KEYS[4], 0, n - 5001) end
  redis.call('EXPIRE', KEYS[4], ARGV[2])
end
if #c.counters > 0 or #c.distinct > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if #c.distinct > 0 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
return 1
`;

const READ = `return {redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[2], 0, -1), redis.call('ZREVRANGE', KEYS[3], 0, 999, 'WITHSCORES')}`;

/** The time of a remembered value `<at>|<value>`. */
const LUA_AT = `
local function atOf(v)
  local bar = string.find(v, '|', 1, true)
  return tonumber(string.sub(v, 1, bar - 1))
end
`;

// KEYS: memory. ARGV: key, value, at, window.
const REMEMBER = `${LUA_AT}
local at = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local blocked = redis.call('HGET', KEYS[1], '@blocked')
if blocked and at - atOf(blocked) < window then return 'blocked' end
local seen = redis.call('HGET', KEYS[1], ARGV[1])
if seen and at - atOf(seen) < window then return 'repeat' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3] .. '|' .. ARGV[2])
redis.call('PEXPIRE', KEYS[1], window)
return 'first'
`;

// KEYS: memory. ARGV: prefix, at, window.
const BLOCK = `${LUA_AT}
local at = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local all = redis.call('HGETALL', KEYS[1])
local taken = {}
for i = 1, #all, 2 do
  local key, v = all[i], all[i + 1]
  if key ~= '@blocked' and string.sub(key, 1, #ARGV[1]) == ARGV[1] then
    if at - atOf(v) < window then
      local bar = string.find(v, '|', 1, true)
      taken[#taken + 1] = string.sub(v, bar + 1)
    end
    redis.call('HDEL', KEYS[1], key)
  end
end
redis.call('HSET', KEYS[1], '@blocked', ARGV[2] .. '|')
redis.call('PEXPIRE', KEYS[1], window)
return taken
`;

function pairs(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

export function createRedisReports(deps: RedisReportsDeps): ReportStore {
  const dayKeys = (day: string): string[] => ['n', 'u', 's', 'q'].map((k) => `${deps.prefix}{r:${day}}:${k}`);
  const memoryKey = (subject: string): string => `${deps.prefix}{r:m:${subject}}`;
  return {
    async add(day, change: ReportChange) {
      const body = JSON.stringify({
        counters: change.counters,
        distinct: change.distinct.map((d) => [d.member, d.counter]),
        samples: change.samples,
        ranked: change.ranked,
      });
      await deps.guarded('reports.add', () => deps.eval(ADD, dayKeys(day), [body, String(DAY_TTL_S), String(DISTINCT_TTL_S)]));
    },

    async read(days) {
      return Promise.all(days.map(async (day): Promise<ReportDay> => {
        const [n, , s, q] = dayKeys(day);
        const [counters, samples, ranked] = await deps.guarded('reports.read', () => deps.eval(READ, [n!, s!, q!], [])) as [string[], string[], string[]];
        return {
          day,
          counters: Object.fromEntries(pairs(counters).map(([field, count]) => [field, Number(count)])),
          samples,
          ranked: pairs(ranked).map(([text, count]) => [text, Number(count)]),
        };
      }));
    },

    async remember(subject, key, value, at, windowMs) {
      const answer = await deps.guarded('reports.remember', () => deps.eval(REMEMBER, [memoryKey(subject)], [key, value, String(at), String(windowMs)]));
      return answer === 'first' || answer === 'repeat' ? answer : 'blocked';
    },

    async block(subject, prefix, at, windowMs) {
      return await deps.guarded('reports.block', () => deps.eval(BLOCK, [memoryKey(subject)], [prefix, String(at), String(windowMs)])) as string[];
    },
  };
}
