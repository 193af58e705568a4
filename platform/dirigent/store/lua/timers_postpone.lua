-- Move existing timers to a new due time, under the fence. ZADD XX: a timer that was
-- cancelled meanwhile stays cancelled.
--
-- KEYS: 1 fence, 2 timers (zset)
-- ARGV: 1 token, 2 due at, then timer ids
-- Returns: {'OK'} | {'FENCED', current}

local token = redis.call('GET', KEYS[1])
if token ~= ARGV[1] then
  return {'FENCED', token or ''}
end
for i = 3, #ARGV do
  redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[i])
end
return {'OK'}
