// `parley serve`: the whole app in one process: the UI over an in-process store (SQLite by default,
// or PostgreSQL) and the in-process engine. The session key is created on first start and kept in
// the data directory (mode 0600), unless SESSION_KEY/SESSION_KEYS is set.
//
//   parley serve --model models/qwen2.5-0.5b-instruct-q5_k_m.gguf          # http://127.0.0.1:8080
//   parley serve --model m.gguf --database postgres://u:p@localhost/parley --port 9000
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "core/result.hpp"

namespace parley::services::serve {

void register_serve_command(CLI::App& app, int& exit_code);

// The secret in DIR/session.key, created (random, mode 0600, DIR made if missing) when absent.
// Errors: unavailable when it cannot be read or written (the message names the file).
Result<std::string> load_or_create_session_secret(const std::string& data_dir);

}  // namespace parley::services::serve

namespace parley {
using services::serve::register_serve_command;
}
