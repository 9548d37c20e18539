// The load tester's arithmetic: percentiles, per-endpoint totals, goodput, TTFT per turn, timeline.
#include <gtest/gtest.h>

#include "tools/loadtest/stats.hpp"

namespace parley::tools::loadtest {
namespace {
using std::chrono::milliseconds;

TEST(LoadtestStats, NearestRankPercentiles) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  Percentiles p = percentiles(v);
  EXPECT_EQ(p.count, 100u);
  EXPECT_DOUBLE_EQ(p.p50, 50);
  EXPECT_DOUBLE_EQ(p.p90, 90);
  EXPECT_DOUBLE_EQ(p.p99, 99);
  EXPECT_DOUBLE_EQ(p.max, 100);
  EXPECT_DOUBLE_EQ(p.mean, 50.5);
  std::vector<double> one{7};
  EXPECT_DOUBLE_EQ(percentiles(one).p99, 7);
  std::vector<double> none;
  EXPECT_EQ(percentiles(none).count, 0u);
}

TEST(LoadtestStats, EndpointsErrorsGoodputAndTimeline) {
  auto t0 = Clock::now();
  Recorder rec(t0);
  rec.request("GET /a", t0, t0 + milliseconds(100), std::nullopt, 200);
  rec.request("GET /a", t0 + milliseconds(1000), t0 + milliseconds(1300), std::nullopt, 200);
  rec.request("POST /b", t0, t0 + milliseconds(50), ErrorKind::status, 503);
  rec.request("POST /b", t0, t0 + milliseconds(2500), ErrorKind::timeout, 0);
  Summary s = rec.summarize(3.0, Slo{.latency_s = 0.2});
  EXPECT_EQ(s.overall.requests, 4u);
  EXPECT_EQ(s.overall.ok, 2u);
  EXPECT_EQ(s.overall.errors[static_cast<int>(ErrorKind::status)], 1u);
  EXPECT_EQ(s.overall.errors[static_cast<int>(ErrorKind::timeout)], 1u);
  EXPECT_EQ(s.overall.statuses.at(503), 1u);
  EXPECT_EQ(s.endpoints.at("GET /a").first.requests, 2u);
  EXPECT_DOUBLE_EQ(s.endpoints.at("GET /a").second.max, 0.3);
  EXPECT_EQ(s.good_requests, 1u);  // only the 100 ms one meets 200 ms
  ASSERT_EQ(s.timeline.size(), 3u);
  EXPECT_EQ(s.timeline[0].requests, 2u);  // finished in [0,1): 100 ms ok, 50 ms error
  EXPECT_EQ(s.timeline[0].errors, 1u);
  EXPECT_EQ(s.timeline[1].requests, 1u);
  EXPECT_DOUBLE_EQ(s.timeline[1].p50_s, 0.3);
  EXPECT_EQ(s.timeline[2].errors, 1u);
}

TEST(LoadtestStats, GenerationsTtftTokensPerTurnAndGoodput) {
  auto t0 = Clock::now();
  Recorder rec(t0);
  auto gen = [&](int turn, int ttft_ms, int end_ms, uint64_t tokens) {
    GenerationSample g;
    g.start = t0;
    g.first_token = t0 + milliseconds(ttft_ms);
    g.end = t0 + milliseconds(end_ms);
    g.got_first_token = true;
    g.completion_tokens = tokens;
    g.prompt_tokens = 200;
    g.turn = turn;
    g.inter_token_s = {0.01, 0.02};
    rec.generation(g);
  };
  gen(1, 100, 1100, 11);  // decode: 10 tokens in 1 s
  gen(2, 300, 2300, 21);  // 20 tokens in 2 s
  gen(2, 900, 1900, 6);   // misses a 500 ms TTFT objective
  Summary s = rec.summarize(2.0, Slo{.ttft_s = 0.5});
  ASSERT_TRUE(s.generation);
  const GenerationSummary& g = *s.generation;
  EXPECT_EQ(g.count, 3u);
  EXPECT_EQ(g.completion_tokens, 38u);
  EXPECT_EQ(g.prompt_tokens, 600u);
  EXPECT_DOUBLE_EQ(g.output_tokens_per_s, 19);
  EXPECT_EQ(g.good, 2u);
  EXPECT_DOUBLE_EQ(g.goodput_per_s, 1);
  EXPECT_EQ(g.itl_s.count, 6u);
  EXPECT_DOUBLE_EQ(g.per_stream_tokens_per_s.p50, 10);  // {5, 10, 10}
  ASSERT_EQ(g.ttft_by_turn.size(), 2u);
  EXPECT_EQ(g.ttft_by_turn.at(1).count, 1u);
  EXPECT_DOUBLE_EQ(g.ttft_by_turn.at(2).mean, 0.6);
  EXPECT_EQ(rec.tokens(), 38u);
}

}  // namespace
}  // namespace parley::tools::loadtest
