#include <boost/json.hpp>

#include "tools/loadtest/scenarios.hpp"

namespace parley::tools::loadtest {
namespace asio = boost::asio;
namespace json = boost::json;
using net::ClientError;
using net::ClientRequest;
using net::Method;

namespace {
double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
}  // namespace

asio::awaitable<StreamOutcome> stream_sse(RunContext& ctx, std::string endpoint, ClientRequest request,
                                          const std::function<bool(const net::SseEvent&, bool&)>& on_event) {
  StreamOutcome out;
  ctx.recorder.mark_stream(endpoint);
  auto begin = Clock::now();
  std::unique_ptr<net::ResponseBody> body;
  try {
    body = co_await ctx.client.stream(std::move(request));
  } catch (const ClientError& e) {
    if (auto kind = classify(e))
      ctx.recorder.request(endpoint, begin, Clock::now(), kind, 0);
    else
      out.cut_short = true;
    co_return out;
  }
  int status = body->status();
  if (status != 200) {
    try {
      co_await body->read_all();
    } catch (const ClientError&) {
    }
    ctx.recorder.request(endpoint, begin, Clock::now(), ErrorKind::status, status);
    co_return out;
  }
  ctx.streams.insert(body.get());
  net::SseParser parser;
  bool ended = false, broken = false;
  std::optional<ErrorKind> failure;
  try {
    while (auto piece = co_await body->read_some()) {
      parser.feed(*piece, [&](const net::SseEvent& e) {
        if (ended || broken) return;
        if (!on_event(e, ended)) broken = true;
      });
      // Read on to the end of the body even after the end event: the connection then goes back to
      // the pool (dropping a body early closes its connection).
    }
  } catch (const ClientError& e) {
    failure = classify(e);
    if (!failure) out.cut_short = true;
  }
  ctx.streams.erase(body.get());
  if (out.cut_short) co_return out;
  if (!failure && (!ended || broken)) failure = ErrorKind::broken_stream;
  ctx.recorder.request(endpoint, begin, Clock::now(), failure, status);
  out.ok = !failure;
  co_return out;
}

asio::awaitable<std::string> resolve_model(net::HttpClient& client, std::string base, std::string token) {
  ClientRequest r{.method = Method::get, .url = base + "/v1/models"};
  if (!token.empty()) r.headers = {{"Authorization", "Bearer " + token}};
  net::ClientResponse res = co_await client.request(std::move(r));
  if (res.status != 200)
    throw std::runtime_error("GET /v1/models answered " + std::to_string(res.status) + ": " +
                             res.body.substr(0, 200));
  boost::system::error_code ec;
  json::value v = json::parse(res.body, ec);
  if (!ec && v.is_object())
    if (auto* data = v.as_object().if_contains("data"); data && data->is_array() && !data->as_array().empty())
      if (auto* first = data->as_array()[0].if_object())
        if (auto* id = first->if_contains("id"); id && id->is_string())
          co_return std::string(id->as_string());
  co_return std::string("default");
}

asio::awaitable<void> run_lm_user(RunContext& ctx, int /*user*/, std::mt19937_64& rng) {
  const LoadOptions& o = ctx.options;
  const bool chat = o.endpoint == "chat" || (o.endpoint.empty() && o.turns > 1);
  const std::string path = chat ? "/v1/chat/completions" : "/v1/completions";
  const std::string endpoint = "POST " + path;
  while (!ctx.stopping) {
    json::array messages;  // the conversation so far (chat endpoint)
    for (int turn = 1; turn <= o.turns && !ctx.stopping; ++turn) {
      std::string prompt = random_words(rng, o.prompt_tokens);
      json::object body{{"model", ctx.model},    {"max_tokens", o.max_tokens},
                        {"stream", true},        {"stream_options", json::object{{"include_usage", true}}},
                        {"stop", json::array{}}, {"seed", static_cast<int64_t>(rng() >> 33)}};
      if (chat) {
        messages.push_back(json::object{{"role", "user"}, {"content", prompt}});
        body["messages"] = messages;
        if (o.truncate_history) body["truncate_history"] = true;
      } else {
        body["prompt"] = prompt;
      }
      ClientRequest r{.method = Method::post,
                      .url = ctx.url(path),
                      .body = json::serialize(body),
                      .content_type = "application/json"};
      if (!o.token.empty()) r.headers = {{"Authorization", "Bearer " + o.token}};

      GenerationSample g;
      g.turn = turn;
      g.start = Clock::now();
      Clock::time_point last{};
      std::string reply;
      auto on_event = [&](const net::SseEvent& e, bool& end) {
        if (e.data == "[DONE]") {
          end = true;
          return true;
        }
        if (e.event == "error") return false;
        boost::system::error_code ec;
        json::value v = json::parse(e.data, ec);
        if (ec || !v.is_object()) return true;
        const json::object& obj = v.as_object();
        if (obj.contains("error")) return false;
        if (auto* choices = obj.if_contains("choices");
            choices && choices->is_array() && !choices->as_array().empty()) {
          const json::value& c = choices->as_array()[0];
          const json::value* text = nullptr;
          if (auto* delta = c.as_object().if_contains("delta"); delta && delta->is_object())
            text = delta->as_object().if_contains("content");
          else
            text = c.as_object().if_contains("text");
          if (text && text->is_string() && !text->as_string().empty()) {
            auto now = Clock::now();
            if (!g.got_first_token) {
              g.got_first_token = true;
              g.first_token = now;
            } else {
              g.inter_token_s.push_back(seconds(now - last));
            }
            last = now;
            ++g.pieces;
            reply += text->as_string();
          }
        }
        if (auto* usage = obj.if_contains("usage"); usage && usage->is_object()) {
          const json::object& u = usage->as_object();
          auto num = [](const json::value* x) {
            return x && x->is_int64() ? static_cast<uint64_t>(x->as_int64()) : 0;
          };
          g.prompt_tokens = num(u.if_contains("prompt_tokens"));
          g.completion_tokens = num(u.if_contains("completion_tokens"));
          if (auto* d = u.if_contains("prompt_tokens_details"); d && d->is_object())
            g.cached_tokens = num(d->as_object().if_contains("cached_tokens"));
        }
        return true;
      };
      StreamOutcome out = co_await stream_sse(ctx, endpoint, std::move(r), on_event);
      if (out.cut_short) {
        ctx.recorder.cut_short();
        co_return;
      }
      if (!out.ok) {                       // a failed turn ends the conversation; the user starts a new one
        co_await ctx.think_exactly(0.05);  // no busy loop against a server that refuses
        break;
      }
      g.end = Clock::now();
      ctx.recorder.generation(std::move(g));
      if (chat) messages.push_back(json::object{{"role", "assistant"}, {"content", reply}});
      co_await ctx.think(rng, o.think_s);
    }
  }
}

}  // namespace parley::tools::loadtest
