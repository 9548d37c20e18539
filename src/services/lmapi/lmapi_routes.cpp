#include "services/lmapi/lmapi_routes.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <boost/json.hpp>
#include <chrono>
#include <mutex>

#include "core/ids.hpp"
#include "core/metrics.hpp"
#include "llm/runtime/local_generator.hpp"
#include "net/json.hpp"
#include "net/response_stream.hpp"
#include "net/sse.hpp"
#include "services/lmapi/openai_request.hpp"

namespace parley::services::lmapi {
namespace asio = boost::asio;
namespace json = boost::json;
using net::Request;
using net::Response;
using Clock = std::chrono::steady_clock;

struct LmApi::Impl {
  llm::LocalGenerator& gen;
  std::string api_key;
  Metrics& metrics;
  prometheus::Gauge& running;
  prometheus::Gauge& waiting;
  prometheus::Gauge& kv_usage;
  prometheus::Counter& prompt_tokens;
  prometheus::Counter& generated_tokens;
  prometheus::Counter& prefix_hits;
  prometheus::Counter& preemptions;
  prometheus::Histogram& ttft;
  prometheus::Histogram& itl;
  std::mutex scrape_mu;
  llm::EngineStats last;  // totals already added to the counters

  Impl(llm::LocalGenerator& g, std::string key, Metrics& m)
      : gen(g), api_key(std::move(key)), metrics(m),
        running(m.gauge("parley_lm_requests_running", "Sequences decoding in the engine")),
        waiting(m.gauge("parley_lm_requests_waiting", "Requests waiting for a slot")),
        kv_usage(m.gauge("parley_lm_kv_cache_usage_ratio", "Used fraction of the KV cache blocks")),
        prompt_tokens(m.counter("parley_lm_prompt_tokens_total", "Prompt tokens evaluated (prefix-cache hits excluded)")),
        generated_tokens(m.counter("parley_lm_generated_tokens_total", "Tokens generated")),
        prefix_hits(m.counter("parley_lm_prefix_cache_hit_tokens_total", "Prompt tokens reused from the prefix cache")),
        preemptions(m.counter("parley_lm_preemptions_total", "Sequences preempted to free KV blocks")),
        ttft(m.histogram("parley_lm_time_to_first_token_seconds", "Request received to first generated text",
                         Metrics::latency_buckets())),
        itl(m.histogram("parley_lm_inter_token_latency_seconds", "Time between streamed pieces of text",
                        Metrics::latency_buckets())) {}

  void refresh() {
    std::lock_guard lock(scrape_mu);
    const llm::EngineStats s = gen.engine().stats();
    running.Set(static_cast<double>(s.running));
    waiting.Set(static_cast<double>(s.waiting));
    kv_usage.Set(s.kv_blocks_total ? static_cast<double>(s.kv_blocks_used) / s.kv_blocks_total : 0.0);
    prompt_tokens.Increment(static_cast<double>(s.prompt_tokens_total - last.prompt_tokens_total));
    generated_tokens.Increment(static_cast<double>(s.generated_tokens_total - last.generated_tokens_total));
    prefix_hits.Increment(static_cast<double>(s.prefix_hit_tokens_total - last.prefix_hit_tokens_total));
    preemptions.Increment(static_cast<double>(s.preemptions_total - last.preemptions_total));
    last = s;
  }

  void count(const char* endpoint, int status) {
    metrics.counter("parley_lm_requests_total", "Requests answered", {{"endpoint", endpoint}, {"status", std::to_string(status)}})
        .Increment();
  }

  std::optional<Response> unauthorized(const Request& req) const {
    if (api_key.empty()) return std::nullopt;
    std::string_view presented = req.bearer_token();
    if (!presented.empty() && secure_equals(presented, api_key)) return std::nullopt;
    Response r = Response::error(ErrorCode::unauthorized, "missing or invalid API key (Authorization: Bearer ...)");
    r.set_header("WWW-Authenticate", "Bearer");
    return r;
  }

  asio::awaitable<Response> completions(Request& req, Endpoint endpoint);
};

namespace {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

json::object usage_json(const llm::GenerationSummary& s) {
  json::object u{{"prompt_tokens", s.prompt_tokens},
                 {"completion_tokens", s.completion_tokens},
                 {"total_tokens", s.prompt_tokens + s.completion_tokens}};
  u["prompt_tokens_details"] = json::object{{"cached_tokens", s.cached_tokens}};
  return u;
}

// OpenAI has no "cancelled": a sequence cut short for the client is reported as stopped.
const char* wire_finish(const std::string& reason) { return reason == "length" ? "length" : "stop"; }

struct ChunkWriter {
  Endpoint endpoint;
  std::string id;
  int64_t created;
  std::string model;
  bool include_usage;

  // One chunk; `delta` is the text (nullopt: the first chat chunk with the role), finish set on the last.
  std::string chunk(const std::optional<std::string>& text, const char* finish, bool role = false) const {
    json::object choice{{"index", 0}, {"logprobs", nullptr}, {"finish_reason", finish ? json::value(finish) : json::value(nullptr)}};
    json::object c{{"id", id}, {"created", created}, {"model", model}, {"system_fingerprint", nullptr}};
    if (endpoint == Endpoint::chat) {
      c["object"] = "chat.completion.chunk";
      json::object delta;
      if (role) delta["role"] = "assistant";
      if (text) delta["content"] = *text;
      choice["delta"] = std::move(delta);
    } else {
      c["object"] = "text_completion";
      choice["text"] = text.value_or("");
    }
    c["choices"] = json::array{std::move(choice)};
    if (include_usage) c["usage"] = nullptr;
    return net::sse_event(json::serialize(c));
  }
  std::string usage_chunk(const llm::GenerationSummary& s) const {
    json::object c{{"id", id},
                   {"object", endpoint == Endpoint::chat ? "chat.completion.chunk" : "text_completion"},
                   {"created", created},
                   {"model", model},
                   {"system_fingerprint", nullptr},
                   {"choices", json::array{}},
                   {"usage", usage_json(s)}};
    return net::sse_event(json::serialize(c));
  }
};

}  // namespace

asio::awaitable<Response> LmApi::Impl::completions(Request& req, Endpoint endpoint) {
  const char* name = endpoint == Endpoint::chat ? "chat_completions" : "completions";
  const auto t0 = Clock::now();
  if (auto r = unauthorized(req)) {
    count(name, 401);
    co_return *r;
  }
  auto body = net::parse_json_object(req);
  if (!body) {
    count(name, 400);
    co_return Response::error(body.error());
  }
  auto decoded = decode_request(endpoint, *body);
  if (!decoded) {
    count(name, 400);
    co_return Response::error(decoded.error());
  }
  decoded->input.request_id = req.request_id();
  const bool stream = decoded->stream;
  auto started = co_await gen.generate(std::move(decoded->input));
  if (!started) {
    const int status = http_status(started.error().code);
    count(name, status);
    Response r = Response::error(started.error());
    if (started.error().code == ErrorCode::unavailable) r.set_header("Retry-After", "1");
    co_return r;
  }
  llm::TextStream& s = **started;
  ChunkWriter w{endpoint, (endpoint == Endpoint::chat ? "chatcmpl-" : "cmpl-") + random_hex(12), unix_now(),
                gen.model_name(), decoded->include_usage};

  if (!stream) {
    std::string text;
    bool first = true;
    while (auto piece = co_await s.next()) {
      if (first) ttft.Observe(std::chrono::duration<double>(Clock::now() - t0).count());
      first = false;
      text += *piece;
    }
    const llm::GenerationSummary& sum = s.summary();
    if (sum.finish_reason == "error") {
      count(name, 500);
      co_return Response::error(ErrorCode::internal, "generation failed: " + sum.error);
    }
    json::object choice{{"index", 0}, {"logprobs", nullptr}, {"finish_reason", wire_finish(sum.finish_reason)}};
    json::object out{{"id", w.id}, {"created", w.created}, {"model", w.model}, {"system_fingerprint", nullptr}};
    if (endpoint == Endpoint::chat) {
      out["object"] = "chat.completion";
      choice["message"] = json::object{{"role", "assistant"}, {"content", text}};
    } else {
      out["object"] = "text_completion";
      choice["text"] = text;
    }
    out["choices"] = json::array{std::move(choice)};
    out["usage"] = usage_json(sum);
    count(name, 200);
    co_return net::json_response(200, out);
  }

  net::ResponseStream& out = req.stream();
  out.on_client_gone([&s] { s.cancel(); });
  // The callback refers to this frame's stream: unhook it whichever way the handler leaves.
  struct Unhook {
    net::ResponseStream& out;
    ~Unhook() { out.on_client_gone([] {}); }
  } unhook{out};
  if (!co_await out.begin_sse()) {
    s.cancel();
    co_return Response{};
  }
  count(name, 200);
  bool alive = true;
  if (endpoint == Endpoint::chat) alive = co_await out.write(w.chunk(std::string(), nullptr, /*role=*/true));
  auto last = Clock::now();
  bool first = true;
  while (alive) {
    auto piece = co_await s.next();
    if (!piece) break;
    const auto now = Clock::now();
    if (first) {
      ttft.Observe(std::chrono::duration<double>(now - t0).count());
    } else {
      itl.Observe(std::chrono::duration<double>(now - last).count());
    }
    first = false;
    last = now;
    alive = co_await out.write(w.chunk(*piece, nullptr));
  }
  if (!alive) {
    s.cancel();
    co_return Response{};
  }
  const llm::GenerationSummary& sum = s.summary();
  if (sum.finish_reason == "error") {
    co_await out.write(net::sse_event(net::json_error_body(ErrorCode::internal, "generation failed: " + sum.error)));
  } else {
    co_await out.write(w.chunk(std::nullopt, wire_finish(sum.finish_reason)));
    if (w.include_usage) co_await out.write(w.usage_chunk(sum));
  }
  co_await out.write(net::sse_event("[DONE]"));
  co_await out.finish();
  co_return Response{};
}

LmApi::LmApi(llm::LocalGenerator& generator, std::string api_key, Metrics& metrics)
    : impl_(std::make_shared<Impl>(generator, std::move(api_key), metrics)) {}

LmApi::~LmApi() = default;

void LmApi::add_routes(net::Router& router) {
  auto impl = impl_;
  router.post("/v1/chat/completions", [impl](Request& req) { return impl->completions(req, Endpoint::chat); });
  router.post("/v1/completions", [impl](Request& req) { return impl->completions(req, Endpoint::completions); });
  router.get("/v1/models", [impl](Request& req) -> asio::awaitable<Response> {
    if (auto r = impl->unauthorized(req)) co_return *r;
    json::object model{{"id", impl->gen.model_name()}, {"object", "model"}, {"created", unix_now()}, {"owned_by", "parley"}};
    model["context_length"] = impl->gen.context_length();
    co_return net::json_response(200, json::object{{"object", "list"}, {"data", json::array{std::move(model)}}});
  });
  router.get("/metrics", [impl](Request& req) -> asio::awaitable<Response> {
    if (auto r = impl->unauthorized(req)) co_return *r;
    impl->refresh();
    co_return Response::text(200, impl->metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

asio::awaitable<Status> LmApi::readiness() { co_return co_await impl_->gen.ready(); }

}  // namespace parley::services::lmapi
