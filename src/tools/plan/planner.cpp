#include "tools/plan/planner.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <deque>
#include <map>
#include <stdexcept>

namespace parley::tools::plan {
namespace json = boost::json;

namespace {

double number(const json::value* v) {
  if (!v) return 0;
  if (v->is_double()) return v->as_double();
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  return 0;
}

const json::object* object_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

}  // namespace

std::string role_of_scenario(const std::string& scenario) {
  if (scenario == "db") return "db-api";
  if (scenario == "lm") return "lm-api";
  if (scenario == "chat") return "ui";
  return scenario;
}

LoadPoint load_point_from_json(const std::string& text, const std::string& source) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) throw std::runtime_error(source + ": not JSON (" + ec.message() + ")");
  const json::object& root = v.as_object();
  const json::value* scenario = root.if_contains("scenario");
  const json::object* overall = object_at(root, "overall");
  if (!scenario || !scenario->is_string() || !overall)
    throw std::runtime_error(source + ": not a parley loadtest --json result (no scenario/overall)");
  LoadPoint p;
  p.source = source;
  p.role = role_of_scenario(std::string(scenario->as_string()));
  p.users = static_cast<int>(number(root.if_contains("users")));
  if (const json::object* opt = object_at(root, "options")) p.think_s = number(opt->if_contains("think_s"));
  p.elapsed_s = number(root.if_contains("elapsed_s"));
  p.in_flight = number(root.if_contains("mean_in_flight"));
  p.requests_per_s = number(overall->if_contains("requests_per_s"));
  p.error_rate = number(overall->if_contains("error_rate"));
  if (const json::object* lat = object_at(*overall, "latency_s")) {
    p.latency_mean_s = number(lat->if_contains("mean"));
    p.latency_p50_s = number(lat->if_contains("p50"));
    p.latency_p99_s = number(lat->if_contains("p99"));
  }
  if (const json::object* req = object_at(root, "request_latency_s");
      req && number(req->if_contains("count")) > 0) {
    p.has_request_latency = true;
    p.request_p99_s = number(req->if_contains("p99"));
  } else if (!object_at(root, "generation")) {
    p.has_request_latency = true;  // older results: every request is a plain one
    p.request_p99_s = p.latency_p99_s;
  }
  if (const json::object* gen = object_at(root, "generation")) {
    if (const json::object* t = object_at(*gen, "ttft_s"); t && number(t->if_contains("count")) > 0) {
      p.has_ttft = true;
      p.ttft_mean_s = number(t->if_contains("mean"));
      p.ttft_p50_s = number(t->if_contains("p50"));
      p.ttft_p99_s = number(t->if_contains("p99"));
    }
    if (const json::object* e = object_at(*gen, "e2e_s")) p.stream_mean_s = number(e->if_contains("mean"));
    p.output_tokens_per_s = number(gen->if_contains("output_tokens_per_s"));
  }
  if (p.users <= 0) throw std::runtime_error(source + ": no users count");
  return p;
}

std::string violation(const LoadPoint& p, const Objectives& o) {
  char b[160];
  if (p.requests_per_s <= 0) return "no requests finished";
  if (p.error_rate > o.max_error_rate) {
    std::snprintf(b, sizeof b, "error rate %.2f%% > %.2f%%", p.error_rate * 100, o.max_error_rate * 100);
    return b;
  }
  if (o.latency_p99_s > 0 && p.has_request_latency && p.request_p99_s > o.latency_p99_s) {
    std::snprintf(b, sizeof b, "latency p99 %.3gs > %.3gs", p.request_p99_s, o.latency_p99_s);
    return b;
  }
  if (o.ttft_p99_s > 0 && p.has_ttft && p.ttft_p99_s > o.ttft_p99_s) {
    std::snprintf(b, sizeof b, "TTFT p99 %.3gs > %.3gs", p.ttft_p99_s, o.ttft_p99_s);
    return b;
  }
  return "";
}

std::vector<Capacity> find_capacity(std::vector<LoadPoint> points, const Objectives& o) {
  std::map<std::string, Capacity> by_role;
  for (auto& p : points) {
    Capacity& c = by_role[p.role];
    c.role = p.role;
    c.points.push_back(std::move(p));
  }
  std::vector<Capacity> out;
  for (auto& [role, c] : by_role) {
    std::stable_sort(c.points.begin(), c.points.end(),
                     [](const LoadPoint& a, const LoadPoint& b) { return a.users < b.users; });
    bool failed = false;
    for (const LoadPoint& p : c.points) {
      std::string why = violation(p, o);
      if (why.empty() && failed)
        why = "ok, but a lower level failed";
      else if (why.empty()) {
        c.best = p;
        why = "ok";
      } else {
        failed = true;
      }
      c.verdicts.push_back(why);
    }
    if (c.best) {
      // Without think time every user keeps one request in flight: users is the concurrency. With
      // think time, what the scaler sees is the measured mean in flight.
      c.target = c.best->think_s > 0 ? std::max(1.0, std::floor(c.best->in_flight)) : c.best->users;
    }
    out.push_back(std::move(c));
  }
  return out;
}

int replicas_for(const Capacity& c, double users, double active) {
  if (c.target <= 0) return 0;
  return static_cast<int>(std::ceil(users * active / c.target - 1e-9));
}

double Profile::users_at(double t) const {
  if (kind == "ramp") return base + (users - base) * std::min(1.0, std::max(0.0, t / duration_s));
  if (kind == "spike") return t >= spike_at_s && t < spike_at_s + spike_len_s ? users : base;
  return users;
}

SimResult simulate(const ScaleRule& rule, const Profile& profile, const Workload& work) {
  struct Cohort {
    double t;       // arrival (queue) or end of service (in service)
    double amount;  // requests (fluid)
  };
  SimResult r;
  std::deque<Cohort> queue, serving;
  std::deque<double> booting;                      // ready times of starting replicas, ascending
  std::deque<std::pair<double, int>> desired_log;  // (poll time, desired) within the cool-down window
  int ready = rule.min_replicas;
  const int ticks = static_cast<int>(std::ceil(profile.duration_s));
  const double service = std::max(1.0, std::round(work.service_s));
  const long polling = std::max(1L, std::lround(rule.polling_s));
  double in_service = 0, queued = 0;
  double ttft_sum = 0;
  for (int i = 0; i < ticks; ++i) {
    const double t = i;
    SimTick k;
    k.t = t;
    // 1. completions and replicas becoming ready
    while (!serving.empty() && serving.front().t <= t) {
      k.completed += serving.front().amount;
      in_service -= serving.front().amount;
      serving.pop_front();
    }
    if (in_service < 1e-9) in_service = 0;
    while (!booting.empty() && booting.front() <= t) {
      booting.pop_front();
      ++ready;
    }
    // 2. arrivals
    k.users = profile.users_at(t);
    // Closed loop: every active user keeps one request outstanding (queued or in service), so
    // users whose request finished send the next one, and nobody sends a second while waiting.
    k.arrivals = std::max(0.0, k.users * work.active - (queued + in_service));
    if (k.arrivals > 0) {
      queue.push_back({t, k.arrivals});
      queued += k.arrivals;
    }
    // 3. admission
    double room = ready == 0 ? 0 : rule.replica_limit > 0 ? ready * rule.replica_limit - in_service : 1e300;
    double ttft_weighted = 0;
    while (room > 1e-12 && !queue.empty()) {
      Cohort& c = queue.front();
      double take = std::min(room, c.amount);
      double wait = t - c.t;
      in_service += take;
      room -= take;
      queued -= take;
      serving.push_back({t + service, take});
      k.admitted += take;
      k.wait_max = std::max(k.wait_max, wait);
      ttft_weighted += take * wait;
      if (wait >= 1) r.waited += take;
      c.amount -= take;
      if (c.amount <= 1e-12) queue.pop_front();
    }
    if (queued < 1e-9) queued = 0;
    if (k.admitted > 0) {
      double base = work.base_ttft(in_service / std::max(1, ready));
      k.ttft_mean = ttft_weighted / k.admitted + base;
      ttft_sum += k.ttft_mean * k.admitted;
      r.ttft_max = std::max(r.ttft_max, k.wait_max + base);
      r.requests += k.admitted;
    }
    // 4. the scaler
    if (i % polling == 0) {
      double metric = queued + in_service;
      int want = static_cast<int>(std::ceil(metric / rule.target - 1e-9));
      want = std::clamp(want, rule.min_replicas, rule.max_replicas);
      desired_log.push_back({t, want});
      while (!desired_log.empty() && desired_log.front().first <= t - rule.cooldown_s)
        desired_log.pop_front();
      int goal = 0;
      for (const auto& d : desired_log) goal = std::max(goal, d.second);
      int have = ready + static_cast<int>(booting.size());
      for (; have < goal; ++have) booting.push_back(t + rule.cold_start_s);
      while (have > goal && !booting.empty()) {
        booting.pop_back();
        --have;
      }
      while (have > goal) {
        --ready;
        --have;
      }
      k.desired = want;
    } else {
      k.desired = r.ticks.empty() ? 0 : r.ticks.back().desired;
    }
    k.queued = queued;
    k.in_service = in_service;
    k.ready = ready;
    k.starting = static_cast<int>(booting.size());
    r.replica_seconds += ready + k.starting;
    r.max_queue = std::max(r.max_queue, queued);
    r.max_wait = std::max(r.max_wait, k.wait_max);
    r.max_replicas = std::max(r.max_replicas, ready + k.starting);
    r.ticks.push_back(k);
  }
  r.ttft_mean = r.requests > 0 ? ttft_sum / r.requests : 0;
  return r;
}

}  // namespace parley::tools::plan
