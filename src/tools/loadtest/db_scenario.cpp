#include <boost/json.hpp>

#include "tools/loadtest/scenarios.hpp"

namespace parley::tools::loadtest {
namespace asio = boost::asio;
namespace json = boost::json;
using net::ClientRequest;
using net::Method;

namespace {

constexpr int kMessagesPerChat = 20;

std::string json_text(std::string_view s) { return json::serialize(json::value(json::string(s))); }

}  // namespace

asio::awaitable<void> run_db_user(RunContext& ctx, int user, std::mt19937_64& rng) {
  const std::string owner = "loadtest-" + std::to_string(ctx.options.seed) + "-" + std::to_string(user);
  const std::string auth = "Bearer " + ctx.options.token;
  auto request = [&](Method m, std::string path, std::string body = {}) {
    ClientRequest r{.method = m, .url = ctx.url(path)};
    r.headers = {{"Authorization", auth}, {"X-Parley-Owner", owner}};
    if (!body.empty()) {
      r.body = std::move(body);
      r.content_type = "application/json";
    }
    return r;
  };
  std::uniform_real_distribution<double> pick(0.0, 1.0);
  std::string chat_id;
  int messages = 0;
  while (!ctx.stopping) {
    if (chat_id.empty() || messages >= kMessagesPerChat) {
      auto r =
          co_await ctx.send("POST /v1/chats", request(Method::post, "/v1/chats", R"({"title":"load test"})"));
      if (r) {
        boost::system::error_code ec;
        json::value v = json::parse(r->body, ec);
        if (!ec && v.is_object())
          if (auto* id = v.as_object().if_contains("id"); id && id->is_string())
            chat_id = std::string(id->as_string());
        messages = 0;
      }
    } else {
      double x = pick(rng);
      if (x < 0.60) {
        co_await ctx.send("GET /v1/chats/{id}", request(Method::get, "/v1/chats/" + chat_id));
      } else if (x < 0.70) {
        co_await ctx.send("GET /v1/chats", request(Method::get, "/v1/chats?limit=20"));
      } else if (x < 0.95) {
        std::string body = R"({"role":"user","content":)" + json_text(random_words(rng, 40)) + "}";
        if (co_await ctx.send("POST /v1/chats/{id}/messages",
                              request(Method::post, "/v1/chats/" + chat_id + "/messages", body)))
          ++messages;
      } else {
        std::string body = R"({"title":)" + json_text(random_words(rng, 4)) + "}";
        co_await ctx.send("PATCH /v1/chats/{id}", request(Method::patch, "/v1/chats/" + chat_id, body));
      }
    }
    co_await ctx.think(rng, ctx.options.think_s);
  }
}

asio::awaitable<void> run_user(RunContext& ctx, int user, std::mt19937_64& rng) {
  if (ctx.options.scenario == "db")
    co_await run_db_user(ctx, user, rng);
  else if (ctx.options.scenario == "lm")
    co_await run_lm_user(ctx, user, rng);
  else
    co_await run_chat_user(ctx, user, rng);
}

std::string random_words(std::mt19937_64& rng, int n) {
  static constexpr const char* kWords[] = {
      "the",  "cat",   "sat",  "on",     "a",    "mat",  "and",  "dog",    "ran",  "to",      "big",
      "red",  "house", "in",   "little", "town", "she",  "he",   "was",    "very", "happy",   "day",
      "sun",  "is",    "hot",  "we",     "went", "park", "with", "friend", "play", "ball",    "tree",
      "bird", "sang",  "song", "for",    "all",  "of",   "us",   "one",    "time", "there",   "girl",
      "boy",  "saw",   "fish", "water",  "blue", "sky",  "said", "hello",  "good", "morning", "look",
      "at",   "that",  "car",  "went",   "fast", "home", "at",   "night"};
  constexpr size_t kCount = sizeof kWords / sizeof kWords[0];
  std::uniform_int_distribution<size_t> pick(0, kCount - 1);
  std::string s;
  s.reserve(static_cast<size_t>(n) * 5);
  for (int i = 0; i < n; ++i) {
    if (i) s.push_back(' ');
    s += kWords[pick(rng)];
  }
  return s;
}

}  // namespace parley::tools::loadtest
