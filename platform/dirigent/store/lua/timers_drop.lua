-- Remove timers (schedule and document), under the fence.
--
-- KEYS: 1 fence, 2 timers (zset), 3 timer documents (hash)
-- ARGV: 1 token, then timer ids
-- Returns: {'OK'} | {'FENCED', current}

local token = redis.call('GET', KEYS[1])
if token ~= ARGV[1] then
  return {'FENCED', token or ''}
end
for i = 2, #ARGV do
  redis.call('ZREM', KEYS[2], ARGV[i])
  redis.call('HDEL', KEYS[3], ARGV[i])
end
return {'OK'}
