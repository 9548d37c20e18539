// UiService: the web UI (issue 5). Pages and form actions over the two seams, ChatStore and
// Generator; no state of its own beyond the replies being generated right now.
//
//   UiService ui(store, generator, SessionSealer(keys.value()), UiOptions{});
//   net::Router router;
//   ui.add_routes(router);            // the routes below
//   net::run_server(opt, std::move(router), ui.readiness());
//
// Routes (every POST needs the session's CSRF token, form field "csrf" or header X-CSRF-Token):
//   GET  /                          the session's chats, newest first (?cursor= for older ones)
//   POST /chats                     new chat -> 303 /chats/{id}
//   GET  /chats/{id}                the chat page
//   POST /chats/{id}/messages       content=...; stores the message, generates the reply.
//                                   Accept: text/event-stream -> SSE (events user, status, piece,
//                                   done, error); otherwise waits for the reply -> 303 to the chat
//   POST /chats/{id}/regenerate     replaces the last reply (same two modes)
//   POST /chats/{id}/stop           cancels the reply being generated -> 303 (204 for Accept: json)
//   POST /chats/{id}/rename         title=...
//   POST /chats/{id}/settings       system_prompt=..., temperature=0..2 (empty: the model's default)
//   POST /chats/{id}/delete         -> 303 /
//   GET  /static/{path}             CSS/JS embedded from web/static
// A reply is refused, before the user's message is stored, with 409 (this chat has one running),
// 429 + Retry-After (the session's concurrent or per-minute limit) or 503 + Retry-After (the
// replica's stream cap): JSON for the page script, else the chat page with the reason in place.
// Another session's chat is a 404 everywhere. Errors are pages in place (JSON errors for
// requests that asked for a stream), never a bare 500: store/model outages are 503 with a clear
// message. Every response carries CSP (no inline script), nosniff, Referrer-Policy and
// frame-ancestors 'none'.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "llm/generator.hpp"
#include "net/router.hpp"
#include "net/server.hpp"
#include "services/ui/active_generations.hpp"
#include "services/ui/generation_rate_limiter.hpp"
#include "services/ui/pages.hpp"
#include "services/ui/session.hpp"
#include "store/chat_store.hpp"

namespace parley::services::ui {

struct UiOptions {
  int max_generations_per_session = 2;   // concurrent replies of one browser session (beyond: 429)
  int max_generations_total = 1024;      // concurrent replies (streams) of this replica (beyond: 503)
  RateLimit generation_rate;             // replies started per session per minute (beyond: 429)
  std::function<int64_t()> monotonic_ms; // the rate limiter's clock (tests); default: steady_clock
  // lm-api busy (unavailable): retry with exponential backoff from busy_first_backoff (doubling up
  // to 4 s) for at most busy_retry_budget, telling the user "busy, retrying".
  std::chrono::milliseconds busy_first_backoff{500};
  std::chrono::milliseconds busy_retry_budget{20000};
  std::optional<int64_t> max_tokens;     // per reply; unset: the generator's default
  std::string model_label;               // shown in the page header; "" = generator.model_name()
  std::function<int64_t()> clock_s;      // seconds since the epoch (tests); default: system clock
};

class UiService {
 public:
  // Throws std::runtime_error when an embedded template is missing (a broken build).
  UiService(store::ChatStore& store, llm::Generator& generator, SessionSealer sealer, UiOptions options = {});
  ~UiService();
  UiService(const UiService&) = delete;
  UiService& operator=(const UiService&) = delete;

  void add_routes(net::Router& router);
  // /readyz: the store answers and the generator can start a generation.
  net::ReadinessCheck readiness();
  size_t active_generations() const { return generations_.size(); }

  struct Context;  // one request: its session, form, response headers (ui_service.cpp)
  class ReplySink;

 private:
  using Awaitable = boost::asio::awaitable<net::Response>;
  using Member = Awaitable (UiService::*)(Context&);
  void route(net::Router& router, net::Method method, const char* pattern, Member handler, bool state_changing);
  Awaitable dispatch(net::Request& req, Member handler, bool state_changing);

  Awaitable home(Context& ctx);
  Awaitable new_chat(Context& ctx);
  Awaitable chat_page(Context& ctx);
  Awaitable post_message(Context& ctx);
  Awaitable regenerate(Context& ctx);
  Awaitable stop(Context& ctx);
  Awaitable rename(Context& ctx);
  Awaitable settings(Context& ctx);
  Awaitable delete_chat(Context& ctx);
  net::Response static_file(net::Request& req) const;

  struct ReplyOutcome;
  // Generates the reply to `chat` (history ends with the user's message), streams it to `sink`,
  // stores it (appended, or replacing `replace_id`), and reports what happened.
  boost::asio::awaitable<ReplyOutcome> run_reply(Context& ctx, const store::ChatWithMessages& chat,
                                                 std::optional<std::string> replace_id, ReplySink& sink,
                                                 ActiveGeneration& slot);
  // Starts a reply after the history is ready: SSE or wait-then-redirect.
  Awaitable respond_with_reply(Context& ctx, const store::ChatWithMessages& chat,
                               std::optional<std::string> replace_id, std::shared_ptr<ActiveGeneration> slot,
                               const std::optional<store::Message>& user_message);

  net::Response error_response(Context& ctx, const Error& error, std::string_view back) const;
  // A reply refused by a limit (409 running, 429 session limits, 503 replica full): JSON with
  // Retry-After for the page script, else the chat page with the message in place.
  net::Response refused(Context& ctx, const store::ChatWithMessages& chat, const Error& error,
                        int64_t retry_after_s) const;
  // Takes the session's generation slot and a token of its rate limit (ui_replies.cpp).
  Result<std::shared_ptr<ActiveGeneration>> start_generation(Context& ctx, const std::string& chat_id,
                                                             int64_t& retry_after_s);
  net::Response redirect(Context& ctx, std::string location) const;
  net::Headers response_headers(Context& ctx) const;
  int64_t now_s() const;

  store::ChatStore& store_;
  llm::Generator& generator_;
  SessionSealer sealer_;
  UiOptions options_;
  Pages pages_;
  ActiveGenerations generations_;
  GenerationRateLimiter rate_limiter_;
};

}  // namespace parley::services::ui
