#include "services/dbapi/dbapi_command.hpp"

#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>

#include "core/config.hpp"
#include "core/logging.hpp"
#include "net/event_loop.hpp"
#include "net/server.hpp"
#include "services/dbapi/dbapi_routes.hpp"
#include "store/open_store.hpp"

namespace parley::services::dbapi {
namespace {

struct DbApiArgs {
  std::string host = "127.0.0.1";
  int port = 8081;
  std::string database;
  int threads = 0;
  bool compat_routes = false;
  size_t max_content_bytes = 256 * 1024;
  int pool_size = 16;
  int wait_for_database_s = 30;
  int cache_mb = 32;
};

int run_dbapi(const DbApiArgs& args) {
  setup_logging(log_options_from_env());
  auto token = env("PARLEY_SERVICE_TOKEN");
  if (!token || token->empty()) {
    std::fprintf(stderr,
                 "parley db-api: PARLEY_SERVICE_TOKEN is not set. db-api always checks a service token "
                 "(callers send it as \"Authorization: Bearer <token>\") and has no default; set it to a "
                 "long random secret, e.g. PARLEY_SERVICE_TOKEN=$(openssl rand -hex 32).\n");
    return 2;
  }
  std::string database = args.database.empty() ? env_string("PARLEY_DATABASE", "") : args.database;

  int threads = args.threads > 0 ? args.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  net::EventLoop loop(threads);
  store::OpenOptions open;
  open.limits.max_content_bytes = args.max_content_bytes;
  open.postgres_pool_size = args.pool_size;
  open.wait_for_database = std::chrono::seconds(args.wait_for_database_s);
  auto opened = store::open_chat_store(database, loop.context().get_executor(), open);
  if (!opened) {
    std::fprintf(stderr, "parley db-api: %s\n", opened.error().message.c_str());
    return 2;
  }
  store::ChatStore& chat_store = *opened->store;

  net::Router router;
  add_v1_routes(router, chat_store, *token, V1Options{.cache_bytes = static_cast<size_t>(args.cache_mb) << 20});
  if (args.compat_routes) add_compat_routes(router, chat_store);

  net::ServerOptions options;
  options.name = "db-api";
  options.host = args.host;
  options.port = static_cast<uint16_t>(args.port);
  options.threads = threads;
  // A body holds content up to the limit, escaped: up to 6 bytes per byte ("\u0001"), plus fields.
  options.body_limit = 6 * args.max_content_bytes + 64 * 1024;
  net::Server server(loop, options, std::move(router));
  server.set_readiness([&chat_store]() -> boost::asio::awaitable<Status> {
    auto r = co_await chat_store.check_ready();
    if (!r) co_return make_error(ErrorCode::unavailable, "database unavailable");
    co_return ok_status();
  });
  int rc = net::run_until_signal(loop, {&server}, [&] {
    spdlog::info("db-api listening on {}:{} database={} migrations_applied={} compat_routes={}", args.host,
                 server.port(), opened->description, opened->migrations_applied, args.compat_routes);
  });
  loop.stop();
  flush_logs();
  return rc;
}

}  // namespace

void register_dbapi_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<DbApiArgs>();
  CLI::App* cmd = app.add_subcommand("db-api", "Serve the chat database API (internal; needs PARLEY_SERVICE_TOKEN)");
  cmd->add_option("--host", args->host, "Address to listen on")->envname("DB_API_HOST")->capture_default_str();
  cmd->add_option("--port", args->port, "Port to listen on")->envname("DB_API_PORT")->capture_default_str();
  cmd->add_option("--database", args->database,
                  "sqlite:PATH or postgres://user:password@host:port/db (default: POSTGRES_HOST etc.)")
      ->envname("PARLEY_DATABASE");
  cmd->add_option("--threads", args->threads, "Event loop threads (0: one per CPU)")->capture_default_str();
  cmd->add_flag("--compat-routes", args->compat_routes,
                "Also serve the original app's API (/chats...; no token: trusts the network)");
  cmd->add_option("--max-content-bytes", args->max_content_bytes, "Largest message content")->capture_default_str();
  cmd->add_option("--pool-size", args->pool_size, "PostgreSQL connections (plus one for the version checks of cached chats)")->capture_default_str();
  cmd->add_option("--cache-mb", args->cache_mb,
                  "Rendered chats kept in memory (MiB; each served only after its version is checked in "
                  "the database, so replicas never serve stale chats; 0: off)")
      ->check(CLI::Range(0, 1 << 16))
      ->capture_default_str();
  cmd->add_option("--wait-for-database", args->wait_for_database_s,
                  "Seconds to wait for PostgreSQL at start-up")->capture_default_str();
  cmd->callback([args, &exit_code] { exit_code = run_dbapi(*args); });
}

}  // namespace parley::services::dbapi
