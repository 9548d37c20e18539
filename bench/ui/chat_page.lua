-- wrk script: GET /chats/{id} (the chat page) with a session cookie (env: CHAT_ID, COOKIE).
wrk.method = "GET"
wrk.path = "/chats/" .. os.getenv("CHAT_ID")
wrk.headers["Cookie"] = os.getenv("COOKIE")
local lib = os.getenv("BENCH_LIB")  -- bench/lib: PACE_MS pacing (see pace.lua)
if lib then dofile(lib .. "/pace.lua") end
