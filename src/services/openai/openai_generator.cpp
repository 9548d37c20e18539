#include "services/openai/openai_generator.hpp"

#include <boost/json.hpp>
#include <deque>
#include <functional>

#include "net/sse.hpp"

namespace parley::services {
namespace asio = boost::asio;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

struct OpenAiGenerator::Endpoint {
  std::string base;  // ".../v1"
  std::atomic<int> outstanding{0};
  std::atomic<int64_t> down_until{0};  // steady-clock ns; 0 = healthy

  bool healthy() const { return down_until.load() <= Clock::now().time_since_epoch().count(); }
};

std::string openai_base_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.size() < 3 || url.compare(url.size() - 3, 3, "/v1") != 0) url += "/v1";
  return url;
}

namespace {

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

json::object request_json(const llm::GenerationInput& in, const std::string& model) {
  json::object o{{"model", model.empty() ? "default" : model}, {"stream", true}};
  o["stream_options"] = json::object{{"include_usage", true}};
  if (in.prompt) {
    o["prompt"] = *in.prompt;
  } else {
    json::array msgs;
    for (auto& m : in.messages) msgs.push_back(json::object{{"role", m.role}, {"content", m.content}});
    o["messages"] = std::move(msgs);
  }
  const auto& p = in.options;
  if (p.temperature) o["temperature"] = *p.temperature;
  if (p.top_p) o["top_p"] = *p.top_p;
  if (p.top_k) o["top_k"] = *p.top_k;
  if (p.min_p) o["min_p"] = *p.min_p;
  if (p.presence_penalty) o["presence_penalty"] = *p.presence_penalty;
  if (p.frequency_penalty) o["frequency_penalty"] = *p.frequency_penalty;
  if (p.repetition_penalty) o["repetition_penalty"] = *p.repetition_penalty;
  if (p.max_tokens) o["max_tokens"] = *p.max_tokens;
  if (p.seed) o["seed"] = *p.seed;
  if (!p.stop.empty()) {
    json::array s;
    for (auto& x : p.stop) s.push_back(json::string(x));
    o["stop"] = std::move(s);
  }
  if (in.truncate_history) o["truncate_history"] = true;  // Parley's extension; others ignore it
  return o;
}

std::string error_message(const std::string& body, int status) {
  try {
    json::value v = json::parse(body);
    if (auto* e = v.as_object().if_contains("error")) {
      if (e->is_object()) {
        if (auto* m = e->as_object().if_contains("message"); m && m->is_string()) return std::string(m->as_string());
      } else if (e->is_string()) {
        return std::string(e->as_string());
      }
    }
  } catch (const std::exception&) {
  }
  return "the language model answered HTTP " + std::to_string(status);
}

class RemoteStream : public llm::TextStream {
 public:
  RemoteStream(std::unique_ptr<net::ResponseBody> body, std::shared_ptr<OpenAiGenerator::Endpoint> ep)
      : body_(std::move(body)), ep_(std::move(ep)) {}
  ~RemoteStream() override {
    if (!done_) body_->cancel();
    release();
  }

  asio::awaitable<std::optional<std::string>> next() override {
    while (pieces_.empty() && !done_) {
      std::optional<std::string> chunk;
      try {
        chunk = co_await body_->read_some();
      } catch (const net::ClientError& e) {
        finish(cancelled_ ? "cancelled" : "error", cancelled_ ? "" : std::string("the language model stream broke: ") + e.what());
        break;
      }
      if (!chunk) {
        if (!done_) finish(summary_.finish_reason.empty() ? "error" : summary_.finish_reason.c_str(),
                           summary_.finish_reason.empty() ? "the language model ended the stream early" : "");
        break;
      }
      parser_.feed(*chunk, [this](const net::SseEvent& e) { on_event(e); });
    }
    if (!pieces_.empty()) {
      std::string p = std::move(pieces_.front());
      pieces_.pop_front();
      co_return p;
    }
    co_return std::nullopt;
  }

  void cancel() override {
    cancelled_ = true;
    body_->cancel();
  }
  const llm::GenerationSummary& summary() const override { return summary_; }

 private:
  void release() {
    if (ep_) ep_->outstanding.fetch_sub(1);
    ep_.reset();
  }
  void finish(const char* reason, std::string error) {
    done_ = true;
    summary_.finish_reason = reason;
    summary_.error = std::move(error);
    release();
  }
  void on_event(const net::SseEvent& e) {
    if (done_) return;
    if (e.data == "[DONE]") {
      finish(summary_.finish_reason.empty() ? "stop" : summary_.finish_reason.c_str(), "");
      return;
    }
    json::value v;
    try {
      v = json::parse(e.data);
    } catch (const std::exception&) {
      return;  // not JSON: ignore (comments, keep-alives)
    }
    if (!v.is_object()) return;
    const json::object& o = v.as_object();
    if (auto* err = o.if_contains("error")) {
      finish("error", err->is_object() ? error_message(json::serialize(o), 500) : "the language model failed");
      return;
    }
    if (auto* u = o.if_contains("usage"); u && u->is_object()) {
      const json::object& uo = u->as_object();
      if (auto* p = uo.if_contains("prompt_tokens"); p && p->is_int64()) summary_.prompt_tokens = p->as_int64();
      if (auto* c = uo.if_contains("completion_tokens"); c && c->is_int64()) summary_.completion_tokens = c->as_int64();
      if (auto* d = uo.if_contains("prompt_tokens_details"); d && d->is_object())
        if (auto* c = d->as_object().if_contains("cached_tokens"); c && c->is_int64()) summary_.cached_tokens = c->as_int64();
    }
    auto* choices = o.if_contains("choices");
    if (!choices || !choices->is_array() || choices->as_array().empty()) return;
    const json::value& ch = choices->as_array()[0];
    if (!ch.is_object()) return;
    const json::object& c = ch.as_object();
    std::string text;
    if (auto* d = c.if_contains("delta"); d && d->is_object()) {
      if (auto* t = d->as_object().if_contains("content"); t && t->is_string()) text = t->as_string();
    } else if (auto* t = c.if_contains("text"); t && t->is_string()) {
      text = t->as_string();
    }
    if (!text.empty()) pieces_.push_back(std::move(text));
    if (auto* f = c.if_contains("finish_reason"); f && f->is_string()) summary_.finish_reason = std::string(f->as_string());
  }

  std::unique_ptr<net::ResponseBody> body_;
  std::shared_ptr<OpenAiGenerator::Endpoint> ep_;
  net::SseParser parser_;
  std::deque<std::string> pieces_;
  llm::GenerationSummary summary_;
  bool done_ = false;
  bool cancelled_ = false;
};

}  // namespace

OpenAiGenerator::OpenAiGenerator(net::HttpClient& client, OpenAiGeneratorOptions options)
    : client_(client), options_(std::move(options)) {
  if (options_.endpoints.empty()) throw std::invalid_argument("no language-model endpoint configured (LM_API_URL)");
  for (auto& url : options_.endpoints) {
    auto ep = std::make_shared<Endpoint>();
    ep->base = openai_base_url(url);
    endpoints_.push_back(std::move(ep));
  }
}

OpenAiGenerator::~OpenAiGenerator() = default;

size_t OpenAiGenerator::endpoint_count() const { return endpoints_.size(); }

size_t OpenAiGenerator::pick(const std::string& key) const {
  const size_t n = endpoints_.size();
  size_t least = n;
  for (size_t i = 0; i < n; ++i) {
    if (!endpoints_[i]->healthy()) continue;
    if (least == n || endpoints_[i]->outstanding.load() < endpoints_[least]->outstanding.load()) least = i;
  }
  if (least == n) {
    // Everything looks down: try the one that went down first.
    least = 0;
    for (size_t i = 1; i < n; ++i)
      if (endpoints_[i]->down_until.load() < endpoints_[least]->down_until.load()) least = i;
    return least;
  }
  if (!options_.affinity || key.empty() || n == 1) return least;
  // Rendezvous hashing: the healthy endpoint with the highest hash of (key, endpoint).
  const uint64_t kh = std::hash<std::string>{}(key);
  size_t best = n;
  uint64_t best_score = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!endpoints_[i]->healthy()) continue;
    const uint64_t score = mix(kh ^ mix(std::hash<std::string>{}(endpoints_[i]->base)));
    if (best == n || score > best_score) best = i, best_score = score;
  }
  if (endpoints_[best]->outstanding.load() > endpoints_[least]->outstanding.load() + options_.busy_margin) return least;
  return best;
}

asio::awaitable<Result<std::unique_ptr<llm::TextStream>>> OpenAiGenerator::generate(llm::GenerationInput input) {
  const size_t i = pick(input.affinity_key);
  std::shared_ptr<Endpoint> ep = endpoints_[i];
  net::ClientRequest req;
  req.method = net::Method::post;
  req.url = ep->base + (input.prompt ? "/completions" : "/chat/completions");
  req.content_type = "application/json";
  req.body = json::serialize(request_json(input, options_.model));
  if (!options_.api_key.empty()) req.headers.push_back({"Authorization", "Bearer " + options_.api_key});
  if (!input.request_id.empty()) req.headers.push_back({"X-Request-Id", input.request_id});
  req.headers.push_back({"Accept", "text/event-stream"});
  ep->outstanding.fetch_add(1);
  std::unique_ptr<net::ResponseBody> body;
  std::string failure;
  try {
    body = co_await client_.stream(std::move(req));
  } catch (const net::ClientError& e) {
    failure = e.what();
  }
  if (!body) {
    ep->outstanding.fetch_sub(1);
    ep->down_until.store((Clock::now() + options_.down_for).time_since_epoch().count());
    co_return make_error(ErrorCode::unavailable, "the language model is unreachable (" + failure + ")");
  }
  const int status = body->status();
  if (status != 200) {
    std::string text;
    try {
      text = co_await body->read_all();
    } catch (const net::ClientError&) {
    }
    ep->outstanding.fetch_sub(1);
    const std::string msg = error_message(text, status);
    if (status == 503 || status == 429) co_return make_error(ErrorCode::unavailable, "the language model is busy: " + msg);
    if (status == 400 || status == 413 || status == 422) co_return make_error(ErrorCode::invalid_argument, msg);
    if (status == 401 || status == 403)
      co_return make_error(ErrorCode::internal, "the language model refused our service token (" + msg + ")");
    co_return make_error(ErrorCode::unavailable, "the language model failed: " + msg);
  }
  co_return std::unique_ptr<llm::TextStream>(std::make_unique<RemoteStream>(std::move(body), ep));
}

asio::awaitable<Status> OpenAiGenerator::ready() {
  for (auto& ep : endpoints_) {
    net::ClientRequest req;
    req.url = ep->base + "/models";
    req.read_timeout = std::chrono::seconds(2);
    if (!options_.api_key.empty()) req.headers.push_back({"Authorization", "Bearer " + options_.api_key});
    try {
      auto res = co_await client_.request(std::move(req));
      if (res.status == 200) co_return ok_status();
    } catch (const net::ClientError&) {
    }
  }
  co_return make_error(ErrorCode::unavailable, "no language-model endpoint is reachable");
}

std::string OpenAiGenerator::model_name() const { return options_.model.empty() ? "default" : options_.model; }

}  // namespace parley::services
