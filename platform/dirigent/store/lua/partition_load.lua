-- How loaded one partition is, read-only: for the coordinator's periodic gauges.
--
-- KEYS: 1 outbox (stream), 2 timers (zset)
-- ARGV: 1 now, 2 until, 3 id suffix, 4 most timers to look at
-- Returns: {outbox entries, timers due at now, timers due by until whose id ends with suffix}

local depth = redis.call('XLEN', KEYS[1])
local due = redis.call('ZCOUNT', KEYS[2], '-inf', ARGV[1])
local suffix = ARGV[3]
local n = #suffix
local matching = 0
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[4]))
for i = 1, #ids do
  if string.sub(ids[i], -n) == suffix then
    matching = matching + 1
  end
end
return {depth, due, matching}
