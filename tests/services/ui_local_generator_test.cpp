// The UI over the real in-process engine (llm::LocalGenerator on stories260K) and a real SQLite
// store: streaming, the no-JavaScript path, and Stop reaching the engine (its sequence finishes
// as cancelled and its slot is freed).
#include <future>
#include <thread>

#include "llm/runtime/local_generator.hpp"
#include "ui_fixture.hpp"

namespace parley::test {
namespace {

bool has(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

struct UiLocalGenerator : ::testing::Test {
  TempDir dir{"parley-ui-local"};
  net::EventLoop loop{2};
  std::unique_ptr<store::sqlite::SqliteChatStore> store;
  std::unique_ptr<llm::LocalGenerator> generator;
  std::unique_ptr<UiServer> server;
  std::unique_ptr<net::HttpClient> client;

  void SetUp() override {
    llm::LocalGeneratorOptions opt;
    opt.engine.threads = 1;
    opt.engine.ctx = 2048;
    opt.engine.slots = 2;
    opt.default_max_tokens = 1500;
    generator = llm::LocalGenerator::open(std::string(PARLEY_SHARED_DIR) + "/models/stories260K.gguf", opt);
    store = std::make_unique<store::sqlite::SqliteChatStore>(dir.file("chats.db"));
    loop.start();
    client = std::make_unique<net::HttpClient>(loop);
    server = std::make_unique<UiServer>(loop, *store, *generator, "local-test-secret-0123456789");
  }
  void TearDown() override {
    server.reset();
    client.reset();
    loop.stop();
  }
  std::string new_chat(Browser& b) {
    b.page("/");
    std::string id = chat_id_from_location(b.post("/chats").header("Location"));
    b.page("/chats/" + id);
    return id;
  }
};

TEST_F(UiLocalGenerator, StreamsAStoryAndStoresIt) {
  Browser b(loop, *client, server.get());
  std::string id = new_chat(b);
  b.post("/chats/" + id + "/settings", "system_prompt=&temperature=0");
  auto r = b.post_stream("/chats/" + id + "/messages", "content=Once+upon+a+time");
  ASSERT_EQ(r.status, 200);
  int pieces = 0;
  for (const auto& e : r.events) pieces += e.event == "piece";
  EXPECT_GT(pieces, 5) << "the reply arrives in pieces";
  ASSERT_NE(r.find("done"), nullptr) << (r.find("error") ? r.find("error")->data : "");
  auto page = b.page("/chats/" + id);
  EXPECT_TRUE(has(page.body, "msg assistant complete"));
  for (int i = 0; i < 200 && generator->engine().stats().running != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(generator->engine().stats().running, 0);
}

TEST_F(UiLocalGenerator, FormPostWithoutJavaScript) {
  Browser b(loop, *client, server.get());
  std::string id = new_chat(b);
  auto res = b.post("/chats/" + id + "/messages", "content=Lily+had+a+cat");
  EXPECT_EQ(res.status, 303);
  auto page = b.page("/chats/" + id);
  EXPECT_TRUE(has(page.body, "Lily had a cat"));
  EXPECT_TRUE(has(page.body, "msg assistant complete"));
}

TEST_F(UiLocalGenerator, StopCancelsTheEngineSequence) {
  Browser b(loop, *client, server.get());
  std::string id = new_chat(b);
  b.post("/chats/" + id + "/settings", "system_prompt=&temperature=2");  // long, random stories
  Browser stopper = b;
  std::atomic<int> pieces{0};
  // The stop goes from this thread: the stream's callback runs on an event-loop thread, which must
  // not wait for another request (that request may be served by the same thread).
  auto fut = std::async(std::launch::async, [&] {
    return b.post_stream("/chats/" + id + "/messages", "content=Tell+me+a+story", [&](const net::SseEvent& e) {
      if (e.event == "piece") ++pieces;
      return true;
    });
  });
  for (int i = 0; i < 20000 && pieces.load() < 5; ++i) std::this_thread::sleep_for(std::chrono::microseconds(500));
  ASSERT_GE(pieces.load(), 5);
  EXPECT_EQ(generator->engine().stats().running, 1);
  EXPECT_EQ(stopper.post("/chats/" + id + "/stop").status, 303);
  auto r = fut.get();
  ASSERT_NE(r.find("done"), nullptr);
  EXPECT_TRUE(has(r.find("done")->data, "Stopped before the end"));
  for (int i = 0; i < 200 && generator->engine().stats().running != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(generator->engine().stats().running, 0) << "the engine's slot is free";
  EXPECT_LT(pieces.load(), 1400);
}

TEST_F(UiLocalGenerator, ClosingTheStreamCancelsTheEngineSequence) {
  Browser b(loop, *client, server.get());
  std::string id = new_chat(b);
  b.post("/chats/" + id + "/settings", "system_prompt=&temperature=2");
  int seen = 0;
  b.post_stream("/chats/" + id + "/messages", "content=Tell+me+a+story",
                [&](const net::SseEvent& e) { return !(e.event == "piece" && ++seen == 5); });
  for (int i = 0; i < 400 && generator->engine().stats().running != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(generator->engine().stats().running, 0) << "closing the tab frees the engine's slot";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto page = b.page("/chats/" + id);
  EXPECT_TRUE(has(page.body, "msg assistant partial")) << "the partial reply is stored";
}

}  // namespace
}  // namespace parley::test
