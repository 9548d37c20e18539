#include "services/openai/openai_generator.hpp"

#include <boost/json.hpp>
#include <deque>
#include <functional>

#include "net/sse.hpp"

namespace parley::services {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// splitmix64's finalizer: consecutive request numbers -> well-spread "random" choices.
uint64_t scramble(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
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
        if (auto* m = e->as_object().if_contains("message"); m && m->is_string())
          return std::string(m->as_string());
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
  RemoteStream(std::unique_ptr<net::ResponseBody> body, std::shared_ptr<LmEndpoint> ep)
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
        finish(cancelled_ ? "cancelled" : "error",
               cancelled_ ? "" : std::string("the language model stream broke: ") + e.what());
        break;
      }
      if (!chunk) {
        if (!done_)
          finish(summary_.finish_reason.empty() ? "error" : summary_.finish_reason.c_str(),
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
      finish("error",
             err->is_object() ? error_message(json::serialize(o), 500) : "the language model failed");
      return;
    }
    if (auto* u = o.if_contains("usage"); u && u->is_object()) {
      const json::object& uo = u->as_object();
      if (auto* p = uo.if_contains("prompt_tokens"); p && p->is_int64())
        summary_.prompt_tokens = p->as_int64();
      if (auto* c = uo.if_contains("completion_tokens"); c && c->is_int64())
        summary_.completion_tokens = c->as_int64();
      if (auto* d = uo.if_contains("prompt_tokens_details"); d && d->is_object())
        if (auto* c = d->as_object().if_contains("cached_tokens"); c && c->is_int64())
          summary_.cached_tokens = c->as_int64();
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
    if (auto* f = c.if_contains("finish_reason"); f && f->is_string())
      summary_.finish_reason = std::string(f->as_string());
  }

  std::unique_ptr<net::ResponseBody> body_;
  std::shared_ptr<LmEndpoint> ep_;
  net::SseParser parser_;
  std::deque<std::string> pieces_;
  llm::GenerationSummary summary_;
  bool done_ = false;
  bool cancelled_ = false;
};

}  // namespace

OpenAiGenerator::OpenAiGenerator(net::HttpClient& client, OpenAiGeneratorOptions options)
    : client_(client),
      options_(std::move(options)),
      set_(options_.endpoints, options_.resolver, options_.refresh_every) {}

OpenAiGenerator::~OpenAiGenerator() = default;

size_t OpenAiGenerator::endpoint_count() const { return set_.snapshot()->size(); }

std::vector<std::string> OpenAiGenerator::endpoint_urls() const {
  std::vector<std::string> out;
  for (const auto& ep : *set_.snapshot()) out.push_back(ep->base);
  return out;
}

size_t OpenAiGenerator::pick(const std::string& key) const {
  auto eps = set_.snapshot();
  return eps->empty()
             ? 0
             : pick_endpoint(*eps, key, {.affinity = options_.affinity, .busy_margin = options_.busy_margin});
}

asio::awaitable<void> OpenAiGenerator::refresh_endpoints() { co_await set_.refresh(); }

asio::awaitable<Result<std::unique_ptr<llm::TextStream>>> OpenAiGenerator::generate(
    llm::GenerationInput input) {
  const PickOptions pick_options{.affinity = options_.affinity,
                                 .busy_margin = options_.busy_margin,
                                 .rotation = static_cast<size_t>(scramble(requests_.fetch_add(1)))};
  const std::string path = input.prompt ? "/completions" : "/chat/completions";
  const std::string payload = json::serialize(request_json(input, options_.model));
  std::shared_ptr<LmEndpoint> ep, failed;
  std::unique_ptr<net::ResponseBody> body;
  std::string failure = "no endpoint";
  // Two attempts: a connection that fails before any answer marks its replica down (and
  // re-resolves dns+ names), then the request goes to the next choice, if that is another one.
  for (int attempt = 0; attempt < 2 && !body; ++attempt) {
    auto eps = co_await set_.current();
    if (eps->empty()) break;
    ep = (*eps)[pick_endpoint(*eps, input.affinity_key, pick_options)];
    if (ep == failed) break;
    net::ClientRequest req;
    req.method = net::Method::post;
    req.url = ep->base + path;
    req.content_type = "application/json";
    req.body = payload;
    // A generation has no side effect, so a pooled connection the server had just closed is
    // retried by the client on a fresh one (the answer's head comes before any token).
    req.idempotent = true;
    if (!options_.api_key.empty()) req.headers.push_back({"Authorization", "Bearer " + options_.api_key});
    if (!input.request_id.empty()) req.headers.push_back({"X-Request-Id", input.request_id});
    req.headers.push_back({"Accept", "text/event-stream"});
    ep->outstanding.fetch_add(1);
    try {
      body = co_await client_.stream(std::move(req));
    } catch (const net::ClientError& e) {
      failure = e.what();
    }
    if (!body) {
      ep->outstanding.fetch_sub(1);
      set_.mark_down(*ep, options_.down_for);
      failed = ep;
    }
  }
  if (!body)
    co_return make_error(ErrorCode::unavailable, "the language model is unreachable (" + failure + ")");
  const int status = body->status();
  if (status != 200) {
    std::string text;
    try {
      text = co_await body->read_all();
    } catch (const net::ClientError&) {
    }
    ep->outstanding.fetch_sub(1);
    const std::string msg = error_message(text, status);
    if (status == 503 || status == 429)
      co_return make_error(ErrorCode::unavailable, "the language model is busy: " + msg);
    if (status == 400 || status == 413 || status == 422)
      co_return make_error(ErrorCode::invalid_argument, msg);
    if (status == 401 || status == 403)
      co_return make_error(ErrorCode::internal, "the language model refused our service token (" + msg + ")");
    co_return make_error(ErrorCode::unavailable, "the language model failed: " + msg);
  }
  co_return std::unique_ptr<llm::TextStream>(std::make_unique<RemoteStream>(std::move(body), ep));
}

asio::awaitable<Status> OpenAiGenerator::ready() {
  auto eps = co_await set_.current();
  for (const auto& ep : *eps) {
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
  co_return make_error(ErrorCode::unavailable,
                       eps->empty() ? "no language-model endpoint: its DNS name resolved to nothing"
                                    : "no language-model endpoint is reachable");
}

std::string OpenAiGenerator::model_name() const {
  return options_.model.empty() ? "default" : options_.model;
}

}  // namespace parley::services
