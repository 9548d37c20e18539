#include <boost/json.hpp>

#include "net/http.hpp"
#include "tools/loadtest/scenarios.hpp"

namespace parley::tools::loadtest {
namespace asio = boost::asio;
namespace json = boost::json;
using net::ClientRequest;
using net::Method;

namespace {

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// A browser's state for one UI user: the session cookie and the page's CSRF token.
struct Browser {
  std::string cookie;  // "parley_session=..."
  std::string csrf;

  void absorb(const net::Headers& headers) {
    for (const auto& h : headers)
      if (net::iequals(h.name, "Set-Cookie")) cookie = h.value.substr(0, h.value.find(';'));
  }
  void find_csrf(std::string_view html) {
    constexpr std::string_view kField = "name=\"csrf\" value=\"";
    auto at = html.find(kField);
    if (at == std::string_view::npos) return;
    at += kField.size();
    auto end = html.find('"', at);
    if (end != std::string_view::npos) csrf = std::string(html.substr(at, end - at));
  }
  ClientRequest get(const RunContext& ctx, const std::string& path) const {
    ClientRequest r{.method = Method::get, .url = ctx.url(path)};
    if (!cookie.empty()) r.headers = {{"Cookie", cookie}};
    return r;
  }
  ClientRequest post(const RunContext& ctx, const std::string& path, std::string form) const {
    ClientRequest r{.method = Method::post, .url = ctx.url(path)};
    r.body = "csrf=" + net::percent_encode(csrf) + (form.empty() ? "" : "&" + form);
    r.content_type = "application/x-www-form-urlencoded";
    if (!cookie.empty()) r.headers = {{"Cookie", cookie}};
    return r;
  }
};

}  // namespace

asio::awaitable<void> run_chat_user(RunContext& ctx, int /*user*/, std::mt19937_64& rng) {
  const LoadOptions& o = ctx.options;
  Browser browser;
  while (!ctx.stopping) {
    if (browser.csrf.empty()) {
      auto home = co_await ctx.send("GET /", browser.get(ctx, "/"));
      if (!home) {
        co_await ctx.think_exactly(0.05);
        continue;
      }
      browser.absorb(home->headers);
      browser.find_csrf(home->body);
      if (browser.csrf.empty())
        throw std::runtime_error("GET / returned no CSRF token: is this a Parley UI?");
    }
    auto created = co_await ctx.send("POST /chats", browser.post(ctx, "/chats", ""));
    if (!created) {
      browser.csrf.clear();  // a new session next time
      co_await ctx.think_exactly(0.05);
      continue;
    }
    browser.absorb(created->headers);
    std::string chat(created->header("Location"));
    if (created->status != 303 || chat.rfind("/chats/", 0) != 0)
      throw std::runtime_error("POST /chats answered " + std::to_string(created->status) +
                               " without a chat location");

    for (int turn = 1; turn <= o.turns && !ctx.stopping; ++turn) {
      co_await ctx.think(rng, o.think_s);  // typing
      if (ctx.stopping) break;
      ClientRequest r = browser.post(ctx, chat + "/messages",
                                     "content=" + net::percent_encode(random_words(rng, o.prompt_tokens)));
      r.headers.push_back({"Accept", "text/event-stream"});
      GenerationSample g;
      g.turn = turn;
      g.start = Clock::now();
      Clock::time_point last{};
      auto on_event = [&](const net::SseEvent& e, bool& end) {
        if (e.event == "piece") {
          auto now = Clock::now();
          if (!g.got_first_token) {
            g.got_first_token = true;
            g.first_token = now;
          } else {
            g.inter_token_s.push_back(seconds(now - last));
          }
          last = now;
          ++g.pieces;
        } else if (e.event == "done") {
          end = true;
        } else if (e.event == "error") {
          return false;
        }
        return true;
      };
      StreamOutcome out = co_await stream_sse(ctx, "POST /chats/{id}/messages", std::move(r), on_event);
      if (out.cut_short) {
        ctx.recorder.cut_short();
        co_return;
      }
      if (!out.ok) break;
      g.end = Clock::now();
      ctx.recorder.generation(std::move(g));
      auto page = co_await ctx.send("GET /chats/{id}", browser.get(ctx, chat));  // the reload
      if (page) browser.absorb(page->headers);
    }
    co_await ctx.think(rng, o.think_s);
  }
}

}  // namespace parley::tools::loadtest
