// The load tester against real services started here (db-api on SQLite, lm-api on stories260K,
// parley serve): its counts must agree with the servers' own /metrics.
#include <gtest/gtest.h>

#include <thread>

#include "tools/live_service.hpp"
#include "tools/loadtest/report.hpp"
#include "tools/loadtest/runner.hpp"
#include "tools/plan/planner.hpp"

namespace parley::tools::loadtest {
namespace {
using test::kToken;
using test::LiveService;
using test::sum_series;

const std::string kModel = std::string(PARLEY_SHARED_DIR) + "/models/stories260K.gguf";

LoadOptions quick(const std::string& url, const std::string& scenario, int users, double seconds) {
  LoadOptions o;
  o.url = url;
  o.scenario = scenario;
  o.users = users;
  o.duration_s = seconds;
  o.token = kToken;
  o.progress = false;
  return o;
}

// "GET /v1/chats/{id}" -> the server's labels method="GET",route="/v1/chats/{id}".
std::vector<std::string> labels_of(const std::string& endpoint) {
  auto sp = endpoint.find(' ');
  return {"method=\"" + endpoint.substr(0, sp) + "\"", "route=\"" + endpoint.substr(sp + 1) + "\""};
}

double http_requests(const std::map<std::string, double>& m, const std::string& endpoint) {
  return sum_series(m, "parley_http_requests_total", labels_of(endpoint));
}

TEST(LoadtestLive, DbScenarioCountsAgreeWithDbApiMetrics) {
  LiveService db("db-api", {"--database", "sqlite:{dir}/parley.db"});
  auto before = db.metrics();
  LoadRun run(quick(db.url(), "db", 8, 1.5));
  Summary s = run.run(nullptr);
  auto after = db.metrics();

  ASSERT_GT(s.overall.requests, 100u);
  EXPECT_EQ(s.overall.ok, s.overall.requests);
  EXPECT_EQ(s.cut_short, 0u);
  EXPECT_EQ(s.endpoints.size(), 5u);  // create, get, list, post message, patch
  uint64_t sum = 0;
  for (const auto& [name, v] : s.endpoints) {
    EXPECT_EQ(http_requests(after, name) - http_requests(before, name), static_cast<double>(v.first.requests))
        << name;
    sum += v.first.requests;
  }
  EXPECT_EQ(sum, s.overall.requests);
  // Successes by status: the db-api's 201s are exactly the creations the load tester made.
  EXPECT_EQ(sum_series(after, "parley_http_requests_total", {"status=\"201\""}) -
                sum_series(before, "parley_http_requests_total", {"status=\"201\""}),
            static_cast<double>(s.overall.statuses.at(201)));
  EXPECT_NEAR(s.elapsed_s, 1.5, 1.0);
  EXPECT_FALSE(s.timeline.empty());
}

TEST(LoadtestLive, WrongTokenIsCountedAsStatusErrors) {
  LiveService db("db-api", {"--database", "sqlite:{dir}/parley.db"});
  auto before = db.metrics();
  LoadOptions o = quick(db.url(), "db", 2, 0.5);
  o.token = "wrong";
  LoadRun run(o);
  Summary s = run.run(nullptr);
  auto after = db.metrics();
  ASSERT_GT(s.overall.requests, 0u);
  EXPECT_EQ(s.overall.ok, 0u);
  EXPECT_EQ(s.overall.errors[static_cast<int>(ErrorKind::status)], s.overall.requests);
  EXPECT_EQ(s.overall.statuses.at(401), s.overall.requests);
  EXPECT_EQ(sum_series(after, "parley_http_requests_total", {"status=\"401\""}) -
                sum_series(before, "parley_http_requests_total", {"status=\"401\""}),
            static_cast<double>(s.overall.requests));
}

TEST(LoadtestLive, RefusedConnectionsAreConnectErrors) {
  LoadOptions o = quick("http://127.0.0.1:" + std::to_string(test::free_port()), "db", 2, 0.3);
  LoadRun run(o);
  Summary s = run.run(nullptr);
  ASSERT_GT(s.overall.requests, 0u);
  EXPECT_EQ(s.overall.errors[static_cast<int>(ErrorKind::connect)], s.overall.requests);
}

TEST(LoadtestLive, InterruptEndsTheRunEarlyWithWhatItHas) {
  LiveService db("db-api", {"--database", "sqlite:{dir}/parley.db"});
  LoadRun run(quick(db.url(), "db", 4, 60));
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    run.interrupt();
  });
  auto t0 = std::chrono::steady_clock::now();
  Summary s = run.run(nullptr);
  stopper.join();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10.0);
  EXPECT_GT(s.overall.requests, 0u);
}

TEST(LoadtestLive, LmScenarioRequestsAndTokensAgreeWithLmApiMetrics) {
  LiveService lm("lm-api", {"--model", kModel, "--threads", "1", "--ctx", "512", "--slots", "4"});
  auto before = lm.metrics();
  LoadOptions o = quick(lm.url(), "lm", 3, 1.5);
  o.prompt_tokens = 20;
  o.max_tokens = 8;
  LoadRun run(o);
  Summary s = run.run(nullptr);
  auto after = lm.metrics();

  ASSERT_TRUE(s.generation.has_value());
  const GenerationSummary& g = *s.generation;
  ASSERT_GT(g.count, 0u);
  EXPECT_EQ(s.overall.ok, s.overall.requests);
  EXPECT_EQ(g.count, s.overall.requests);
  EXPECT_EQ(s.cut_short, 0u);
  double served =
      sum_series(after, "parley_lm_requests_total", {"endpoint=\"completions\"", "status=\"200\""}) -
      sum_series(before, "parley_lm_requests_total", {"endpoint=\"completions\"", "status=\"200\""});
  EXPECT_EQ(served, static_cast<double>(s.overall.requests));
  EXPECT_EQ(sum_series(after, "parley_lm_generated_tokens_total") -
                sum_series(before, "parley_lm_generated_tokens_total"),
            static_cast<double>(g.completion_tokens));
  EXPECT_EQ(sum_series(after, "parley_lm_prompt_tokens_total") +
                sum_series(after, "parley_lm_prefix_cache_hit_tokens_total") -
                sum_series(before, "parley_lm_prompt_tokens_total") -
                sum_series(before, "parley_lm_prefix_cache_hit_tokens_total"),
            static_cast<double>(g.prompt_tokens));
  EXPECT_LE(g.completion_tokens, g.count * 8);
  EXPECT_EQ(g.ttft_s.count, g.count);
  EXPECT_GT(g.output_tokens_per_s, 0);
  EXPECT_GT(g.itl_s.count, 0u);
}

TEST(LoadtestLive, SecondInterruptCutsRunningStreams) {
  LiveService lm("lm-api", {"--model", kModel, "--threads", "1", "--ctx", "2048", "--slots", "4"});
  LoadOptions o = quick(lm.url(), "lm", 2, 60);
  o.prompt_tokens = 5;
  o.max_tokens = 1800;  // seconds of generation per stream
  o.drain_s = 600;
  LoadRun run(o);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    run.interrupt();  // users stop; the streams would get 600 s to finish
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    run.interrupt();  // ...but not after a second interrupt
  });
  auto t0 = std::chrono::steady_clock::now();
  Summary s = run.run(nullptr);
  stopper.join();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10.0);
  EXPECT_EQ(s.cut_short, 2u);
  EXPECT_EQ(s.overall.errors[static_cast<int>(ErrorKind::broken_stream)], 0u);  // cut, not broken
}

TEST(LoadtestLive, LmMultiTurnReportsTtftPerTurn) {
  LiveService lm("lm-api", {"--model", kModel, "--threads", "1", "--ctx", "512", "--slots", "4"});
  auto before = lm.metrics();
  LoadOptions o = quick(lm.url(), "lm", 2, 2);
  o.prompt_tokens = 10;
  o.max_tokens = 6;
  o.turns = 3;
  LoadRun run(o);
  Summary s = run.run(nullptr);
  auto after = lm.metrics();
  ASSERT_TRUE(s.generation.has_value());
  EXPECT_EQ(s.endpoints.count("POST /v1/chat/completions"), 1u);
  double served =
      sum_series(after, "parley_lm_requests_total", {"endpoint=\"chat_completions\"", "status=\"200\""}) -
      sum_series(before, "parley_lm_requests_total", {"endpoint=\"chat_completions\"", "status=\"200\""});
  EXPECT_EQ(served, static_cast<double>(s.overall.requests));
  ASSERT_EQ(s.generation->ttft_by_turn.size(), 3u);
  EXPECT_EQ(s.generation->ttft_by_turn.begin()->first, 1);
  EXPECT_EQ(s.generation->ttft_by_turn.rbegin()->first, 3);
}

// Chats that outgrow a small context: without truncate_history lm-api answers 400 (the limit
// stated); with it, as Parley's UI sends it, every turn is served (issue 4: --ctx 1024, 4 chats).
TEST(LoadtestLive, LmChatsOutgrowingTheContextAreServedWithTruncateHistory) {
  LiveService lm("lm-api", {"--model", kModel, "--threads", "1", "--ctx", "256", "--slots", "4"});
  LoadOptions o = quick(lm.url(), "lm", 2, 5);
  o.prompt_tokens = 40;
  o.max_tokens = 40;
  o.turns = 6;
  o.truncate_history = true;
  Summary s = LoadRun(o).run(nullptr);
  EXPECT_GT(s.overall.ok, 4u);
  EXPECT_EQ(s.overall.ok, s.overall.requests);
  EXPECT_EQ(s.overall.statuses.count(400), 0u);
  ASSERT_TRUE(s.generation.has_value());
  EXPECT_GE(s.generation->ttft_by_turn.size(), 4u);  // turns past the context were served

  o.truncate_history = false;
  Summary plain = LoadRun(o).run(nullptr);
  EXPECT_GT(plain.overall.statuses.count(400), 0u) << "the histories were meant to outgrow --ctx 256";
}

TEST(LoadtestLive, ChatScenarioThroughTheUiAgreesWithItsMetrics) {
  // The per-session reply rate limit off: this measures the service, not the limiter (each
  // simulated user sends far more than a person would).
  LiveService ui("serve", {"--model", kModel, "--threads", "1", "--ctx", "512", "--max-tokens", "8",
                           "--generations-per-minute", "0", "--data-dir", "{dir}"});
  auto before = ui.metrics();
  LoadOptions o = quick(ui.url(), "chat", 2, 1.5);
  o.turns = 2;
  o.prompt_tokens = 5;
  LoadRun run(o);
  Summary s = run.run(nullptr);
  auto after = ui.metrics();
  ASSERT_TRUE(s.generation.has_value());
  ASSERT_GT(s.generation->count, 0u);
  EXPECT_EQ(s.overall.ok, s.overall.requests);
  for (const auto& [name, v] : s.endpoints)
    EXPECT_EQ(http_requests(after, name) - http_requests(before, name), static_cast<double>(v.first.requests))
        << name;
  EXPECT_EQ(s.endpoints.at("POST /chats/{id}/messages").first.requests, s.generation->count);
}

TEST(LoadtestLive, JsonResultIsThePlannerInput) {
  LiveService db("db-api", {"--database", "sqlite:{dir}/parley.db"});
  LoadOptions o = quick(db.url(), "db", 3, 0.5);
  LoadRun run(o);
  Summary s = run.run(nullptr);
  std::string json = summary_json(o, s, RunExtras{.cpu_s = run.cpu_seconds()});
  plan::LoadPoint p = plan::load_point_from_json(json, "x.json");
  EXPECT_EQ(p.role, "db-api");
  EXPECT_EQ(p.users, 3);
  EXPECT_NEAR(p.requests_per_s, static_cast<double>(s.overall.requests) / s.elapsed_s, 1e-6);
  EXPECT_NEAR(p.in_flight, 3.0, 0.5);  // closed loop without think time: every user always waiting
  std::string svg = timeline_svg(o, s);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

}  // namespace
}  // namespace parley::tools::loadtest
