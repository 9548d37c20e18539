-- wrk script: GET /v1/chats/{id} with the service token and owner (env: TOKEN, OWNER, CHAT_ID).
wrk.method = "GET"
wrk.path = "/v1/chats/" .. os.getenv("CHAT_ID")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.headers["X-Parley-Owner"] = os.getenv("OWNER")
local lib = os.getenv("BENCH_LIB")  -- bench/lib: PACE_MS pacing (see pace.lua)
if lib then dofile(lib .. "/pace.lua") end
