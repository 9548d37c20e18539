// `parley ui`: the web UI alone, over db-api and an OpenAI-compatible lm-api (microservice topology).
//
//   SESSION_KEY=... PARLEY_SERVICE_TOKEN=... parley ui --port 8080
//       --db-api http://db-api:8081 --lm-api http://lm-api:8082      (one line)
//
// Refuses to start (exit 2, saying why) without SESSION_KEY/SESSION_KEYS (replicas must share it)
// or without PARLEY_SERVICE_TOKEN (db-api always checks it).
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "core/result.hpp"
#include "services/ui/session.hpp"

namespace parley::services::ui {

void register_ui_command(CLI::App& app, int& exit_code);

// SESSION_KEYS (new,old,...) or else SESSION_KEY from the environment; nullopt when neither is set;
// an error when a key is too short.
std::optional<Result<SessionKeys>> session_keys_from_environment();

}  // namespace parley::services::ui

namespace parley {
using services::ui::register_ui_command;
}
