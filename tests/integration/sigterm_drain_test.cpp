// SIGTERM to each service as a real process (db-api, lm-api, ui, serve) while work is in flight:
// the listener closes at once (new connections are refused), what is in flight finishes (a request
// whose body is still arriving, a token stream, a UI reply stream), and the process exits 0 within
// the drain timeout. A stream longer than the drain timeout is cut at it, and the exit is still 0.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>

#include "net/sse.hpp"
#include "support/microservices.hpp"
#include "support/ui_browser.hpp"

namespace parley::test {
namespace {

constexpr const char* kToken = Microservices::kToken;

// Sends SIGTERM; checks that new connections are refused soon after.
void terminate_and_expect_refusal(ServiceProcess& service) {
  ASSERT_EQ(::kill(service.pid(), SIGTERM), 0);
  EXPECT_TRUE(wait_refusing(service.port(), std::chrono::seconds(20)))
      << service.port() << " still accepts connections after SIGTERM";
}

// Waits for the exit; expects 0 within `within` (a generous bound: the drain timeout plus slack).
void expect_clean_exit(ServiceProcess& service, std::chrono::seconds within) {
  auto code = service.process().wait(within);
  ASSERT_TRUE(code.has_value()) << "no exit within " << within.count() << " s: " << service.log();
  EXPECT_EQ(*code, 0) << service.log();
}

TEST(SigtermDrain, DbApiFinishesARequestWhoseBodyIsStillArriving) {
  TempDir dir("parley-drain-db");
  TestHttp http;
  ServiceProcess api("db-api", {"--database", "sqlite:" + dir.file("c.db"), "--threads", "2"},
                     {{"PARLEY_SERVICE_TOKEN", kToken}, {"PARLEY_DRAIN_TIMEOUT", "30s"}}, dir);
  api.wait_ready(http);
  net::ClientRequest create{.method = net::Method::post, .url = api.url("/v1/chats")};
  create.header("Authorization", std::string("Bearer ") + kToken).header("X-Parley-Owner", "drain");
  create.body = R"({"title":"drain"})";
  create.content_type = "application/json";
  auto created = http.request(std::move(create));
  ASSERT_EQ(created.status, 201);
  std::string chat(boost::json::parse(created.body).at("id").as_string());

  // An idle keep-alive connection, and one with a request half sent.
  TcpClient idle(api.port());
  TcpClient busy(api.port());
  std::string body = R"({"role":"user","content":"sent during the drain","client_key":"drain-1"})";
  std::string head = "POST /v1/chats/" + chat + "/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                     kToken +
                     "\r\nX-Parley-Owner: drain\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n";
  ASSERT_TRUE(busy.send(head + body.substr(0, 10)));
  // Let the server read the head (its read completes within microseconds; 1 s covers a loaded machine).
  std::this_thread::sleep_for(std::chrono::seconds(1));

  terminate_and_expect_refusal(api);
  EXPECT_TRUE(idle.closed_by_peer(20000)) << "an idle connection was kept open during the drain";
  ASSERT_TRUE(busy.send(body.substr(10)));
  ASSERT_TRUE(busy.read_until("\r\n\r\n", 20000)) << busy.buffer();
  EXPECT_EQ(busy.buffer().rfind("HTTP/1.1 201", 0), 0u) << busy.buffer();
  EXPECT_NE(busy.buffer().find("Connection: close"), std::string::npos) << busy.buffer();
  expect_clean_exit(api, std::chrono::seconds(40));
}

// Reads an OpenAI SSE stream until [DONE] or the end; returns the content and whether [DONE] came.
struct StreamResult {
  std::string content;
  bool done = false;
  bool broken = false;
};
StreamResult read_completion(TestHttp& http, net::ResponseBody& body, std::string content = {}) {
  StreamResult out{.content = std::move(content)};
  net::SseParser parser;
  try {
    while (auto piece = http.read_some(body)) {
      parser.feed(*piece, [&](const net::SseEvent& e) {
        if (e.data == "[DONE]") {
          out.done = true;
          return;
        }
        auto v = boost::json::parse(e.data);
        auto& choice = v.at("choices").as_array().at(0).as_object();
        if (auto d = choice.find("delta"); d != choice.end())
          if (auto c = d->value().as_object().find("content");
              c != d->value().as_object().end() && c->value().is_string())
            out.content += c->value().as_string().c_str();
      });
    }
  } catch (const net::ClientError&) {
    out.broken = true;
  }
  return out;
}

std::unique_ptr<net::ResponseBody> start_completion(TestHttp& http, const ServiceProcess& lm,
                                                    int max_tokens) {
  net::ClientRequest r{.method = net::Method::post, .url = lm.url("/v1/chat/completions")};
  r.header("Authorization", std::string("Bearer ") + kToken);
  // Greedy: this prompt runs to max_tokens without an end of text, so the stream's length is known.
  r.body =
      R"({"messages":[{"role":"user","content":"Tell me a story"}],"stream":true,"temperature":0,"max_tokens":)" +
      std::to_string(max_tokens) + "}";
  r.content_type = "application/json";
  auto body = http.stream(std::move(r));
  if (body->status() != 200)
    throw std::runtime_error("completion answered " + std::to_string(body->status()));
  return body;
}

TEST(SigtermDrain, LmApiFinishesTheStreamInFlight) {
  TempDir dir("parley-drain-lm");
  TestHttp http;
  ServiceProcess lm("lm-api", {"--model", stories_model(), "--threads", "1"},
                    {{"PARLEY_SERVICE_TOKEN", kToken}, {"PARLEY_DRAIN_TIMEOUT", "40s"}}, dir);
  lm.wait_ready(http);
  auto body = start_completion(http, lm, 48);
  auto first = http.read_some(*body);  // the stream runs
  ASSERT_TRUE(first.has_value());

  terminate_and_expect_refusal(lm);
  StreamResult r = read_completion(http, *body);
  EXPECT_FALSE(r.broken);
  EXPECT_TRUE(r.done) << "the stream in flight did not finish: " << r.content;
  expect_clean_exit(lm, std::chrono::seconds(50));
}

TEST(SigtermDrain, LmApiCutsAStreamLongerThanTheDrainTimeoutAndStillExitsZero) {
  TempDir dir("parley-drain-lm2");
  TestHttp http;
  ServiceProcess lm("lm-api", {"--model", stories_model(), "--threads", "1"},
                    {{"PARLEY_SERVICE_TOKEN", kToken}, {"PARLEY_DRAIN_TIMEOUT", "1s"}}, dir);
  lm.wait_ready(http);
  auto body = start_completion(http, lm, 1900);
  ASSERT_TRUE(http.read_some(*body).has_value());
  auto t0 = Clock::now();
  terminate_and_expect_refusal(lm);
  StreamResult r = read_completion(http, *body);
  expect_clean_exit(lm, std::chrono::seconds(30));
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(30));
  // 1900 tokens take far longer than 1 s here; if the machine were that fast, the stream is simply done.
  if (!r.done) {
    EXPECT_TRUE(r.broken);
  }
}

TEST(SigtermDrain, UiFinishesTheReplyStreamInFlight) {
  Microservices ms({"--max-tokens", "48"}, {}, {{"PARLEY_DRAIN_TIMEOUT", "40s"}});
  UiBrowser browser(ms.http, ms.ui->base_url());
  browser.open();
  std::string chat = browser.new_chat();
  browser.set_temperature(chat, "0");  // greedy: the reply runs to --max-tokens
  auto body = browser.post_message_stream(chat, "Hello there");
  ASSERT_EQ(body->status(), 200);
  auto first = browser.read_events(*body, [](const net::SseEvent& e) { return e.event == "piece"; });
  ASSERT_FALSE(first.empty());

  terminate_and_expect_refusal(*ms.ui);
  bool failed = false;
  auto rest = browser.read_events(
      *body, [](const net::SseEvent& e) { return e.event == "done" || e.event == "error"; }, &failed);
  EXPECT_FALSE(failed);
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back().event, "done") << rest.back().data;
  expect_clean_exit(*ms.ui, std::chrono::seconds(50));
  // The reply was stored complete.
  auto stored = ms.dbapi_get_chat(browser.owner(Microservices::kSessionKey), chat);
  auto& messages = stored.at("messages").as_array();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[1].at("status"), "complete");
}

TEST(SigtermDrain, ServeFinishesTheReplyStreamInFlight) {
  TempDir dir("parley-drain-serve");
  TestHttp http;
  ServiceProcess serve(
      "serve",
      {"--model", stories_model(), "--data-dir", dir.file("data"), "--threads", "1", "--max-tokens", "48"},
      {{"SESSION_KEY", Microservices::kSessionKey},
       {"SESSION_KEYS", std::nullopt},
       {"PARLEY_DATABASE", std::nullopt},
       {"PARLEY_DRAIN_TIMEOUT", "40s"}},
      dir);
  serve.wait_ready(http);
  UiBrowser browser(http, serve.base_url());
  browser.open();
  std::string chat = browser.new_chat();
  browser.set_temperature(chat, "0");  // greedy: the reply runs to --max-tokens
  auto body = browser.post_message_stream(chat, "Hello there");
  ASSERT_EQ(body->status(), 200);
  ASSERT_FALSE(browser.read_events(*body, [](const net::SseEvent& e) { return e.event == "piece"; }).empty());

  terminate_and_expect_refusal(serve);
  bool failed = false;
  auto rest = browser.read_events(
      *body, [](const net::SseEvent& e) { return e.event == "done" || e.event == "error"; }, &failed);
  EXPECT_FALSE(failed);
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back().event, "done") << rest.back().data;
  expect_clean_exit(serve, std::chrono::seconds(50));
}

}  // namespace
}  // namespace parley::test
