// Capacity planning from load-test results, and a simulation of a concurrency-based HTTP scale
// rule (KEDA HTTP add-on: requests in flight per replica, scaled the way the Kubernetes HPA does).
// Azure Container Apps' "http" rule counts requests of the last 15 s / 15 (a rate): with its
// target set to a replica's measured requests/s it scales at the same points (docs/operations.md, "Finding the right scale rules").
//
//   std::vector<LoadPoint> pts = {load_point_from_json(text, "db-100.json"), ...};
//   auto caps = find_capacity(pts, Objectives{.latency_p99_s = 0.05});
//   int n = replicas_for(caps[0], 500 /*concurrent users*/, 1.0);
//   SimResult r = simulate(ScaleRule{.target = 8, ...}, Profile{.kind = "spike", .users = 40},
//   Workload{...});
//
// All times are seconds. The simulation is deterministic, in one-second ticks, with fluid request
// counts (fractions allowed); see simulate() for the exact order of events in a tick.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace parley::tools::plan {

// One `parley loadtest --json` result: one replica of one role under one load level.
struct LoadPoint {
  std::string source;  // file name
  std::string role;    // db-api (scenario db), lm-api (lm), ui (chat)
  int users = 0;
  double think_s = 0;
  double elapsed_s = 0;
  double in_flight = 0;  // mean concurrent requests (Little's law)
  double requests_per_s = 0;
  double error_rate = 0;
  double latency_mean_s = 0, latency_p50_s = 0, latency_p99_s = 0;  // every request, streams included
  bool has_request_latency = false;  // requests other than generation streams (pages, API calls)
  double request_p99_s = 0;
  bool has_ttft = false;
  double ttft_mean_s = 0, ttft_p50_s = 0, ttft_p99_s = 0;
  double stream_mean_s = 0;  // mean whole-generation time
  double output_tokens_per_s = 0;
};
// Throws std::runtime_error when the text is not a loadtest result.
LoadPoint load_point_from_json(const std::string& text, const std::string& source);
std::string role_of_scenario(const std::string& scenario);

struct Objectives {
  double latency_p99_s = 0;  // 0: none; for requests other than generation streams
  double ttft_p99_s = 0;     // 0: none (applies to results with generations)
  double max_error_rate = 0.01;
};
// Why a point fails the objectives, "" when it meets them.
std::string violation(const LoadPoint& p, const Objectives& o);

struct Capacity {
  std::string role;
  std::vector<LoadPoint> points;      // sorted by users
  std::vector<std::string> verdicts;  // per point: "ok" or why not
  std::optional<LoadPoint> best;      // the highest level at which it and every lower one met them
  double target = 0;                  // concurrent requests per replica: the scale-rule target
};
// Groups by role; per role the highest passing load level (levels above a failing one do not count).
std::vector<Capacity> find_capacity(std::vector<LoadPoint> points, const Objectives& o);
// Replicas of a role for `users` concurrent users, each with `active` requests in flight at that role.
int replicas_for(const Capacity& c, double users, double active);

struct ScaleRule {
  double target = 10;       // concurrent requests per replica
  double polling_s = 15;    // how often the scaler reads the metric
  double cooldown_s = 300;  // scale-down stabilization (and scale to zero) window
  int min_replicas = 0;
  int max_replicas = 10;
  double cold_start_s = 10;  // replica start to ready
  double replica_limit = 0;  // concurrent requests one replica serves at most; 0 = no limit
};

struct Profile {
  std::string kind = "steady";  // steady | ramp | spike
  double users = 10;            // steady level; ramp end; spike peak
  double base = 0;              // spike: level outside the spike; ramp: start
  double duration_s = 600;
  double spike_at_s = 120, spike_len_s = 60;
  double users_at(double t) const;
};

struct Workload {
  double service_s = 1;  // time one request holds a replica (rounded to whole ticks)
  double active = 1;     // requests outstanding per user (1: no think time)
  // Time to first token when admitted at this many concurrent requests per replica (no queueing).
  std::function<double(double per_replica)> base_ttft = [](double) { return 0.0; };
};

struct SimTick {
  double t = 0, users = 0, arrivals = 0, queued = 0, in_service = 0, completed = 0;
  int ready = 0, starting = 0, desired = 0;
  double admitted = 0, ttft_mean = 0, wait_max = 0;  // of the requests admitted this tick
};
struct SimResult {
  std::vector<SimTick> ticks;
  double replica_seconds = 0;  // ready + starting replicas, summed over ticks (billing)
  double max_queue = 0, max_wait = 0, ttft_mean = 0, ttft_max = 0;
  double requests = 0, waited = 0;  // admitted; admitted after waiting at least a second
  int max_replicas = 0;
  double mean_replicas() const {
    return ticks.empty() ? 0 : replica_seconds / static_cast<double>(ticks.size());
  }
};

// Each tick t = 0, 1, ... < duration:
//   1. requests whose service ends at t complete; replicas whose cold start ends at t become ready;
//   2. closed loop: users(t) * active requests are wanted outstanding; as many arrive as are
//      missing (queued + in service below that level) and join the FIFO queue;
//   3. the queue is admitted while ready replicas have room (replica_limit each, unlimited if 0);
//      an admitted request waited t - arrival and ends at t + service_s;
//   4. when t is a multiple of polling_s the scaler reads queued + in service, desired =
//      ceil(metric / target) clamped to [min, max]; the replica count becomes the maximum desired
//      over the last cooldown_s (scale-up at once, scale-down only after a cool-down, zero
//      included); new replicas are ready at step 1 of the first tick >= poll + cold_start_s (a
//      cold start of 0: the next tick); removed ones go at once (starting ones first).
// The service time is rounded to whole ticks (at least 1): this is a model of concurrency, which
// is what the rule scales on, not of sub-second latency.
SimResult simulate(const ScaleRule& rule, const Profile& profile, const Workload& work);

}  // namespace parley::tools::plan
