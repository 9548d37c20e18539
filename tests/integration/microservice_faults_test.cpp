// Faults in the microservice topology, with real processes (parley ui -> parley db-api on SQLite,
// parley ui -> parley lm-api on stories260K.gguf):
//   - lm-api killed (SIGKILL) while a reply streams: the user's stream ends with an error event, and
//     the user message and the partial reply are stored (checked through db-api);
//   - db-api killed: the UI answers a clear error page (503, not 500), and recovers once db-api is back.
#include <gtest/gtest.h>
#include <signal.h>

#include "support/microservices.hpp"
#include "support/ui_browser.hpp"

namespace parley::test {
namespace {

std::string field(const boost::json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(it->value().as_string());
}

TEST(MicroserviceFaults, LmApiKilledMidStreamEndsWithAnErrorAndKeepsThePartialReply) {
  // A long reply so that the kill lands mid-stream: greedy decoding of this prompt runs to the
  // 1500-token limit without an end of text (checked with lm-api), at ~1-20 ms per token here.
  Microservices ms({"--max-tokens", "1500"});
  UiBrowser browser(ms.http, ms.ui->base_url());
  browser.open();
  std::string chat = browser.new_chat();
  browser.set_temperature(chat, "0");

  auto body = browser.post_message_stream(chat, "Tell me a long story about a cat");
  ASSERT_EQ(body->status(), 200);
  ASSERT_NE(body->header("Content-Type").find("text/event-stream"), std::string_view::npos);
  std::string streamed;
  auto first = browser.read_events(*body, [&](const net::SseEvent& e) {
    if (e.event == "piece") streamed += boost::json::parse(e.data).as_string().c_str();
    return e.event == "piece" && streamed.size() >= 8;
  });
  ASSERT_GE(streamed.size(), 8u) << "no reply streamed before the kill";
  ASSERT_TRUE(first.empty() || first.back().event == "piece");

  auto killed = ms.lmapi->process().stop(SIGKILL, std::chrono::seconds(20));
  ASSERT_EQ(killed, std::optional<int>(-SIGKILL));

  bool failed = false;
  auto rest = browser.read_events(
      *body, [](const net::SseEvent& e) { return e.event == "done" || e.event == "error"; }, &failed);
  EXPECT_FALSE(failed) << "the UI's stream broke instead of ending with an event";
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back().event, "error") << rest.back().data;
  auto error = boost::json::parse(rest.back().data).as_object();
  EXPECT_FALSE(field(error, "message").empty());
  for (const auto& e : rest)
    if (e.event == "piece") streamed += boost::json::parse(e.data).as_string().c_str();

  // Stored: the user message and the partial reply with status partial or error.
  auto stored = ms.dbapi_get_chat(browser.owner(Microservices::kSessionKey), chat);
  auto& messages = stored.at("messages").as_array();
  ASSERT_EQ(messages.size(), 2u) << boost::json::serialize(stored);
  auto& user = messages[0].as_object();
  auto& reply = messages[1].as_object();
  EXPECT_EQ(field(user, "role"), "user");
  EXPECT_EQ(field(user, "content"), "Tell me a long story about a cat");
  EXPECT_EQ(field(reply, "role"), "assistant");
  std::string status = field(reply, "status");
  EXPECT_TRUE(status == "partial" || status == "error") << status;
  EXPECT_FALSE(field(reply, "content").empty());
  EXPECT_EQ(field(reply, "content"), streamed) << "the stored reply differs from what the user saw";

  // The UI itself is fine: its page answers, and says the model is not ready.
  EXPECT_EQ(browser.get("/chats/" + chat).status, 200);
  EXPECT_EQ(ms.http.get(ms.ui->url("/readyz")).status, 503);

  // lm-api back on the same port: the UI is ready again and the next reply streams.
  ms.lmapi->restart();
  ms.lmapi->wait_ready(ms.http);
  ASSERT_TRUE(
      eventually([&] { return ms.http.get(ms.ui->url("/readyz")).status == 200; }, std::chrono::seconds(30)));
  auto again = browser.post_message_stream(chat, "Again");
  ASSERT_EQ(again->status(), 200);
  auto events = browser.read_events(*again, [](const net::SseEvent& e) {
    return e.event == "piece" || e.event == "done" || e.event == "error";
  });
  ASSERT_FALSE(events.empty());
  EXPECT_NE(events.back().event, "error") << events.back().data;
}

TEST(MicroserviceFaults, DbApiDownIsAClearErrorPageAndTheUiRecovers) {
  Microservices ms({"--max-tokens", "16"});
  UiBrowser browser(ms.http, ms.ui->base_url());
  browser.open();
  std::string chat = browser.new_chat();
  ASSERT_EQ(browser.get("/chats/" + chat).status, 200);

  ASSERT_EQ(ms.dbapi->process().stop(SIGKILL, std::chrono::seconds(20)), std::optional<int>(-SIGKILL));

  // Pages that read: a 503 HTML page that says what is wrong, never a 500 or a stack.
  for (const std::string& path : {std::string("/"), "/chats/" + chat}) {
    auto r = browser.get(path);
    EXPECT_EQ(r.status, 503) << path << ": " << r.body;
    EXPECT_NE(r.header("Content-Type").find("text/html"), std::string_view::npos) << path;
    EXPECT_NE(r.body.find("Temporarily unavailable"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("not reachable"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("127.0.0.1"), std::string::npos) << "internal address leaked: " << r.body;
    EXPECT_FALSE(r.header("Retry-After").empty());
  }
  // Forms that write: the same, and the message is said not to be sent.
  auto post = browser.post_form("/chats/" + chat + "/messages", "content=hello");
  EXPECT_EQ(post.status, 503) << post.body;
  EXPECT_NE(post.body.find("not sent"), std::string::npos) << post.body;
  auto created = browser.post_form("/chats", "");
  EXPECT_EQ(created.status, 503) << created.body;
  // The browser's streaming post gets a JSON error, not a stream.
  auto stream = browser.post_message_stream(chat, "hello");
  EXPECT_EQ(stream->status(), 503);
  // And readiness says why.
  auto ready = ms.http.get(ms.ui->url("/readyz"));
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("chat store"), std::string::npos) << ready.body;

  // db-api back (same port, same database): the UI recovers by itself.
  ms.dbapi->restart();
  ms.dbapi->wait_ready(ms.http);
  ASSERT_TRUE(
      eventually([&] { return browser.get("/chats/" + chat).status == 200; }, std::chrono::seconds(30)));
  EXPECT_EQ(browser.get("/").status, 200);
  EXPECT_EQ(ms.http.get(ms.ui->url("/readyz")).status, 200);
  auto events =
      browser.read_events(*browser.post_message_stream(chat, "hello again"),
                          [](const net::SseEvent& e) { return e.event == "done" || e.event == "error"; });
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "done") << events.back().data;
}

}  // namespace
}  // namespace parley::test
