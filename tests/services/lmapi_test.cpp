// lm-api over HTTP on the real tiny model: every endpoint, SSE framing, auth, bad requests, busy,
// cancellation by disconnect; and the OpenAiGenerator client against it.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/metrics.hpp"
#include "llm/runtime/local_generator.hpp"
#include "net/blocking.hpp"
#include "net/client.hpp"
#include "net/server.hpp"
#include "net/sse.hpp"
#include "services/lmapi/lmapi_routes.hpp"
#include "services/openai/openai_generator.hpp"

namespace parley::services::lmapi {
namespace {
namespace json = boost::json;
namespace asio = boost::asio;

// run_blocking for results that are not default-constructible.
template <typename T>
T block(net::EventLoop& loop, asio::awaitable<T> aw) {
  auto wrapped = [](asio::awaitable<T> inner) -> asio::awaitable<std::optional<T>> {
    co_return std::optional<T>(co_await std::move(inner));
  };
  return std::move(*net::run_blocking(loop, wrapped(std::move(aw))));
}

std::string shared(const std::string& rel) { return std::string(PARLEY_SHARED_DIR) + "/" + rel; }

struct LiveLmApi {
  explicit LiveLmApi(llm::EngineOptions engine = {.threads = 1, .ctx = 512, .slots = 4, .queue = 4},
                     std::string key = "secret-key")
      : loop(2), gen(llm::LocalGenerator::open(shared("models/stories260K.gguf"), {.engine = engine})),
        api(*gen, key, metrics), client(loop) {
    net::Router router;
    api.add_routes(router);
    net::ServerOptions opt;
    opt.name = "lm-api";
    opt.metrics = &metrics;
    server = std::make_unique<net::Server>(loop, opt, std::move(router));
    port = server->start();
    loop.start();
  }
  ~LiveLmApi() {
    server->shutdown();
    loop.stop();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }

  net::ClientResponse post(const std::string& path, const std::string& body, const std::string& key = "secret-key") {
    net::ClientRequest r{.method = net::Method::post, .url = url(path), .body = body, .content_type = "application/json"};
    if (!key.empty()) r.headers.push_back({"Authorization", "Bearer " + key});
    return net::run_blocking(loop, client.request(std::move(r)));
  }
  net::ClientResponse get(const std::string& path, const std::string& key = "secret-key") {
    net::ClientRequest r{.url = url(path)};
    if (!key.empty()) r.headers.push_back({"Authorization", "Bearer " + key});
    return net::run_blocking(loop, client.request(std::move(r)));
  }
  double metric(const std::string& name) {
    auto text = get("/metrics").body;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
      if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
    return -1;
  }

  Metrics metrics;
  // Before the generator, so destroyed after it: the engine thread is gone before the loop destroys
  // the coroutines of unfinished streams (it woke a stream whose io_context was being destroyed:
  // BusyAnswers503WithRetryAfter crashed about once in 20 runs).
  net::EventLoop loop;
  std::unique_ptr<llm::LocalGenerator> gen;
  LmApi api;
  net::HttpClient client;
  std::unique_ptr<net::Server> server;
  uint16_t port = 0;
};

std::string golden_text() {
  std::ifstream in(shared("models/golden/stories260K-once-upon-a-time-64.txt"), std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(LmApi, CompletionMatchesGolden) {
  LiveLmApi api;
  auto r = api.post("/v1/completions", R"({"model":"x","prompt":"Once upon a time","max_tokens":64,"temperature":0,"unknown_field":[1,2]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = json::parse(r.body).as_object();
  EXPECT_EQ(v["object"].as_string(), "text_completion");
  EXPECT_EQ(v["choices"].as_array()[0].as_object()["text"].as_string(), golden_text());
  EXPECT_EQ(v["choices"].as_array()[0].as_object()["finish_reason"].as_string(), "length");
  EXPECT_EQ(v["usage"].as_object()["prompt_tokens"].as_int64(), 5);
  EXPECT_EQ(v["usage"].as_object()["completion_tokens"].as_int64(), 64);
  EXPECT_EQ(v["usage"].as_object()["total_tokens"].as_int64(), 69);
}

TEST(LmApi, ChatCompletionNonStreaming) {
  LiveLmApi api;
  auto r = api.post("/v1/chat/completions",
                    R"({"messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"Hi"}]}],"max_completion_tokens":8,"temperature":0,"seed":1})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = json::parse(r.body).as_object();
  EXPECT_EQ(v["object"].as_string(), "chat.completion");
  auto& msg = v["choices"].as_array()[0].as_object()["message"].as_object();
  EXPECT_EQ(msg["role"].as_string(), "assistant");
  EXPECT_FALSE(msg["content"].as_string().empty());
  EXPECT_EQ(v["usage"].as_object()["completion_tokens"].as_int64(), 8);
}

// The SSE body byte by byte: role chunk, content chunks, finish chunk, usage chunk, [DONE].
TEST(LmApi, StreamingFramingIsOpenAis) {
  LiveLmApi api;
  auto r = api.post("/v1/chat/completions",
                    R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":6,"temperature":0,"stream":true,"stream_options":{"include_usage":true}})");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "text/event-stream");
  // Every event is exactly "data: <json or [DONE]>\n\n".
  std::vector<std::string> events;
  size_t pos = 0;
  while (pos < r.body.size()) {
    ASSERT_EQ(r.body.compare(pos, 6, "data: "), 0) << r.body.substr(pos);
    size_t end = r.body.find("\n\n", pos);
    ASSERT_NE(end, std::string::npos);
    events.push_back(r.body.substr(pos + 6, end - pos - 6));
    ASSERT_EQ(events.back().find('\n'), std::string::npos);
    pos = end + 2;
  }
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.back(), "[DONE]");
  auto first = json::parse(events[0]).as_object();
  EXPECT_EQ(first["object"].as_string(), "chat.completion.chunk");
  EXPECT_EQ(first["choices"].as_array()[0].as_object()["delta"].as_object()["role"].as_string(), "assistant");
  EXPECT_TRUE(first["usage"].is_null());
  std::string text;
  for (size_t i = 1; i + 3 < events.size(); ++i) {
    auto c = json::parse(events[i]).as_object();
    EXPECT_EQ(c["id"], first["id"]);
    auto& ch = c["choices"].as_array()[0].as_object();
    EXPECT_TRUE(ch["finish_reason"].is_null());
    text += ch["delta"].as_object()["content"].as_string();
  }
  auto fin = json::parse(events[events.size() - 3]).as_object();
  EXPECT_EQ(fin["choices"].as_array()[0].as_object()["finish_reason"].as_string(), "length");
  EXPECT_TRUE(fin["choices"].as_array()[0].as_object()["delta"].as_object().empty());
  auto usage = json::parse(events[events.size() - 2]).as_object();
  EXPECT_TRUE(usage["choices"].as_array().empty());
  EXPECT_EQ(usage["usage"].as_object()["completion_tokens"].as_int64(), 6);

  // The same request without streaming gives the same text.
  auto plain = api.post("/v1/chat/completions",
                        R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":6,"temperature":0})");
  EXPECT_EQ(json::parse(plain.body).as_object()["choices"].as_array()[0].as_object()["message"].as_object()["content"].as_string(),
            text);
}

TEST(LmApi, ModelsAndAuth) {
  LiveLmApi api;
  auto m = api.get("/v1/models");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(json::parse(m.body).as_object()["data"].as_array().size(), 1u);
  EXPECT_EQ(api.get("/v1/models", "").status, 401);
  EXPECT_EQ(api.get("/v1/models", "wrong").status, 401);
  EXPECT_EQ(api.get("/metrics", "").status, 401);
  EXPECT_EQ(api.post("/v1/completions", R"({"prompt":"a"})", "").status, 401);
  EXPECT_EQ(api.get("/healthz", "").status, 200);
  EXPECT_EQ(api.get("/readyz", "").status, 200);
}

TEST(LmApi, BadRequestsAreClear400s) {
  LiveLmApi api;
  struct Case {
    const char* path;
    const char* body;
    const char* needle;
  };
  for (Case c : {Case{"/v1/completions", "{not json", "JSON"},
                 Case{"/v1/completions", "[1]", "object"},
                 Case{"/v1/completions", R"({"max_tokens":3})", "prompt"},
                 Case{"/v1/completions", R"({"prompt":5})", "prompt"},
                 Case{"/v1/completions", R"({"prompt":"a","n":2})", "n must be 1"},
                 Case{"/v1/completions", R"({"prompt":"a","temperature":"hot"})", "temperature"},
                 Case{"/v1/completions", R"({"prompt":"a","max_tokens":0})", "max_tokens"},
                 Case{"/v1/completions", R"({"prompt":"a","stop":[1]})", "stop"},
                 Case{"/v1/completions", R"({"prompt":"a","stream":"yes"})", "stream"},
                 Case{"/v1/completions", R"({"prompt":"a","max_tokens":5000})", "512"},
                 Case{"/v1/chat/completions", R"({"messages":[]})", "messages"},
                 Case{"/v1/chat/completions", R"({"messages":[{"role":"wizard","content":"x"}]})", "role"},
                 Case{"/v1/chat/completions", R"({"messages":[{"role":"user"}]})", "content"}}) {
    auto r = api.post(c.path, c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    auto err = json::parse(r.body).as_object()["error"].as_object();
    EXPECT_NE(std::string(err["message"].as_string()).find(c.needle), std::string::npos) << r.body;
    EXPECT_EQ(err["type"].as_string(), "invalid_request_error");
  }
}

TEST(LmApi, BusyAnswers503WithRetryAfter) {
  LiveLmApi api(llm::EngineOptions{.threads = 1, .ctx = 2048, .slots = 1, .queue = 0});
  // One long generation takes the only slot; streaming so that it stays open.
  net::ClientRequest hold{.method = net::Method::post, .url = api.url("/v1/completions"),
                          .body = R"({"prompt":"Once","max_tokens":1900,"stream":true})", .content_type = "application/json"};
  hold.headers.push_back({"Authorization", "Bearer secret-key"});
  auto body = net::run_blocking(api.loop, api.client.stream(std::move(hold)));
  ASSERT_EQ(body->status(), 200);
  for (int i = 0; i < 100 && api.gen->engine().stats().running == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto r = api.post("/v1/completions", R"({"prompt":"a","max_tokens":2})");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.header("Retry-After"), "1");
  body->cancel();
}

// A client that goes away mid-stream frees its slot; the next request runs.
TEST(LmApi, DisconnectCancelsTheSequence) {
  LiveLmApi api(llm::EngineOptions{.threads = 1, .ctx = 2048, .slots = 1, .queue = 0});
  {
    net::ClientRequest r{.method = net::Method::post, .url = api.url("/v1/completions"),
                         .body = R"({"prompt":"Once","max_tokens":1900,"stream":true})", .content_type = "application/json"};
    r.headers.push_back({"Authorization", "Bearer secret-key"});
    auto body = net::run_blocking(api.loop, api.client.stream(std::move(r)));
    auto piece = net::run_blocking(api.loop, body->read_some());
    ASSERT_TRUE(piece);
    EXPECT_EQ(api.metric("parley_lm_requests_running"), 1);
  }  // dropping the body closes the connection
  double running = -1;
  for (int i = 0; i < 200 && running != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    running = api.metric("parley_lm_requests_running");
  }
  EXPECT_EQ(running, 0);
  EXPECT_LT(api.gen->engine().stats().generated_tokens_total, 1900);
  EXPECT_EQ(api.post("/v1/completions", R"({"prompt":"a","max_tokens":2})").status, 200);
}

TEST(LmApi, EightSimultaneousGreedyStreamsEqualAlone) {
  LiveLmApi api(llm::EngineOptions{.threads = 2, .ctx = 512, .slots = 8, .queue = 8});
  auto body_for = [](int i) {
    return R"({"prompt":"Once upon a time )" + std::string(static_cast<size_t>(i), 'a') +
           R"(","max_tokens":32,"temperature":0})";
  };
  std::vector<std::string> alone;
  for (int i = 0; i < 8; ++i)
    alone.push_back(json::parse(api.post("/v1/completions", body_for(i)).body).as_object()["choices"].as_array()[0].as_object()["text"].as_string().c_str());
  std::vector<std::string> together(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      auto r = api.post("/v1/completions", body_for(i));
      together[i] = json::parse(r.body).as_object()["choices"].as_array()[0].as_object()["text"].as_string().c_str();
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(together[i], alone[i]) << i;
}

TEST(LmApi, MetricsCountTokens) {
  LiveLmApi api;
  api.post("/v1/completions", R"({"prompt":"Once upon a time","max_tokens":10,"temperature":0})");
  EXPECT_EQ(api.metric("parley_lm_generated_tokens_total"), 10);
  EXPECT_EQ(api.metric("parley_lm_prompt_tokens_total"), 5);
  api.post("/v1/completions", R"({"prompt":"Once upon a time","max_tokens":10,"temperature":0})");
  EXPECT_EQ(api.metric("parley_lm_prefix_cache_hit_tokens_total"), 4);
}

TEST(OpenAiGenerator, StreamsFromLiveLmApi) {
  LiveLmApi api;
  OpenAiGenerator gen(api.client, {.endpoints = {api.url("")}, .api_key = "secret-key"});
  llm::GenerationInput in;
  in.prompt = "Once upon a time";
  in.options.max_tokens = 64;
  in.options.temperature = 0;
  auto result = net::run_blocking(api.loop, [&]() -> asio::awaitable<std::pair<std::string, llm::GenerationSummary>> {
    auto s = co_await gen.generate(in);
    EXPECT_TRUE(s.ok());
    std::string text;
    while (auto p = co_await (*s)->next()) text += *p;
    co_return std::make_pair(text, (*s)->summary());
  }());
  EXPECT_EQ(result.first, golden_text());
  EXPECT_EQ(result.second.finish_reason, "length");
  EXPECT_EQ(result.second.completion_tokens, 64);
  EXPECT_EQ(result.second.prompt_tokens, 5);
  EXPECT_TRUE(block(api.loop, gen.ready()).ok());

  OpenAiGenerator wrong_key(api.client, {.endpoints = {api.url("")}, .api_key = "nope"});
  auto err = block(api.loop, wrong_key.generate(in));
  EXPECT_FALSE(err.ok());
  in.options.max_tokens = 5000;
  auto too_long = block(api.loop, gen.generate(in));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, ErrorCode::invalid_argument);
}

TEST(OpenAiGenerator, UnreachableIsUnavailable) {
  net::EventLoop loop(1);
  loop.start();
  net::HttpClient client(loop);
  OpenAiGenerator gen(client, {.endpoints = {"http://127.0.0.1:1"}});
  llm::GenerationInput in;
  in.messages = {{"user", "hi"}};
  auto r = block(loop, gen.generate(in));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::unavailable);
  EXPECT_FALSE(block(loop, gen.ready()).ok());
}

TEST(OpenAiGenerator, AffinityKeepsAChatOnOneReplica) {
  net::EventLoop loop(1);
  net::HttpClient client(loop);
  OpenAiGenerator gen(client, {.endpoints = {"http://10.0.0.1:1", "http://10.0.0.2:1", "http://10.0.0.3:1"}});
  std::vector<int> hits(3);
  for (int i = 0; i < 300; ++i) {
    const std::string chat = "chat_" + std::to_string(i);
    const size_t a = gen.pick(chat);
    EXPECT_EQ(gen.pick(chat), a);  // stable
    hits[a]++;
  }
  for (int h : hits) EXPECT_GT(h, 50);  // spread over the replicas
  OpenAiGenerator no_affinity(client, {.endpoints = {"http://10.0.0.1:1", "http://10.0.0.2:1"}, .affinity = false});
  EXPECT_EQ(no_affinity.pick("chat_1"), no_affinity.pick("chat_2"));  // least busy: the first
}

}  // namespace
}  // namespace parley::services::lmapi
