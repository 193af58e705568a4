-- Apply one saga input atomically: fence check, duplicate check, version compare-and-set,
-- state write, status index, outbox append, timers, watermark. All keys share one hash
-- tag (the partition), so this is one call on one Redis Cluster slot.
--
-- KEYS: 1 fence, 2 seen:<message id>, 3 saga:<id>, 4 outbox, 5 timers (zset),
--       6 timer payloads (hash), 7 old status index, 8 new status index, 9 watermark
-- ARGV: 1 token, 2 seen ttl s, 3 expected version, 4 new version ('' = no state write),
--       5 state json, 6 new status, 7 saga id, 8 now (score), 9 terminal ttl s ('' = keep),
--       10 watermark topic ('' = none), 11 watermark offset,
--       12 n outbox, then n records; then n timers as (id, due, json); then n cancels
-- Returns: {'OK'} | {'DUP'} | {'FENCED', current} | {'CONFLICT', current version}

local token = redis.call('GET', KEYS[1])
if token ~= ARGV[1] then
  return {'FENCED', token or ''}
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {'DUP'}
end

if ARGV[4] ~= '' then
  local current = redis.call('HGET', KEYS[3], 'v') or '0'
  if current ~= ARGV[3] then
    return {'CONFLICT', current}
  end
  redis.call('HSET', KEYS[3], 'v', ARGV[4], 's', ARGV[5], 'st', ARGV[6])
  if ARGV[9] ~= '' then
    redis.call('EXPIRE', KEYS[3], tonumber(ARGV[9]))
  else
    -- A saga that is running again (reopened by a late success or an operator) must
    -- not expire with the TTL it got when it ended.
    redis.call('PERSIST', KEYS[3])
  end
  if KEYS[7] ~= KEYS[8] then
    redis.call('ZREM', KEYS[7], ARGV[7])
  end
  redis.call('ZADD', KEYS[8], ARGV[8], ARGV[7])
end

local i = 12
local n = tonumber(ARGV[i])
for j = 1, n do
  redis.call('XADD', KEYS[4], '*', 'r', ARGV[i + j])
end
i = i + n + 1
n = tonumber(ARGV[i])
for j = 0, n - 1 do
  local id, due, doc = ARGV[i + 1 + 3 * j], ARGV[i + 2 + 3 * j], ARGV[i + 3 + 3 * j]
  redis.call('ZADD', KEYS[5], due, id)
  redis.call('HSET', KEYS[6], id, doc)
end
i = i + 3 * n + 1
n = tonumber(ARGV[i])
for j = 1, n do
  redis.call('ZREM', KEYS[5], ARGV[i + j])
  redis.call('HDEL', KEYS[6], ARGV[i + j])
end

redis.call('SET', KEYS[2], '1', 'EX', tonumber(ARGV[2]))
if ARGV[10] ~= '' then
  local seen = tonumber(redis.call('HGET', KEYS[9], ARGV[10]) or '-1')
  if tonumber(ARGV[11]) > seen then
    redis.call('HSET', KEYS[9], ARGV[10], ARGV[11])
  end
end
return {'OK'}
