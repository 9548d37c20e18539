-- wrk script: GET /chats/{id} (the chat page) with a session cookie (env: CHAT_ID, COOKIE).
wrk.method = "GET"
wrk.path = "/chats/" .. os.getenv("CHAT_ID")
wrk.headers["Cookie"] = os.getenv("COOKIE")
-- PACE_MS (optional): after each answer a connection waits a random 0..2*PACE_MS ms (mean PACE_MS)
-- before its next request, so the offered rate is about connections / (PACE_MS + latency) instead
-- of as fast as possible; the randomness keeps the connections from firing in lock-step.
local pace = tonumber(os.getenv("PACE_MS") or "")
if pace and pace > 0 then
  function delay() return math.random(0, 2 * pace) end
end
