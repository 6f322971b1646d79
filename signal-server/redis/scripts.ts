/**
 * The cluster's registry as Lua scripts, so that every check-then-write is one
 * atomic step in Redis/Valkey and one round trip. Only commands that Redis 7.0
 * and Valkey 7.2+ both have (ZRANGE BYLEX/BYSCORE/REV, TIME in scripts).
 *
 * Data (P = key prefix, I = an instance id, 16 hex characters):
 *   P instances   ZSET  I → lease expiry (ms, Redis server time)
 *   P owners      HASH  id → I '|' owner record (opaque: e.g. the owner's public key)
 *   P ids         ZSET  every claimed id, score 0: lexicographic = ring order
 *   P reports     HASH  id → the peer's last report (JSON)
 *   P inst:I      SET   the ids instance I claimed
 *   P sig:I       pub/sub channel: signals for peers joined at I
 * An id is owned while its instance's lease runs; an instance renews its
 * lease every third of it, and whoever renews next reaps a lapsed instance's ids.
 *
 * Every script takes the same KEYS (instances, owners, ids, reports, this
 * instance's set) and ARGV[1] = this instance, ARGV[2] = the key prefix.
 */

const PRELUDE = `
local me, P = ARGV[1], ARGV[2]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function ownerOf(record) return record and string.sub(record, 1, #me) end
local function alive(instance)
  local lease = redis.call('ZSCORE', KEYS[1], instance)
  return lease ~= false and lease ~= nil and tonumber(lease) >= now
end
local function drop(id)
  redis.call('HDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
end
-- Up to count ids clockwise after id (wrapping, never id), whether each reported, the predecessor, the total.
local function neighbourhood(id, count)
  local after = redis.call('ZRANGE', KEYS[3], '(' .. id, '+', 'BYLEX', 'LIMIT', 0, count)
  if #after < count then
    local wrapped = redis.call('ZRANGE', KEYS[3], '-', '(' .. id, 'BYLEX', 'LIMIT', 0, count - #after)
    for i = 1, #wrapped do after[#after + 1] = wrapped[i] end
  end
  local reported = {}
  for i = 1, #after do reported[i] = redis.call('HEXISTS', KEYS[4], after[i]) end
  local pred = redis.call('ZRANGE', KEYS[3], '(' .. id, '-', 'BYLEX', 'REV', 'LIMIT', 0, 1)[1]
  if not pred then
    pred = redis.call('ZRANGE', KEYS[3], -1, -1)[1]
    if pred == id then pred = nil end
  end
  return {after, reported, pred or false, redis.call('ZCARD', KEYS[3])}
end
`

/** ARGV[3] id, [4] owner record, [5] neighbourhood size → {'OK', neighbourhood} | {'TAKEN'} | {'LAPSED'} (our own lease ran out). */
export const CLAIM = `${PRELUDE}
local id = ARGV[3]
if not alive(me) then return {'LAPSED'} end
local owner = ownerOf(redis.call('HGET', KEYS[2], id))
if owner and owner ~= me then
  if alive(owner) then return {'TAKEN'} end
  redis.call('SREM', P .. 'inst:' .. owner, id)
end
redis.call('HSET', KEYS[2], id, me .. '|' .. ARGV[4])
redis.call('ZADD', KEYS[3], 0, id)
redis.call('HDEL', KEYS[4], id)
redis.call('SADD', KEYS[5], id)
return {'OK', neighbourhood(id, tonumber(ARGV[5]))}
`

/** ARGV[3] id → 1 when it was ours and is free now. */
export const RELEASE = `${PRELUDE}
local id = ARGV[3]
redis.call('SREM', KEYS[5], id)
if ownerOf(redis.call('HGET', KEYS[2], id)) ~= me then return 0 end
drop(id)
return 1
`

/** ARGV[3] id, [4] report JSON, [5] neighbourhood size → the neighbourhood, or false when the id is not ours (any more). */
export const REPORT = `${PRELUDE}
local id = ARGV[3]
if ownerOf(redis.call('HGET', KEYS[2], id)) ~= me then return false end
redis.call('HSET', KEYS[4], id, ARGV[4])
return neighbourhood(id, tonumber(ARGV[5]))
`

/**
 * ARGV[3] the message header (see relay-message.ts), ARGV[4..] pairs (to,
 * frame): one PUBLISH per owning instance, the header then its entries
 * (to .. frame), newline-separated (JSON text never holds a raw one).
 * Returns {the 1-based pair numbers whose target no live instance owns,
 * pairs (to, owning instance) for the rest} so the caller can publish later
 * signals to those targets directly.
 */
export const RELAY = `${PRELUDE}
local live, out, unknown, learned, seen = {}, {}, {}, {}, {}
for i = 4, #ARGV, 2 do
  local to = ARGV[i]
  local owner = ownerOf(redis.call('HGET', KEYS[2], to))
  if owner and owner ~= me and live[owner] == nil then live[owner] = alive(owner) end
  if owner and owner ~= me and live[owner] then
    local list = out[owner]
    if not list then list = {ARGV[3]}; out[owner] = list end
    list[#list + 1] = to .. ARGV[i + 1]
    if not seen[to] then
      seen[to] = true
      learned[#learned + 1] = to
      learned[#learned + 1] = owner
    end
  else
    unknown[#unknown + 1] = (i - 2) / 2
  end
end
for owner, list in pairs(out) do redis.call('PUBLISH', P .. 'sig:' .. owner, table.concat(list, '\\n')) end
return {unknown, learned}
`

/**
 * ARGV[3] lease ms. Extends our lease, reaps up to 8 lapsed instances.
 * → {1 if our lease was still running else 0, ids in the registry, ids in our set}
 */
export const RENEW = `${PRELUDE}
local known = alive(me)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), me)
local dead = redis.call('ZRANGE', KEYS[1], '-inf', '(' .. now, 'BYSCORE', 'LIMIT', 0, 8)
for _, instance in ipairs(dead) do
  local set = P .. 'inst:' .. instance
  for _, id in ipairs(redis.call('SMEMBERS', set)) do
    if string.sub(redis.call('HGET', KEYS[2], id) or '', 1, #instance) == instance then drop(id) end
  end
  redis.call('DEL', set)
  redis.call('ZREM', KEYS[1], instance)
end
return {known and 1 or 0, redis.call('ZCARD', KEYS[3]), redis.call('SCARD', KEYS[5])}
`

/**
 * ARGV[3] lease ms, ARGV[4..] triples (id, owner record, report JSON or ''):
 * every id this instance holds. Re-claims each that is free, ours, or a
 * lapsed instance's, with its report; forgets whatever else our set holds.
 * → the ids a live instance owns meanwhile.
 */
export const SYNC = `${PRELUDE}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), me)
local keep, conflicts = {}, {}
for i = 4, #ARGV, 3 do
  local id = ARGV[i]
  local owner = ownerOf(redis.call('HGET', KEYS[2], id))
  if owner and owner ~= me and alive(owner) then
    conflicts[#conflicts + 1] = id
  else
    if owner and owner ~= me then
      redis.call('SREM', P .. 'inst:' .. owner, id)
      redis.call('HDEL', KEYS[4], id)
    end
    redis.call('HSET', KEYS[2], id, me .. '|' .. ARGV[i + 1])
    redis.call('ZADD', KEYS[3], 0, id)
    redis.call('SADD', KEYS[5], id)
    if ARGV[i + 2] ~= '' then redis.call('HSET', KEYS[4], id, ARGV[i + 2]) end
    keep[id] = true
  end
end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  if not keep[id] then
    redis.call('SREM', KEYS[5], id)
    if ownerOf(redis.call('HGET', KEYS[2], id)) == me then drop(id) end
  end
end
return conflicts
`

/** A clean shutdown: our ids are free at once, not at the end of the lease. */
export const RESIGN = `${PRELUDE}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  if ownerOf(redis.call('HGET', KEYS[2], id)) == me then drop(id) end
end
redis.call('DEL', KEYS[5])
redis.call('ZREM', KEYS[1], me)
return 1
`
