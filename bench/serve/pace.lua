-- wrk script: each connection waits `delay_ms` (env SERVE_BENCH_DELAY_MS)
-- before each request, to hold the load near a chosen rate (wrk has no
-- fixed-rate mode).
local d = tonumber(os.getenv("SERVE_BENCH_DELAY_MS") or "0")
function delay()
  return d
end
