-- Pacing for the wrk scripts (loaded by them when BENCH_LIB is set): with PACE_MS=N, after each answer
-- a connection waits a random 0..2N ms (mean N) before its next request, so the offered rate is about
-- connections / (N ms + latency) instead of as fast as answers come (wrk's closed loop, which measures
-- latency at saturation). The random spread keeps the connections from firing in lock-step. The wait
-- starts after the answer, so a stall also holds back the next requests: tails are, if anything,
-- understated (wrk has no open-loop mode).
local pace = tonumber(os.getenv("PACE_MS") or "")
if pace and pace > 0 then
  function delay() return math.random(0, 2 * pace) end
end
