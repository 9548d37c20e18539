// The UI's generation limits: the per-session token bucket (429 + Retry-After), the replica's cap on
// concurrent streams (503 + Retry-After), how both look to the page script (JSON) and without
// JavaScript (the chat page with the message in place), and the flags/environment that set them.
#include <atomic>
#include <cstdlib>
#include <future>
#include <thread>

#include "services/ui/generation_limit_options.hpp"
#include "services/ui/generation_rate_limiter.hpp"
#include "ui_fixture.hpp"

namespace parley::test {
namespace {

using ui::GenerationRateLimiter;
using ui::RateLimit;

bool has(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

// Polls (no fixed sleeps): generous, the machine is shared.
bool eventually(const std::function<bool()>& cond, int ms = 30000) {
  for (int i = 0; i < ms / 5; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return cond();
}

TEST(GenerationRateLimiter, BurstThenTheRateWithTheWaitToTheNextToken) {
  int64_t now = 1'000'000;
  GenerationRateLimiter limiter(RateLimit{.per_minute = 6, .burst = 3}, [&] { return now; });  // a token per 10 s
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.try_take("a"), 0) << i;
  EXPECT_EQ(limiter.try_take("a"), 10);
  EXPECT_EQ(limiter.try_take("a"), 10) << "a refused call takes nothing";
  EXPECT_EQ(limiter.try_take("b"), 0) << "another session has its own bucket";
  now += 4'000;
  EXPECT_EQ(limiter.try_take("a"), 6);
  now += 6'000;
  EXPECT_EQ(limiter.try_take("a"), 0);
  EXPECT_EQ(limiter.try_take("a"), 10);
  now += 9'001;
  EXPECT_EQ(limiter.try_take("a"), 1) << "rounded up, never 0";
  now += 1'000'000;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.try_take("a"), 0) << "refills to the burst, not beyond";
  EXPECT_GT(limiter.try_take("a"), 0);
}

TEST(GenerationRateLimiter, RefundGivesTheTokenBack) {
  int64_t now = 0;
  GenerationRateLimiter limiter(RateLimit{.per_minute = 1, .burst = 1}, [&] { return now; });
  EXPECT_EQ(limiter.try_take("a"), 0);
  EXPECT_EQ(limiter.try_take("a"), 60);
  limiter.refund("a");
  EXPECT_EQ(limiter.try_take("a"), 0);
  limiter.refund("a");
  limiter.refund("a");
  EXPECT_EQ(limiter.try_take("a"), 0);
  EXPECT_GT(limiter.try_take("a"), 0) << "never more than the burst";
}

TEST(GenerationRateLimiter, ZeroPerMinuteIsNoLimit) {
  GenerationRateLimiter limiter(RateLimit{.per_minute = 0, .burst = 1});
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(limiter.try_take("a"), 0);
  EXPECT_EQ(limiter.tracked_sessions(), 0u);
}

TEST(GenerationRateLimiter, MemoryStaysBoundedByRecentSessions) {
  int64_t now = 0;
  GenerationRateLimiter limiter(RateLimit{.per_minute = 60, .burst = 2}, [&] { return now; });  // full after 2 s
  for (int i = 0; i < 100'000; ++i) {
    ASSERT_EQ(limiter.try_take("session-" + std::to_string(i)), 0);
    now += 1;  // 1,000 new sessions per second
  }
  // Only the sessions of the last ~2 s (plus one sweep's slack) are remembered.
  EXPECT_LE(limiter.tracked_sessions(), 8'000u);
}

class UiLimits : public UiFixture {
 protected:
  // An SSE post of `b` that keeps streaming until stopped; returns once the first piece arrived.
  std::future<SseResult> hold_stream(Browser& b, const std::string& chat) {
    auto streaming = std::make_shared<std::atomic<bool>>(false);
    auto fut = std::async(std::launch::async, [&b, chat, streaming] {
      return b.post_stream("/chats/" + chat + "/messages", "content=go", [streaming](const net::SseEvent& e) {
        if (e.event == "piece") *streaming = true;
        return true;
      });
    });
    EXPECT_TRUE(eventually([&] { return streaming->load(); })) << "the first stream started";
    return fut;
  }
  size_t messages_in(Browser& b, const std::string& id) {
    auto sealer = make_sealer(kSecret);
    auto opened = sealer.unseal(b.cookie, std::time(nullptr));
    EXPECT_TRUE(opened);
    auto chat = run(store->get_chat(opened->session.owner, id));
    EXPECT_TRUE(chat.ok());
    return chat.ok() ? chat->messages.size() : 0;
  }
  int64_t now_ms = 5'000'000;
};

TEST_F(UiLimits, SessionRateLimitIs429WithRetryAfterAndTheMessageInPlace) {
  start(ui::UiOptions{.generation_rate = {.per_minute = 2, .burst = 2}, .monotonic_ms = [this] { return now_ms; }});
  std::string id = new_chat(*browser);
  EXPECT_EQ(browser->post("/chats/" + id + "/messages", "content=one").status, 303);
  EXPECT_EQ(browser->post("/chats/" + id + "/regenerate").status, 303) << "regenerate counts too";
  EXPECT_EQ(messages_in(*browser, id), 2u);
  int calls = generator.calls.load();

  // Without JavaScript: the chat page itself, the reason in place, status 429.
  auto page = browser->post("/chats/" + id + "/messages", "content=three");
  EXPECT_EQ(page.status, 429);
  EXPECT_EQ(page.header("Retry-After"), "30");
  EXPECT_TRUE(has(std::string(page.header("Content-Type")), "text/html"));
  EXPECT_TRUE(has(page.body, "id=\"composer\"")) << "the chat page, ready to send again";
  EXPECT_TRUE(has(page.body, "You can send again in 30 seconds")) << page.body;
  EXPECT_TRUE(has(page.body, "role=\"alert\""));
  // The page script (Accept: text/event-stream): a JSON error it shows in place.
  auto streamed = browser->post_stream("/chats/" + id + "/messages", "content=three");
  EXPECT_EQ(streamed.status, 429);
  EXPECT_TRUE(has(streamed.text, "\"code\":\"rate_limited\"")) << streamed.text;
  EXPECT_TRUE(has(streamed.text, "You can send again in 30 seconds"));
  auto regen = browser->send(Method::post, "/chats/" + id + "/regenerate", "csrf=" + net::percent_encode(browser->csrf),
                             {{"Accept", "application/json"}});
  EXPECT_EQ(regen.status, 429);
  EXPECT_EQ(regen.header("Retry-After"), "30");
  EXPECT_EQ(generator.calls.load(), calls) << "nothing was generated";
  EXPECT_EQ(messages_in(*browser, id), 2u) << "a refused message is not stored";

  // Another session is not limited by this one.
  Browser other(loop, *client, server.get());
  std::string theirs = new_chat(other);
  EXPECT_EQ(other.post("/chats/" + theirs + "/messages", "content=hi").status, 303);

  // A token comes back after 30 s (at 2 per minute).
  now_ms += 29'000;
  EXPECT_EQ(browser->post("/chats/" + id + "/messages", "content=three").header("Retry-After"), "1");
  now_ms += 1'000;
  EXPECT_EQ(browser->post("/chats/" + id + "/messages", "content=three").status, 303);
  EXPECT_EQ(messages_in(*browser, id), 4u);
}

TEST_F(UiLimits, ARefusedSendDoesNotSpendARateToken) {
  // One token: a send refused by the concurrency limit, or by a missing chat, keeps it.
  generator.script.pieces = std::vector<std::string>(4000, "y");  // >= 20 s unless stopped: outlasts any slow request
  generator.script.delay = std::chrono::milliseconds(5);
  start(ui::UiOptions{.max_generations_per_session = 1,
                      .generation_rate = {.per_minute = 1, .burst = 2},
                      .monotonic_ms = [this] { return now_ms; }});
  std::string a = new_chat(*browser);
  std::string b = new_chat(*browser);
  Browser same = *browser;
  auto held = hold_stream(*browser, a);  // token 1
  EXPECT_EQ(same.post("/chats/" + b + "/messages", "content=x").status, 429);  // concurrency: no token spent
  EXPECT_EQ(same.post("/chats/chat_00000000000000000000000000000000/messages", "content=x").status, 404);
  same.post("/chats/" + a + "/stop");
  held.get();
  generator.script.delay = std::chrono::milliseconds(0);
  EXPECT_EQ(same.post("/chats/" + b + "/messages", "content=x").status, 303);  // token 2
  auto refused = same.post("/chats/" + b + "/messages", "content=x");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.header("Retry-After"), "60");
}

TEST_F(UiLimits, ReplicaStreamCapIs503WithRetryAfterForEverySession) {
  generator.script.pieces = std::vector<std::string>(4000, "y");  // >= 20 s unless stopped: outlasts any slow request
  generator.script.delay = std::chrono::milliseconds(5);
  start(ui::UiOptions{.max_generations_total = 1});
  std::string a = new_chat(*browser);
  auto held = hold_stream(*browser, a);

  Browser other(loop, *client, server.get());
  std::string theirs = new_chat(other);
  auto page = other.post("/chats/" + theirs + "/messages", "content=hi");
  EXPECT_EQ(page.status, 503);
  EXPECT_FALSE(page.header("Retry-After").empty());
  EXPECT_TRUE(has(page.body, "id=\"composer\"")) << "in place, on the chat page";
  EXPECT_TRUE(has(page.body, "as many replies as it can")) << page.body;
  auto streamed = other.post_stream("/chats/" + theirs + "/messages", "content=hi");
  EXPECT_EQ(streamed.status, 503);
  EXPECT_TRUE(has(streamed.text, "\"code\":\"unavailable\"")) << streamed.text;
  EXPECT_EQ(messages_in(other, theirs), 0u);

  browser->post("/chats/" + a + "/stop");
  held.get();
  EXPECT_TRUE(eventually([&] { return server->service->active_generations() == 0; }));
  generator.script.delay = std::chrono::milliseconds(0);
  EXPECT_EQ(other.post("/chats/" + theirs + "/messages", "content=hi").status, 303) << "room again";
}

TEST(GenerationLimitOptions, FlagsThenEnvironmentThenDefaults) {
  {
    ui::UiOptions o;
    CLI::App app;
    ui::add_generation_limit_options(&app, o);
    app.parse("", /*program_name_included=*/false);
    EXPECT_EQ(o.max_generations_per_session, 2);
    EXPECT_EQ(o.max_generations_total, 1024);
    EXPECT_DOUBLE_EQ(o.generation_rate.per_minute, 20);
    EXPECT_EQ(o.generation_rate.burst, 10);
  }
  ::setenv("PARLEY_GENERATIONS_PER_MINUTE", "5", 1);
  ::setenv("PARLEY_MAX_STREAMS", "300", 1);
  {
    ui::UiOptions o;
    CLI::App app;
    ui::add_generation_limit_options(&app, o);
    app.parse("--max-streams 7 --generation-burst 12", /*program_name_included=*/false);
    EXPECT_DOUBLE_EQ(o.generation_rate.per_minute, 5) << "from the environment";
    EXPECT_EQ(o.max_generations_total, 7) << "the flag wins over the environment";
    EXPECT_EQ(o.generation_rate.burst, 12);
  }
  ::setenv("PARLEY_MAX_STREAMS", "0", 1);
  {
    ui::UiOptions o;
    CLI::App app;
    ui::add_generation_limit_options(&app, o);
    EXPECT_THROW(app.parse("", /*program_name_included=*/false), CLI::ValidationError) << "a cap of 0 streams is refused";
  }
  ::unsetenv("PARLEY_GENERATIONS_PER_MINUTE");
  ::unsetenv("PARLEY_MAX_STREAMS");
}

}  // namespace
}  // namespace parley::test
