-- Apply a batch of saga inputs in order, atomically: the fence is checked once, then
-- each input's duplicate check, version compare-and-set, state write, status index,
-- outbox append, timers and watermark. All keys share one hash tag (the partition), so
-- this is one call on one Redis Cluster slot. An input sees the ones before it (a
-- second input of one saga in the batch expects the version the first one wrote).
--
-- KEYS: 1 fence, 2 outbox (stream), 3 timers (zset), 4 timer payloads (hash),
--       5 watermark, then per input: seen:<message id>, saga:<id>, old status index,
--       new status index
-- ARGV: 1 token, 2 seen ttl s, 3 n inputs, then per input: expected version,
--       new version ('' = no state write), state json, new status, saga id, now (score),
--       terminal ttl s ('' = keep), watermark topic ('' = none), watermark offset,
--       n outbox then n records, n timers then n (id, due, json), n cancels then n ids
-- Returns: {'FENCED', current} | one reply per input, in order:
--          {'OK', outbox entry id...} | {'DUP'} | {'CONFLICT', current version}

local token = redis.call('GET', KEYS[1])
if token ~= ARGV[1] then
  return {'FENCED', token or ''}
end
local seen_ttl = tonumber(ARGV[2])
local replies = {}
local a = 4  -- the next argument
for w = 1, tonumber(ARGV[3]) do
  local k = 5 + 4 * (w - 1)
  local seen, saga, old_index, new_index = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]
  local expected, version, state, status = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local saga_id, now, ttl = ARGV[a + 4], ARGV[a + 5], ARGV[a + 6]
  local wm_topic, wm_offset = ARGV[a + 7], ARGV[a + 8]
  local n_out = tonumber(ARGV[a + 9])
  local out_at = a + 10
  local n_timers = tonumber(ARGV[out_at + n_out])
  local timers_at = out_at + n_out + 1
  local n_cancel = tonumber(ARGV[timers_at + 3 * n_timers])
  local cancel_at = timers_at + 3 * n_timers + 1
  a = cancel_at + n_cancel

  local reply = nil
  if redis.call('EXISTS', seen) == 1 then
    reply = {'DUP'}
  elseif version ~= '' then
    local current = redis.call('HGET', saga, 'v') or '0'
    if current ~= expected then
      reply = {'CONFLICT', current}
    else
      redis.call('HSET', saga, 'v', version, 's', state, 'st', status)
      if ttl ~= '' then
        redis.call('EXPIRE', saga, tonumber(ttl))
      else
        -- A saga that is running again (reopened by a late success or an operator)
        -- must not expire with the TTL it got when it ended.
        redis.call('PERSIST', saga)
      end
      if old_index ~= new_index then
        redis.call('ZREM', old_index, saga_id)
      end
      redis.call('ZADD', new_index, now, saga_id)
    end
  end
  if reply == nil then
    reply = {'OK'}
    for j = 0, n_out - 1 do
      reply[#reply + 1] = redis.call('XADD', KEYS[2], '*', 'r', ARGV[out_at + j])
    end
    for j = 0, n_timers - 1 do
      local id = ARGV[timers_at + 3 * j]
      redis.call('ZADD', KEYS[3], ARGV[timers_at + 3 * j + 1], id)
      redis.call('HSET', KEYS[4], id, ARGV[timers_at + 3 * j + 2])
    end
    for j = 0, n_cancel - 1 do
      redis.call('ZREM', KEYS[3], ARGV[cancel_at + j])
      redis.call('HDEL', KEYS[4], ARGV[cancel_at + j])
    end
    redis.call('SET', seen, '1', 'EX', seen_ttl)
    if wm_topic ~= '' then
      local mark = tonumber(redis.call('HGET', KEYS[5], wm_topic) or '-1')
      if tonumber(wm_offset) > mark then
        redis.call('HSET', KEYS[5], wm_topic, wm_offset)
      end
    end
  end
  replies[w] = reply
end
return replies
