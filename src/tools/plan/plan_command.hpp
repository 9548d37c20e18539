// `parley plan`: from loadtest results (one replica of each role at increasing load) to scale-rule
// targets, replica counts, a simulation of the HTTP concurrency scale rule, and a monthly cost.
//
//   parley plan db-*.json lm-*.json --latency-slo 50ms --ttft-slo 5s --users 200
//               --profile spike --min-replicas 0 --max-replicas 10 --cold-start 20 --price lm_replica=60
#pragma once

#include <CLI/CLI.hpp>

namespace parley {
void register_plan_command(CLI::App& app, int& exit_code);
}  // namespace parley
