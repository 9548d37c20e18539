// Handler tests of posting messages, streaming replies, stop, busy retries, failures.
#include <future>
#include <thread>

#include "net/json.hpp"
#include "ui_fixture.hpp"

namespace parley::test {
namespace {

bool has(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

store::ChatWithMessages load(UiFixture& f, Browser& b, const std::string& id) {
  // The owner is inside the sealed cookie; read it back through the page instead: the store is
  // checked through a fresh get with the owner recovered from the session sealer.
  auto sealer = make_sealer(UiFixture::kSecret);
  auto opened = sealer.unseal(b.cookie, std::time(nullptr));
  EXPECT_TRUE(opened);
  auto chat = f.run(f.store->get_chat(opened->session.owner, id));
  EXPECT_TRUE(chat.ok());
  return chat.ok() ? std::move(*chat) : store::ChatWithMessages{};
}

void wait_for(const std::function<bool()>& cond, int ms = 5000) {
  for (int i = 0; i < ms / 5 && !cond(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

TEST_F(UiFixture, FormPostWaitsForTheReplyThenRedirects) {
  start();
  std::string id = new_chat(*browser);
  auto res = browser->post("/chats/" + id + "/messages", "content=Tell+me+*something*");
  EXPECT_EQ(res.status, 303);
  EXPECT_TRUE(has(std::string(res.header("Location")), "/chats/" + id + "#msg_"));
  auto page = browser->page("/chats/" + id);
  EXPECT_TRUE(has(page.body, "Tell me <em>something</em>"));
  EXPECT_TRUE(has(page.body, "Hello, <strong>world</strong>!"));
  EXPECT_TRUE(has(page.body, "<title>Tell me *something* · Parley</title>")) << "titled after the first message";
  auto chat = load(*this, *browser, id);
  ASSERT_EQ(chat.messages.size(), 2u);
  EXPECT_EQ(chat.messages[0].role, store::Role::user);
  EXPECT_EQ(chat.messages[1].content, "Hello, **world**!");
  EXPECT_EQ(chat.messages[1].status, store::MessageStatus::complete);
  EXPECT_EQ(chat.messages[1].finish_reason, "stop");
  EXPECT_EQ(chat.messages[1].completion_tokens, 4);
  auto input = generator.last_input();
  EXPECT_TRUE(input.truncate_history);
  EXPECT_EQ(input.affinity_key, id);
  ASSERT_EQ(input.messages.size(), 1u);
  EXPECT_EQ(input.messages[0].content, "Tell me *something*");
}

TEST_F(UiFixture, SseStreamsPiecesThenTheRenderedReply) {
  start();
  std::string id = new_chat(*browser);
  browser->post("/chats/" + id + "/settings", "system_prompt=Be+kind.&temperature=0.5");
  auto r = browser->post_stream("/chats/" + id + "/messages", "content=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/event-stream");
  ASSERT_GE(r.events.size(), 6u);
  EXPECT_EQ(r.events.front().event, "user");
  auto user_event = net::parse_json(r.events.front().data);
  ASSERT_TRUE(user_event.ok());
  std::string user_html(user_event->at("html").as_string());
  EXPECT_TRUE(has(user_html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_FALSE(has(user_html, "<script>"));
  EXPECT_EQ(user_event->at("title").as_string(), "<script>alert(1)</script>")
      << "the first message names the chat (the page sets it with textContent)";
  EXPECT_EQ(r.text, "\"Hello\"\", \"\"**world**\"\"!\"") << "one JSON string per piece";
  const net::SseEvent* done = r.find("done");
  ASSERT_NE(done, nullptr);
  EXPECT_TRUE(has(done->data, "<strong>world</strong>"));
  EXPECT_EQ(r.find("error"), nullptr);
  auto input = generator.last_input();
  ASSERT_EQ(input.messages.size(), 2u);
  EXPECT_EQ(input.messages[0].role, "system");
  EXPECT_EQ(input.messages[0].content, "Be kind.");
  ASSERT_TRUE(input.options.temperature);
  EXPECT_DOUBLE_EQ(*input.options.temperature, 0.5);
}

TEST_F(UiFixture, EmptyMessageIs400AndNothingIsStored) {
  start();
  std::string id = new_chat(*browser);
  EXPECT_EQ(browser->post("/chats/" + id + "/messages", "content=+%0A+").status, 400);
  EXPECT_EQ(load(*this, *browser, id).messages.size(), 0u);
  EXPECT_EQ(generator.calls.load(), 0);
}

TEST_F(UiFixture, StopCancelsTheGenerationAndKeepsThePartialReply) {
  generator.script.pieces = std::vector<std::string>(200, "word ");
  generator.script.delay = std::chrono::milliseconds(20);
  start();
  std::string id = new_chat(*browser);
  Browser stopper = *browser;  // same session, another request
  std::atomic<int> pieces{0};
  auto fut = std::async(std::launch::async, [&] {
    return browser->post_stream("/chats/" + id + "/messages", "content=go", [&](const net::SseEvent& e) {
      if (e.event == "piece") ++pieces;
      return true;
    });
  });
  wait_for([&] { return pieces.load() >= 3; });
  auto page = stopper.page("/chats/" + id);
  EXPECT_TRUE(has(page.body, "A reply is being written")) << "a reload mid-stream says so";
  auto stop = stopper.post("/chats/" + id + "/stop");
  EXPECT_EQ(stop.status, 303);
  auto r = fut.get();
  EXPECT_EQ(generator.cancelled.load(), 1);
  EXPECT_LT(pieces.load(), 100);
  const net::SseEvent* done = r.find("done");
  ASSERT_NE(done, nullptr);
  EXPECT_TRUE(has(done->data, "Stopped before the end"));
  auto chat = load(*this, *browser, id);
  ASSERT_EQ(chat.messages.size(), 2u);
  EXPECT_EQ(chat.messages[1].status, store::MessageStatus::partial);
  EXPECT_EQ(chat.messages[1].finish_reason, "cancelled");
  EXPECT_TRUE(has(chat.messages[1].content, "word"));
  EXPECT_TRUE(has(stopper.page("/chats/" + id).body, "Stopped before the end"));
  EXPECT_EQ(server->service->active_generations(), 0u);
}

TEST_F(UiFixture, ClosingTheStreamCancelsTheGeneration) {
  generator.script.pieces = std::vector<std::string>(500, "x");
  generator.script.delay = std::chrono::milliseconds(10);
  start();
  std::string id = new_chat(*browser);
  int seen = 0;
  auto r = browser->post_stream("/chats/" + id + "/messages", "content=go",
                                [&](const net::SseEvent& e) { return !(e.event == "piece" && ++seen == 3); });
  EXPECT_EQ(seen, 3);
  wait_for([&] { return generator.cancelled.load() == 1 && server->service->active_generations() == 0; });
  EXPECT_EQ(generator.cancelled.load(), 1) << "the tab closed: the generation stops";
  wait_for([&] { return load(*this, *browser, id).messages.size() == 2; });
  auto chat = load(*this, *browser, id);
  ASSERT_EQ(chat.messages.size(), 2u);
  EXPECT_EQ(chat.messages[1].status, store::MessageStatus::partial);
  EXPECT_LT(chat.messages[1].content.size(), 500u);
}

TEST_F(UiFixture, BusyModelIsRetriedWithBackoffAndTheUserIsTold) {
  generator.busy_remaining = 2;
  start(ui::UiOptions{.busy_first_backoff = std::chrono::milliseconds(50)});
  std::string id = new_chat(*browser);
  auto r = browser->post_stream("/chats/" + id + "/messages", "content=hi");
  int statuses = 0;
  for (const auto& e : r.events) statuses += e.event == "status" && has(e.data, "busy, retrying");
  EXPECT_EQ(statuses, 2);
  EXPECT_NE(r.find("done"), nullptr);
  EXPECT_EQ(generator.calls.load(), 3);
  EXPECT_EQ(load(*this, *browser, id).messages.at(1).status, store::MessageStatus::complete);
}

TEST_F(UiFixture, ModelDownIsAnErrorInPlaceAndTheUserMessageIsKept) {
  generator.down = true;
  start(ui::UiOptions{.busy_first_backoff = std::chrono::milliseconds(20),
                      .busy_retry_budget = std::chrono::milliseconds(100)});
  std::string id = new_chat(*browser);
  auto r = browser->post_stream("/chats/" + id + "/messages", "content=are+you+there");
  const net::SseEvent* err = r.find("error");
  ASSERT_NE(err, nullptr);
  EXPECT_TRUE(has(err->data, "not reachable"));
  auto chat = load(*this, *browser, id);
  ASSERT_EQ(chat.messages.size(), 2u);
  EXPECT_EQ(chat.messages[0].content, "are you there");
  EXPECT_EQ(chat.messages[1].status, store::MessageStatus::error);
  // Without JavaScript: the redirect, and the page shows the failure.
  EXPECT_EQ(browser->post("/chats/" + id + "/messages", "content=again").status, 303);
  auto page = browser->page("/chats/" + id);
  EXPECT_EQ(page.status, 200);
  EXPECT_TRUE(has(page.body, "The reply failed"));
  EXPECT_TRUE(has(page.body, "again"));
  // It comes back: regenerate replaces the failed reply.
  generator.down = false;
  EXPECT_EQ(browser->post("/chats/" + id + "/regenerate").status, 303);
  chat = load(*this, *browser, id);
  ASSERT_EQ(chat.messages.size(), 4u);
  EXPECT_EQ(chat.messages[3].status, store::MessageStatus::complete);
  auto input = generator.last_input();
  ASSERT_EQ(input.messages.size(), 1u) << "the two user turns are joined, the failed replies left out";
  EXPECT_EQ(input.messages[0].content, "are you there\n\nagain");
}

TEST_F(UiFixture, FailureMidStreamIsStoredAsError) {
  generator.script.fail_after = 2;
  start();
  std::string id = new_chat(*browser);
  auto r = browser->post_stream("/chats/" + id + "/messages", "content=hi");
  ASSERT_NE(r.find("error"), nullptr);
  EXPECT_TRUE(has(r.find("error")->data, "cut short"));
  auto chat = load(*this, *browser, id);
  ASSERT_EQ(chat.messages.size(), 2u);
  EXPECT_EQ(chat.messages[1].status, store::MessageStatus::error);
  EXPECT_EQ(chat.messages[1].content, "Hello, ");
}

TEST_F(UiFixture, RegenerateReplacesTheLastReply) {
  start();
  std::string id = new_chat(*browser);
  browser->post("/chats/" + id + "/messages", "content=hi");
  generator.script.pieces = {"Second ", "answer"};
  auto r = browser->post_stream("/chats/" + id + "/regenerate", "");
  EXPECT_EQ(r.find("user"), nullptr);
  ASSERT_NE(r.find("done"), nullptr);
  auto chat = load(*this, *browser, id);
  ASSERT_EQ(chat.messages.size(), 2u);
  EXPECT_EQ(chat.messages[1].content, "Second answer");
  ASSERT_EQ(generator.last_input().messages.size(), 1u);
  std::string empty = new_chat(*browser);
  EXPECT_EQ(browser->post("/chats/" + empty + "/regenerate").status, 400);
}

TEST_F(UiFixture, ConcurrentGenerationsPerSessionAreLimited) {
  generator.script.pieces = std::vector<std::string>(100, "y");
  generator.script.delay = std::chrono::milliseconds(10);
  start(ui::UiOptions{.max_generations_per_session = 1});
  std::string a = new_chat(*browser);
  std::string b = new_chat(*browser);
  Browser same = *browser;
  std::atomic<bool> streaming{false};
  auto fut = std::async(std::launch::async, [&] {
    return browser->post_stream("/chats/" + a + "/messages", "content=go", [&](const net::SseEvent& e) {
      if (e.event == "piece") streaming = true;
      return true;
    });
  });
  wait_for([&] { return streaming.load(); });
  auto second = same.post("/chats/" + b + "/messages", "content=too");
  EXPECT_EQ(second.status, 429);
  EXPECT_TRUE(has(second.body, "Too many replies"));
  auto same_chat = same.post("/chats/" + a + "/messages", "content=too");
  EXPECT_EQ(same_chat.status, 409);
  // Another session is not limited by this one.
  Browser other(loop, *client, server.get());
  std::string c = new_chat(other);
  generator.script.delay = std::chrono::milliseconds(0);
  EXPECT_EQ(other.post("/chats/" + c + "/messages", "content=fine").status, 303);
  same.post("/chats/" + a + "/stop");
  fut.get();
  EXPECT_EQ(load(*this, *browser, b).messages.size(), 0u) << "a refused message is not stored";
}

}  // namespace
}  // namespace parley::test
