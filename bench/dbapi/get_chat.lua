-- wrk script: GET /v1/chats/{id} with the service token and owner (env: TOKEN, OWNER, CHAT_ID).
wrk.method = "GET"
wrk.path = "/v1/chats/" .. os.getenv("CHAT_ID")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.headers["X-Parley-Owner"] = os.getenv("OWNER")
-- PACE_MS (optional): after each answer a connection waits a random 0..2*PACE_MS ms (mean PACE_MS)
-- before its next request, so the offered rate is about connections / (PACE_MS + latency) instead
-- of as fast as possible; the randomness keeps the connections from firing in lock-step.
local pace = tonumber(os.getenv("PACE_MS") or "")
if pace and pace > 0 then
  function delay() return math.random(0, 2 * pace) end
end
