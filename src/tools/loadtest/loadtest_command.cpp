#include "tools/loadtest/loadtest_command.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>

#include "core/signals.hpp"
#include "tools/loadtest/report.hpp"
#include "tools/loadtest/runner.hpp"

namespace parley {
namespace {
using namespace tools::loadtest;

// "30", "30s", "2m", "500ms", "1h" -> seconds.
double parse_duration(const std::string& s) {
  size_t used = 0;
  double v = std::stod(s, &used);
  std::string unit = s.substr(used);
  if (unit.empty() || unit == "s") return v;
  if (unit == "ms") return v / 1000;
  if (unit == "m") return v * 60;
  if (unit == "h") return v * 3600;
  throw std::invalid_argument("bad duration: " + s);
}

struct Args {
  LoadOptions o;
  std::string duration = "30s", ramp = "0", think = "0", ttft_slo = "0", latency_slo = "0", timeout = "120s",
              drain = "30s";
  std::string json_path, plot_path;
  bool quiet = false;
};

int run(Args& a) {
  LoadOptions& o = a.o;
  o.duration_s = parse_duration(a.duration);
  o.ramp_s = parse_duration(a.ramp);
  o.think_s = parse_duration(a.think);
  o.slo.ttft_s = parse_duration(a.ttft_slo);
  o.slo.latency_s = parse_duration(a.latency_slo);
  o.timeout_s = parse_duration(a.timeout);
  o.drain_s = parse_duration(a.drain);
  o.progress = !a.quiet;
  if (o.token.empty())
    if (const char* t = std::getenv("PARLEY_SERVICE_TOKEN")) o.token = t;
  if (o.scenario == "db" && o.token.empty())
    throw std::invalid_argument("the db scenario needs the service token: PARLEY_SERVICE_TOKEN or --token");

  auto run = std::make_shared<LoadRun>(o);
  ShutdownSignals signals([run](int) {
    run->interrupt();
    std::fprintf(
        stderr,
        "\nparley loadtest: stopping; running requests may finish (--drain); interrupt again to cut them\n");
  });
  Summary s = run->run(stderr);
  o = run->options();  // with the seed it used
  RunExtras x{.cpu_s = run->cpu_seconds(),
              .connections = run->connections_opened(),
              .interrupted = signals.count() > 0};
  print_summary(stdout, o, s, x);
  if (!a.json_path.empty()) {
    std::ofstream(a.json_path) << summary_json(o, s, x);
  }
  if (!a.plot_path.empty()) {
    std::ofstream(a.plot_path) << timeline_svg(o, s);
  }
  return 0;
}

}  // namespace

void register_loadtest_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "loadtest", "Drive a Parley role (or an OpenAI-compatible server) with simulated users");
  LoadOptions& o = args->o;
  cmd->add_option("--url", o.url, "Base URL of the service (UI for chat, lm-api for lm, db-api for db)")
      ->required();
  cmd->add_option("--scenario", o.scenario, "chat | lm | db")
      ->check(CLI::IsMember({"chat", "lm", "db"}))
      ->required();
  cmd->add_option("--users", o.users, "Simulated concurrent users")->capture_default_str();
  cmd->add_option("--duration", args->duration, "How long to run (30s, 2m)")->capture_default_str();
  cmd->add_option("--ramp", args->ramp, "Start the users evenly over this long")->capture_default_str();
  cmd->add_option("--think", args->think, "Mean pause between a user's requests")->capture_default_str();
  cmd->add_option("--turns", o.turns, "lm/chat: messages per conversation")->capture_default_str();
  cmd->add_option("--prompt-tokens", o.prompt_tokens,
                  "lm: prompt length in tokens (about); chat: words per message")
      ->capture_default_str();
  cmd->add_option("--max-tokens", o.max_tokens, "lm: max_tokens of each request")->capture_default_str();
  cmd->add_option("--seed", o.seed, "Random seed (prompts, the db mix, think times); 0 = random");
  cmd->add_option("--token", o.token, "Bearer token for db and lm (default: PARLEY_SERVICE_TOKEN)");
  cmd->add_option("--model", o.model, "lm: model name (default: the first of GET /v1/models)");
  cmd->add_option("--endpoint", o.endpoint,
                  "lm: completions | chat (default: completions, chat when --turns > 1)")
      ->check(CLI::IsMember({"completions", "chat"}));
  cmd->add_flag("--truncate-history", o.truncate_history,
                "lm chat: send truncate_history (Parley's extension: the server drops the oldest turns that "
                "do not fit its context, as Parley's UI asks it to)");
  cmd->add_option("--ttft-slo", args->ttft_slo, "Objective for time to first token (goodput)");
  cmd->add_option("--latency-slo", args->latency_slo, "Objective for the whole request (goodput)");
  cmd->add_option("--timeout", args->timeout, "Per request: waiting for the head, and for each body read")
      ->capture_default_str();
  cmd->add_option("--drain", args->drain, "After the duration, how long running requests may finish")
      ->capture_default_str();
  cmd->add_option("--json", args->json_path, "Write the results as JSON (input of parley plan)");
  cmd->add_option("--plot", args->plot_path, "Write an SVG of latency percentiles and throughput over time");
  cmd->add_flag("--quiet", args->quiet, "No progress line");
  cmd->callback([args, &exit_code] {
    try {
      exit_code = run(*args);
    } catch (const std::exception& e) {
      std::cerr << "parley loadtest: " << e.what() << "\n";
      exit_code = 1;
    }
  });
}

}  // namespace parley
