#include "tools/plan/plan_command.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "tools/plan/costs.hpp"
#include "tools/plan/planner.hpp"

namespace parley {
namespace {
using namespace tools::plan;

constexpr double kHoursPerMonth = 730;

struct Args {
  std::vector<std::string> files;
  Objectives objectives;
  double users = 100, active = -1;  // -1: measured per role (in flight / users at the chosen level)
  std::string profile = "spike";
  double sim_duration = 900, spike_at = 120, spike_len = 180, base_users = -1, every = 15;
  ScaleRule rule;
  double target = 0;     // 0: the measured one
  std::string sim_role;  // "" = every measured role
  std::string prices_file;
  std::vector<std::string> prices;
};

std::string fixed(double v, int decimals, const char* suffix = "") {
  char b[48];
  std::snprintf(b, sizeof b, "%.*f%s", decimals, v, suffix);
  return b;
}

// Requests in flight per concurrent user at this role: given, or measured (without think time a
// user always has one request in flight; with think time, in flight / users at the chosen level).
double active_of(const Capacity& c, double given) {
  if (given > 0) return given;
  if (!c.best || c.best->think_s <= 0 || c.best->users <= 0) return 1.0;
  return std::max(1e-3, c.best->in_flight / c.best->users);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Piecewise-linear through (x, y) points sorted by x, extended linearly past the ends.
std::function<double(double)> interpolate(std::vector<std::pair<double, double>> pts) {
  std::sort(pts.begin(), pts.end());
  return [pts](double x) {
    if (pts.empty()) return 0.0;
    if (pts.size() == 1) return pts[0].second;
    size_t i = 1;
    while (i + 1 < pts.size() && x > pts[i].first) ++i;
    auto [x0, y0] = pts[i - 1];
    auto [x1, y1] = pts[i];
    if (x1 == x0) return y1;
    return std::max(0.0, y0 + (y1 - y0) * (x - x0) / (x1 - x0));
  };
}

void print_levels(const std::vector<Capacity>& caps, const Objectives& o) {
  std::printf("Load levels (objectives: error rate <= %.2f%%", o.max_error_rate * 100);
  if (o.latency_p99_s > 0) std::printf(", latency p99 <= %.3gs", o.latency_p99_s);
  if (o.ttft_p99_s > 0) std::printf(", TTFT p99 <= %.3gs", o.ttft_p99_s);
  std::printf(")\n%-7s %6s %9s %9s %6s %9s %11s %9s %9s %8s  %s\n", "role", "users", "in flight", "req/s",
              "err%", "p50 ms", "req p99 ms", "TTFT p50", "TTFT p99", "tok/s", "verdict");
  for (const Capacity& c : caps)
    for (size_t i = 0; i < c.points.size(); ++i) {
      const LoadPoint& p = c.points[i];
      std::printf("%-7s %6d %9.1f %9.1f %6.2f %9.2f %11s %9s %9s %8.1f  %s (%s)\n", p.role.c_str(), p.users,
                  p.in_flight, p.requests_per_s, p.error_rate * 100, p.latency_p50_s * 1e3,
                  p.has_request_latency ? fixed(p.request_p99_s * 1e3, 2).c_str() : "-",
                  p.has_ttft ? fixed(p.ttft_p50_s, 3, "s").c_str() : "-",
                  p.has_ttft ? fixed(p.ttft_p99_s, 3, "s").c_str() : "-", p.output_tokens_per_s,
                  c.verdicts[i].c_str(), p.source.c_str());
    }
}

int run(Args& a) {
  if (a.files.empty()) throw std::invalid_argument("give at least one parley loadtest --json result");
  std::vector<LoadPoint> points;
  for (const auto& f : a.files) points.push_back(load_point_from_json(read_file(f), f));
  std::vector<Capacity> caps = find_capacity(points, a.objectives);
  print_levels(caps, a.objectives);

  PriceTable prices = PriceTable::defaults();
  if (!a.prices_file.empty()) prices.load_json(read_file(a.prices_file));
  for (const auto& p : a.prices) prices.set_from_assignment(p);

  std::printf(
      "\nScale-rule targets (concurrent requests per replica) and replicas for %.0f concurrent users\n",
      a.users);
  std::printf(
      "(ACA http: Azure Container Apps computes its \"concurrent requests\" as requests in the last 15 s / "
      "15, a\n"
      " rate; the equivalent setting is the measured requests/s per replica at the chosen level.)\n");
  std::printf("%-7s %8s %9s %9s %9s %12s %9s %9s\n", "role", "target", "at users", "req/s", "TTFT p99",
              "active/user", "replicas", "ACA http");
  std::map<std::string, int> peak;
  for (const Capacity& c : caps) {
    if (!c.best) {
      std::printf("%-7s %8s  no measured level met the objectives: measure lower loads or relax them\n",
                  c.role.c_str(), "-");
      continue;
    }
    double active = active_of(c, a.active);
    int n = std::max(1, replicas_for(c, a.users, active));
    peak[c.role] = n;
    std::printf("%-7s %8.0f %9d %9.1f %9s %12.3f %9d %9.0f\n", c.role.c_str(), c.target, c.best->users,
                c.best->requests_per_s, c.best->has_ttft ? fixed(c.best->ttft_p99_s, 3, "s").c_str() : "-",
                active, n, std::max(1.0, std::floor(c.best->requests_per_s)));
  }

  std::map<std::string, double> autoscaled;
  for (const Capacity& c : caps) {
    if (!c.best || (!a.sim_role.empty() && a.sim_role != c.role)) continue;
    ScaleRule rule = a.rule;
    rule.target = a.target > 0 ? a.target : c.target;
    Profile profile{.kind = a.profile,
                    .users = a.users,
                    .base = a.base_users >= 0 ? a.base_users : (a.profile == "spike" ? a.users / 10 : 0),
                    .duration_s = a.sim_duration,
                    .spike_at_s = a.spike_at,
                    .spike_len_s = a.spike_len};
    Workload work;
    work.active = active_of(c, a.active);
    const LoadPoint& b = *c.best;
    work.service_s = b.has_ttft && b.stream_mean_s > 0 ? b.stream_mean_s : b.latency_mean_s;
    std::vector<std::pair<double, double>> curve;
    for (const LoadPoint& p : c.points)
      curve.push_back({p.think_s > 0 ? p.in_flight : p.users, p.has_ttft ? p.ttft_mean_s : p.latency_mean_s});
    work.base_ttft = interpolate(curve);
    SimResult r = simulate(rule, profile, work);
    const char* what = b.has_ttft ? "TTFT" : "latency";
    std::printf(
        "\nSimulation of the HTTP scale rule for %s: profile %s (%.0f users%s), service time %.2fs\n"
        "rule: target %.0f concurrent requests/replica, polling %.0fs, cool-down %.0fs, replicas %d..%d, "
        "cold start %.0fs, limit %s per replica\n",
        c.role.c_str(), profile.kind.c_str(), profile.users,
        profile.kind == "steady" ? "" : (", base " + std::to_string(static_cast<int>(profile.base))).c_str(),
        work.service_s, rule.target, rule.polling_s, rule.cooldown_s, rule.min_replicas, rule.max_replicas,
        rule.cold_start_s,
        rule.replica_limit > 0 ? std::to_string(static_cast<int>(rule.replica_limit)).c_str() : "none");
    std::printf("%6s %7s %8s %10s %7s %8s %7s %11s %10s\n", "t s", "users", "queued", "in service", "ready",
                "starting", "desired", "per replica", (std::string(what) + " s").c_str());
    long every = std::max(1L, std::lround(a.every));
    for (const SimTick& k : r.ticks) {
      if (static_cast<long>(k.t) % every != 0) continue;
      // The TTFT (latency) column is that of the requests admitted in this tick: "-" when none was.
      std::printf("%6.0f %7.1f %8.1f %10.1f %7d %8d %7d %11.1f %10s\n", k.t, k.users, k.queued, k.in_service,
                  k.ready, k.starting, k.desired, k.ready ? k.in_service / k.ready : 0.0,
                  k.admitted > 0 ? fixed(k.ttft_mean, 2, "").c_str() : "-");
    }
    std::printf(
        "summary: mean replicas %.2f (max %d), max queue %.1f, max wait %.0fs, %s mean %.2fs max %.2fs, "
        "%.1f%% of requests waited >= 1s\n",
        r.mean_replicas(), r.max_replicas, r.max_queue, r.max_wait, what, r.ttft_mean, r.ttft_max,
        r.requests > 0 ? 100 * r.waited / r.requests : 0.0);
    autoscaled[c.role] = r.mean_replicas();
  }

  std::printf(
      "\nMonthly cost (US$; replicas linear in replica-hours, %.0f h/month; edit with --price item=dollars "
      "or --prices FILE)\n",
      kHoursPerMonth);
  std::printf("%-22s %12s %10s %12s %12s %12s\n", "item", "$/month each", "peak count", "peak $/month",
              "autoscaled", "auto $/month");
  double total_peak = 0, total_auto = 0;
  for (const char* fixed : {"load_balancer", "registry", "postgres"}) {
    double p = prices.get(fixed);
    std::printf("%-22s %12.2f %10d %12.2f %12d %12.2f\n", fixed, p, 1, p, 1, p);
    total_peak += p;
    total_auto += p;
  }
  for (const char* role : {"ui", "db-api", "lm-api"}) {
    std::string item = PriceTable::replica_item(role);
    double p = prices.get(item);
    bool measured = peak.count(role) > 0;
    int n = measured ? peak[role] : 1;
    double avg = autoscaled.count(role) ? autoscaled[role] : n;
    std::printf("%-22s %12.2f %10d %12.2f %12.2f %12.2f%s\n", (item + " (" + role + ")").c_str(), p, n, n * p,
                avg, avg * p, measured ? "" : "  (not measured: 1 replica assumed)");
    total_peak += n * p;
    total_auto += avg * p;
  }
  std::printf("%-22s %12s %10s %12.2f %12s %12.2f\n", "total", "", "", total_peak, "", total_auto);
  for (const auto& [item, p] : prices.items()) {
    bool known = item == "load_balancer" || item == "registry" || item == "postgres" ||
                 item == "ui_replica" || item == "dbapi_replica" || item == "lm_replica";
    if (!known) std::printf("note: price item %s ($%.2f) is not part of the plan\n", item.c_str(), p);
  }
  return 0;
}

}  // namespace

void register_plan_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "plan", "Scale-rule targets, replicas, autoscaling simulation and monthly cost from loadtest results");
  cmd->add_option("results", a->files,
                  "parley loadtest --json files (one replica of a role at one load level each)")
      ->required();
  cmd->add_option("--latency-slo", a->objectives.latency_p99_s, "Objective: request latency p99, seconds");
  cmd->add_option("--ttft-slo", a->objectives.ttft_p99_s, "Objective: time to first token p99, seconds");
  cmd->add_option("--max-error-rate", a->objectives.max_error_rate, "Objective: errors / requests")
      ->capture_default_str();
  cmd->add_option("--users", a->users, "Concurrent users to plan for (the profile's peak)")
      ->capture_default_str();
  cmd->add_option("--active", a->active,
                  "Requests in flight per user at each role (default: 1 without think time, else measured)");
  cmd->add_option("--profile", a->profile, "steady | ramp | spike")
      ->check(CLI::IsMember({"steady", "ramp", "spike"}))
      ->capture_default_str();
  cmd->add_option("--sim-duration", a->sim_duration, "Simulated seconds")->capture_default_str();
  cmd->add_option("--spike-at", a->spike_at, "spike: start, seconds")->capture_default_str();
  cmd->add_option("--spike-len", a->spike_len, "spike: length, seconds")->capture_default_str();
  cmd->add_option("--base-users", a->base_users,
                  "spike: users outside the spike (default users/10); ramp: start (default 0)");
  cmd->add_option("--every", a->every, "Print every this many simulated seconds")->capture_default_str();
  cmd->add_option("--target", a->target, "Scale-rule target (default: the measured one per role)");
  cmd->add_option("--polling", a->rule.polling_s, "Scaler polling interval, seconds")->capture_default_str();
  cmd->add_option("--cooldown", a->rule.cooldown_s, "Scale-down cool-down, seconds")->capture_default_str();
  cmd->add_option("--min-replicas", a->rule.min_replicas, "")->capture_default_str();
  cmd->add_option("--max-replicas", a->rule.max_replicas, "")->capture_default_str();
  cmd->add_option("--cold-start", a->rule.cold_start_s, "Seconds from replica start to ready")
      ->capture_default_str();
  cmd->add_option("--replica-limit", a->rule.replica_limit,
                  "Concurrent requests one replica serves at most (lm-api: --slots); 0 = none")
      ->capture_default_str();
  cmd->add_option("--sim-role", a->sim_role, "Simulate only this role (ui, db-api, lm-api)");
  cmd->add_option("--prices", a->prices_file, "JSON object of item: US$ per month");
  cmd->add_option("--price", a->prices,
                  "item=dollars (load_balancer, registry, postgres, ui_replica, dbapi_replica, lm_replica)");
  cmd->callback([a, &exit_code] {
    try {
      exit_code = run(*a);
    } catch (const std::exception& e) {
      std::cerr << "parley plan: " << e.what() << "\n";
      exit_code = 1;
    }
  });
}

}  // namespace parley
