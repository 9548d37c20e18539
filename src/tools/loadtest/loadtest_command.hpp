// `parley loadtest`: drives a Parley role (or any OpenAI-compatible server) with simulated users.
//
//   parley loadtest --url http://127.0.0.1:8081 --scenario db --users 100 --duration 30s
//   parley loadtest --url http://127.0.0.1:8080 --scenario lm --users 8 --duration 60
//                   --prompt-tokens 200 --max-tokens 128 --json lm8.json --plot lm8.svg
//
// Durations accept "30", "30s", "2m", "500ms". PARLEY_SERVICE_TOKEN (or --token) is the Bearer
// token of the db and lm scenarios. Exit code 0 when the run completed, 1 on bad options, and 0
// also when interrupted with Ctrl-C (the summary of what was measured is printed).
#pragma once

#include <CLI/CLI.hpp>

namespace parley {
void register_loadtest_command(CLI::App& app, int& exit_code);
}  // namespace parley
