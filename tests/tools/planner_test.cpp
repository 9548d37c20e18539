// parley plan: capacity from load levels, the scale-rule simulation on cases worked out by hand,
// and the price table.
#include "tools/plan/planner.hpp"

#include <gtest/gtest.h>

#include "tools/plan/costs.hpp"

namespace parley::tools::plan {
namespace {

LoadPoint point(const std::string& role, int users, double p99, double error_rate = 0, double think = 0,
                double in_flight = 0) {
  LoadPoint p;
  p.role = role;
  p.users = users;
  p.latency_p99_s = p99;
  p.latency_mean_s = p99 / 2;
  p.has_request_latency = true;
  p.request_p99_s = p99;
  p.error_rate = error_rate;
  p.requests_per_s = 100;
  p.think_s = think;
  p.in_flight = in_flight ? in_flight : users;
  return p;
}

TEST(PlanCapacity, HighestLevelBeforeTheFirstFailure) {
  std::vector<LoadPoint> pts = {point("db-api", 100, 0.08), point("db-api", 10, 0.01),
                                point("db-api", 50, 0.02), point("db-api", 200, 0.03)};
  auto caps = find_capacity(pts, Objectives{.latency_p99_s = 0.05});
  ASSERT_EQ(caps.size(), 1u);
  const Capacity& c = caps[0];
  ASSERT_TRUE(c.best);
  EXPECT_EQ(c.best->users, 50);
  EXPECT_EQ(c.target, 50);
  ASSERT_EQ(c.verdicts.size(), 4u);  // sorted by users: 10, 50, 100, 200
  EXPECT_EQ(c.verdicts[0], "ok");
  EXPECT_NE(c.verdicts[2].find("latency p99"), std::string::npos);
  EXPECT_EQ(c.verdicts[3], "ok, but a lower level failed");
  EXPECT_EQ(replicas_for(c, 120, 1.0), 3);   // ceil(120 / 50)
  EXPECT_EQ(replicas_for(c, 100, 1.0), 2);   // exactly two full replicas
  EXPECT_EQ(replicas_for(c, 100, 0.25), 1);  // ceil(25 / 50)
}

TEST(PlanCapacity, ErrorsAndTtftFailAndThinkTimeUsesMeasuredConcurrency) {
  LoadPoint lm4 = point("lm-api", 4, 1);
  lm4.has_ttft = true;
  lm4.ttft_p99_s = 2;
  LoadPoint lm8 = point("lm-api", 8, 1);
  lm8.has_ttft = true;
  lm8.ttft_p99_s = 6;
  LoadPoint ui = point("ui", 40, 0.2, 0, /*think*/ 5, /*in flight*/ 7.6);
  LoadPoint ui_bad = point("ui", 80, 0.2, /*errors*/ 0.05, 5, 15);
  auto caps = find_capacity({lm4, lm8, ui, ui_bad}, Objectives{.ttft_p99_s = 5});
  ASSERT_EQ(caps.size(), 2u);  // lm-api, ui (by name)
  EXPECT_EQ(caps[0].role, "lm-api");
  EXPECT_EQ(caps[0].best->users, 4);
  EXPECT_NE(caps[0].verdicts[1].find("TTFT p99"), std::string::npos);
  EXPECT_EQ(caps[1].role, "ui");
  EXPECT_EQ(caps[1].best->users, 40);
  EXPECT_EQ(caps[1].target, 7);  // floor of the measured mean in flight
  EXPECT_NE(caps[1].verdicts[1].find("error rate"), std::string::npos);
}

TEST(PlanCapacity, NoPassingLevelMeansNoTarget) {
  auto caps = find_capacity({point("db-api", 10, 1.0)}, Objectives{.latency_p99_s = 0.1});
  EXPECT_FALSE(caps[0].best);
  EXPECT_EQ(replicas_for(caps[0], 100, 1), 0);
}

TEST(PlanProfile, Shapes) {
  Profile steady{.kind = "steady", .users = 7};
  EXPECT_EQ(steady.users_at(123), 7);
  Profile ramp{.kind = "ramp", .users = 10, .base = 0, .duration_s = 100};
  EXPECT_DOUBLE_EQ(ramp.users_at(50), 5);
  EXPECT_DOUBLE_EQ(ramp.users_at(150), 10);
  Profile spike{.kind = "spike", .users = 40, .base = 4, .spike_at_s = 10, .spike_len_s = 5};
  EXPECT_EQ(spike.users_at(9), 4);
  EXPECT_EQ(spike.users_at(10), 40);
  EXPECT_EQ(spike.users_at(14), 40);
  EXPECT_EQ(spike.users_at(15), 4);
}

// Two fixed replicas (min = max), 10 users, 5 s per request, closed loop: the 10 requests sent at
// t=0 are admitted at once, finish at t=5, and the users send 10 more then, and so on. Never a
// queue; every TTFT is the base.
TEST(PlanSimulation, FixedReplicasSteadyLoadNeverQueue) {
  ScaleRule rule{.target = 5,
                 .polling_s = 15,
                 .cooldown_s = 300,
                 .min_replicas = 2,
                 .max_replicas = 2,
                 .cold_start_s = 10,
                 .replica_limit = 10};
  Profile profile{.kind = "steady", .users = 10, .duration_s = 30};
  Workload work{.service_s = 5, .active = 1, .base_ttft = [](double) { return 0.25; }};
  SimResult r = simulate(rule, profile, work);
  ASSERT_EQ(r.ticks.size(), 30u);
  for (const SimTick& k : r.ticks) {
    bool batch = static_cast<int>(k.t) % 5 == 0;
    EXPECT_DOUBLE_EQ(k.arrivals, batch ? 10 : 0) << k.t;
    EXPECT_DOUBLE_EQ(k.admitted, batch ? 10 : 0) << k.t;
    EXPECT_DOUBLE_EQ(k.completed, batch && k.t > 0 ? 10 : 0) << k.t;
    EXPECT_DOUBLE_EQ(k.queued, 0);
    EXPECT_DOUBLE_EQ(k.in_service, 10);
    EXPECT_EQ(k.ready, 2);
    if (batch) {
      EXPECT_DOUBLE_EQ(k.ttft_mean, 0.25);
    }
  }
  EXPECT_DOUBLE_EQ(r.replica_seconds, 60);
  EXPECT_DOUBLE_EQ(r.waited, 0);
  EXPECT_DOUBLE_EQ(r.ttft_mean, 0.25);
}

// Scale from zero: 25 users send 25 requests at t=0; the poll at t=0 sees 25 -> ceil(25/10) = 3,
// but max is 2, so 2 replicas start, ready at t=20 (cold start). There the 2 replicas take 20
// (limit 10 each), which waited 20 s (TTFT 20 + 0.5 base); 5 stay queued. At t=25 those 20 finish
// and their users send 20 more: 25 queued, 20 admitted: the 5 old ones (waited 25 s) and 15 new
// ones (0 s): mean TTFT (5 x 25) / 20 + 0.5 = 6.75; 5 queued again: the steady state.
TEST(PlanSimulation, ScaleFromZeroWaitsForPollAndColdStart) {
  ScaleRule rule{.target = 10,
                 .polling_s = 10,
                 .cooldown_s = 300,
                 .min_replicas = 0,
                 .max_replicas = 2,
                 .cold_start_s = 20,
                 .replica_limit = 10};
  Profile profile{.kind = "steady", .users = 25, .duration_s = 40};
  Workload work{.service_s = 5, .active = 1, .base_ttft = [](double) { return 0.5; }};
  SimResult r = simulate(rule, profile, work);
  EXPECT_DOUBLE_EQ(r.ticks[0].arrivals, 25);
  EXPECT_EQ(r.ticks[0].desired, 2);
  EXPECT_EQ(r.ticks[0].starting, 2);
  EXPECT_DOUBLE_EQ(r.ticks[1].arrivals, 0);  // nobody sends a second request while waiting
  EXPECT_DOUBLE_EQ(r.ticks[19].queued, 25);
  EXPECT_EQ(r.ticks[19].ready, 0);
  const SimTick& k20 = r.ticks[20];
  EXPECT_EQ(k20.ready, 2);
  EXPECT_DOUBLE_EQ(k20.admitted, 20);
  EXPECT_DOUBLE_EQ(k20.wait_max, 20);
  EXPECT_DOUBLE_EQ(k20.ttft_mean, 20.5);
  EXPECT_DOUBLE_EQ(k20.queued, 5);
  const SimTick& k25 = r.ticks[25];
  EXPECT_DOUBLE_EQ(k25.completed, 20);
  EXPECT_DOUBLE_EQ(k25.arrivals, 20);
  EXPECT_DOUBLE_EQ(k25.admitted, 20);
  EXPECT_DOUBLE_EQ(k25.wait_max, 25);
  EXPECT_DOUBLE_EQ(k25.ttft_mean, 6.75);
  EXPECT_DOUBLE_EQ(k25.queued, 5);
  EXPECT_EQ(r.max_replicas, 2);
  EXPECT_DOUBLE_EQ(r.max_queue, 25);
  // Billing: 2 starting replicas for ticks 0..19, then 2 ready.
  EXPECT_DOUBLE_EQ(r.replica_seconds, 80);
}

// A 20 s burst of 10 users (1 s requests, target 5): 2 replicas from the first poll (cold start 0:
// ready at t=1). The last poll that saw load is t=10, so with a 60 s cool-down the replicas stay
// until the poll at t=70, which scales to zero.
TEST(PlanSimulation, ScaleDownOnlyAfterTheCooldownAndToZero) {
  ScaleRule rule{.target = 5,
                 .polling_s = 10,
                 .cooldown_s = 60,
                 .min_replicas = 0,
                 .max_replicas = 10,
                 .cold_start_s = 0,
                 .replica_limit = 0};
  Profile profile{
      .kind = "spike", .users = 10, .base = 0, .duration_s = 100, .spike_at_s = 0, .spike_len_s = 20};
  Workload work{.service_s = 1, .active = 1};
  SimResult r = simulate(rule, profile, work);
  EXPECT_EQ(r.ticks[0].ready, 0);
  EXPECT_EQ(r.ticks[0].starting, 2);
  EXPECT_EQ(r.ticks[1].ready, 2);
  EXPECT_DOUBLE_EQ(r.ticks[1].admitted, 10);
  EXPECT_DOUBLE_EQ(r.ticks[1].wait_max, 1);
  EXPECT_DOUBLE_EQ(r.ticks[2].admitted, 10);
  EXPECT_DOUBLE_EQ(r.ticks[2].wait_max, 0);
  EXPECT_DOUBLE_EQ(r.ticks[20].in_service, 0);
  EXPECT_EQ(r.ticks[20].desired, 0);
  EXPECT_EQ(r.ticks[69].ready, 2);
  EXPECT_EQ(r.ticks[70].ready, 0);
  EXPECT_EQ(r.ticks[99].ready, 0);
  EXPECT_DOUBLE_EQ(r.replica_seconds, 2 + 69 * 2);
  EXPECT_DOUBLE_EQ(r.waited, 10);     // the 10 sent at t=0
  EXPECT_DOUBLE_EQ(r.max_queue, 10);  // read at the end of a tick: 10 after t=0, 0 after t=1
}

// The base TTFT is read at the concurrency per replica after admission.
TEST(PlanSimulation, BaseTtftFollowsConcurrencyPerReplica) {
  ScaleRule rule{.target = 100, .polling_s = 1000, .min_replicas = 2, .max_replicas = 2, .cold_start_s = 0};
  Profile profile{.kind = "steady", .users = 8, .duration_s = 10};
  Workload work{
      .service_s = 2, .active = 1, .base_ttft = [](double per_replica) { return per_replica / 10; }};
  SimResult r = simulate(rule, profile, work);
  EXPECT_DOUBLE_EQ(r.ticks[0].ttft_mean, 0.4);  // 8 in service / 2 replicas
  Profile more{.kind = "steady", .users = 12, .duration_s = 10};
  EXPECT_DOUBLE_EQ(simulate(rule, more, work).ticks[0].ttft_mean, 0.6);  // 12 / 2
}

TEST(PlanPrices, DefaultsAndEdits) {
  PriceTable t = PriceTable::defaults();
  EXPECT_EQ(t.get("load_balancer"), 18);
  EXPECT_EQ(t.get("registry"), 19);
  EXPECT_EQ(t.get("postgres"), 13);
  EXPECT_EQ(t.get("ui_replica"), 10);
  EXPECT_EQ(t.get("dbapi_replica"), 10);
  EXPECT_EQ(t.get("lm_replica"), 50);
  t.set_from_assignment("lm_replica=62.5");
  EXPECT_EQ(t.get("lm_replica"), 62.5);
  t.load_json(R"({"postgres": 25, "egress": 3})");
  EXPECT_EQ(t.get("postgres"), 25);
  EXPECT_EQ(t.get("egress"), 3);
  EXPECT_THROW(t.set_from_assignment("lm_replica"), std::invalid_argument);
  EXPECT_THROW(t.set_from_assignment("lm_replica=5x"), std::invalid_argument);
  EXPECT_THROW(t.load_json("[1]"), std::runtime_error);
  EXPECT_EQ(PriceTable::replica_item("lm-api"), "lm_replica");
  EXPECT_EQ(PriceTable::replica_item("db-api"), "dbapi_replica");
  EXPECT_EQ(PriceTable::replica_item("ui"), "ui_replica");
}

TEST(PlanInput, RejectsWhatIsNotALoadtestResult) {
  EXPECT_THROW(load_point_from_json("not json", "a"), std::runtime_error);
  EXPECT_THROW(load_point_from_json(R"({"x":1})", "a"), std::runtime_error);
  LoadPoint p = load_point_from_json(
      R"({"scenario":"lm","users":8,"options":{"think_s":0},"elapsed_s":10,"mean_in_flight":7.9,
          "overall":{"requests_per_s":2.5,"error_rate":0,"latency_s":{"mean":3,"p50":3,"p99":4}},
          "generation":{"ttft_s":{"count":25,"mean":1.5,"p50":1.4,"p99":2.5},"e2e_s":{"mean":3.1},"output_tokens_per_s":40}})",
      "lm8.json");
  EXPECT_EQ(p.role, "lm-api");
  EXPECT_EQ(p.users, 8);
  EXPECT_TRUE(p.has_ttft);
  EXPECT_DOUBLE_EQ(p.ttft_p99_s, 2.5);
  EXPECT_DOUBLE_EQ(p.stream_mean_s, 3.1);
  EXPECT_DOUBLE_EQ(p.output_tokens_per_s, 40);
}

}  // namespace
}  // namespace parley::tools::plan
