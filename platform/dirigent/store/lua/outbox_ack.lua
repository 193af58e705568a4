-- Forget produced outbox entries and re-arm their step timeouts, under the fence.
-- A timer is re-armed only if it still exists (ZADD XX): a reply may have cancelled it.
--
-- KEYS: 1 fence, 2 outbox (stream), 3 timers (zset)
-- ARGV: 1 token, 2 n entry ids, then n entry ids, then (timer id, due at) pairs
-- Returns: {'OK'} | {'FENCED', current}

local token = redis.call('GET', KEYS[1])
if token ~= ARGV[1] then
  return {'FENCED', token or ''}
end
local n = tonumber(ARGV[2])
for i = 3, 2 + n do
  redis.call('XDEL', KEYS[2], ARGV[i])
end
for i = 3 + n, #ARGV, 2 do
  redis.call('ZADD', KEYS[3], 'XX', ARGV[i + 1], ARGV[i])
end
return {'OK'}
