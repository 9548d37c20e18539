-- wrk script: POST /v1/chats/{id}/messages (env: TOKEN, OWNER, CHAT_ID); each request a new message
-- with its own client key (thread id + counter), so every request inserts one row. With CHAT_IDS
-- (ids separated by ','), each request goes to one of those chats at random instead.
local chats = {}
for id in string.gmatch(os.getenv("CHAT_IDS") or "", "[^,]+") do chats[#chats + 1] = id end
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
  local chat = #chats > 0 and chats[math.random(#chats)] or os.getenv("CHAT_ID")
  return wrk.format("POST", "/v1/chats/" .. chat .. "/messages", {
    ["Authorization"] = "Bearer " .. os.getenv("TOKEN"),
    ["X-Parley-Owner"] = os.getenv("OWNER"),
    ["Content-Type"] = "application/json",
  }, body)
end
local lib = os.getenv("BENCH_LIB")  -- bench/lib: PACE_MS pacing (see pace.lua)
if lib then dofile(lib .. "/pace.lua") end
