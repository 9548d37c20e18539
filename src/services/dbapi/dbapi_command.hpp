// `parley db-api`: the chat database API as its own process.
//
//   parley db-api --port 8081 --database sqlite:/data/parley.db|postgres://... [--host 127.0.0.1]
//                 [--threads N] [--compat-routes] [--max-content-bytes 262144] [--pool-size 16]
//
// Environment: PARLEY_SERVICE_TOKEN (required; no default: the command refuses to start without it),
// DB_API_PORT, DB_API_HOST, PARLEY_DATABASE, and POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USERNAME
// (or POSTGRES_USER), POSTGRES_PASSWORD, POSTGRES_DATABASE when no --database is given.
#pragma once

#include <CLI/CLI.hpp>

namespace parley::services::dbapi {

void register_dbapi_command(CLI::App& app, int& exit_code);

}  // namespace parley::services::dbapi

namespace parley {
using services::dbapi::register_dbapi_command;
}
