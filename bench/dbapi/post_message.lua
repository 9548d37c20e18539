-- wrk script: POST /v1/chats/{id}/messages (env: TOKEN, OWNER, CHAT_ID); each request a new message
-- with its own client key (thread id + counter), so every request inserts one row.
local counter = 0
local thread_tag = ""
function setup(thread)
  thread:set("tag", tostring(math.random(1, 1e9)))
end
function init(args)
  thread_tag = tag or tostring(math.random(1, 1e9))
end
function request()
  counter = counter + 1
  local body = '{"role":"user","content":"benchmark message ' .. counter ..
               ' with a few words of text in it","client_key":"b' .. thread_tag .. '-' .. counter .. '"}'
  return wrk.format("POST", "/v1/chats/" .. os.getenv("CHAT_ID") .. "/messages", {
    ["Authorization"] = "Bearer " .. os.getenv("TOKEN"),
    ["X-Parley-Owner"] = os.getenv("OWNER"),
    ["Content-Type"] = "application/json",
  }, body)
end
local lib = os.getenv("BENCH_LIB")  -- bench/lib: PACE_MS pacing (see pace.lua)
if lib then dofile(lib .. "/pace.lua") end
