// The simulated users of each scenario: one coroutine per user, looping until ctx.stopping.
//
//   db:   the db-api /v1 routes as one owner per user: a chat is created, then a read/write mix
//         (60% GET /v1/chats/{id}, 10% GET /v1/chats?limit=20, 25% POST .../messages, 5% PATCH
//         the title); after 20 messages the user starts a new chat (reads stay bounded).
//   lm:   OpenAI streaming requests (stream_options.include_usage) with a random-word prompt of
//         about P tokens and "max_tokens": M; with --turns K the user resends the growing
//         conversation K times (chat/completions), so later turns can reuse the cached prefix.
//   chat: a person in the UI: GET / (session cookie, CSRF token), POST /chats, then K messages
//         streamed as SSE (Accept: text/event-stream) read to the end, each followed by a reload
//         of the chat page, with think time between.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <random>
#include <string>

#include "net/client.hpp"
#include "net/sse.hpp"
#include "tools/loadtest/runner.hpp"

namespace parley::tools::loadtest {

boost::asio::awaitable<void> run_user(RunContext& ctx, int user, std::mt19937_64& rng);

boost::asio::awaitable<void> run_db_user(RunContext& ctx, int user, std::mt19937_64& rng);
boost::asio::awaitable<void> run_lm_user(RunContext& ctx, int user, std::mt19937_64& rng);
boost::asio::awaitable<void> run_chat_user(RunContext& ctx, int user, std::mt19937_64& rng);

// One streamed (SSE) request: sends it, feeds every event to `on_event` as it arrives, and records
// the request under `endpoint` when it ends. `on_event` returns false for an error event. The
// stream must end with an event for which `is_end` was set, else it is a broken stream.
struct StreamOutcome {
  bool ok = false;         // 200 and ended properly
  bool cut_short = false;  // cancelled at the end of the run (recorded as neither)
};
boost::asio::awaitable<StreamOutcome> stream_sse(
    RunContext& ctx, std::string endpoint, net::ClientRequest request,
    const std::function<bool(const net::SseEvent&, bool& is_end)>& on_event);

// The first model id of GET /v1/models ("default" when the server lists none).
boost::asio::awaitable<std::string> resolve_model(net::HttpClient& client, std::string base,
                                                  std::string token);

// About `n` tokens of text: random common English words (one BPE token each in most vocabularies,
// " the" style), so that two prompts share no prefix beyond chance.
std::string random_words(std::mt19937_64& rng, int n);

}  // namespace parley::tools::loadtest
