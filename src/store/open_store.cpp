#include "store/open_store.hpp"

#include <libpq-fe.h>

#include <thread>

#include "store/postgres/pg_chat_store.hpp"
#include "store/sqlite/sqlite_chat_store.hpp"

namespace parley::store {
namespace {

// "postgres://user@host:5432/db" without the password, for logs.
std::string describe_postgres(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (!opts) {
    PQfreemem(err);
    return "postgres";
  }
  std::string host, port, db, user;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (!o->val) continue;
    std::string k = o->keyword;
    if (k == "host") host = o->val;
    if (k == "port") port = o->val;
    if (k == "dbname") db = o->val;
    if (k == "user") user = o->val;
  }
  PQconninfoFree(opts);
  return "postgres://" + (user.empty() ? "" : user + "@") + (host.empty() ? "localhost" : host) +
         (port.empty() ? "" : ":" + port) + "/" + db;
}

}  // namespace

Result<OpenedStore> open_chat_store(const std::string& spec, boost::asio::any_io_executor executor,
                                    const OpenOptions& options) {
  if (spec.rfind("sqlite:", 0) == 0) {
    std::string path = spec.substr(7);
    if (path.rfind("//", 0) == 0) path = path.substr(2);  // also accept sqlite://PATH
    if (path.empty()) return make_error(ErrorCode::invalid_argument, "sqlite: needs a file path (sqlite:PATH)");
    try {
      auto st = std::make_unique<sqlite::SqliteChatStore>(
          path, sqlite::SqliteOptions{.threads = options.sqlite_threads, .limits = options.limits});
      int applied = st->migration_report().applied;
      return OpenedStore{std::move(st), "sqlite:" + path, applied};
    } catch (const std::exception& e) {
      return make_error(ErrorCode::unavailable, e.what());
    }
  }
  std::string conninfo = spec;
  if (conninfo.empty()) {
    auto env = postgres::conninfo_from_environment();
    if (!env)
      return make_error(ErrorCode::invalid_argument,
                        "no database: give --database sqlite:PATH or postgres://..., or set POSTGRES_HOST");
    conninfo = *env;
  } else if (conninfo.rfind("postgres://", 0) != 0 && conninfo.rfind("postgresql://", 0) != 0 &&
             conninfo.find('=') == std::string::npos) {
    return make_error(ErrorCode::invalid_argument,
                      "unknown database \"" + spec + "\": use sqlite:PATH or postgres://user:password@host:port/db");
  }
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &err);
  if (!parsed) {
    std::string message = err ? err : "malformed";
    PQfreemem(err);
    return make_error(ErrorCode::invalid_argument, "invalid PostgreSQL connection string: " + message);
  }
  PQconninfoFree(parsed);

  auto deadline = std::chrono::steady_clock::now() + options.wait_for_database;
  MigrationReport report;
  for (;;) {
    try {
      report = postgres::migrate_postgres(conninfo);
      break;
    } catch (const std::exception& e) {
      if (std::chrono::steady_clock::now() >= deadline)
        return make_error(ErrorCode::unavailable, std::string("PostgreSQL not ready: ") + e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  auto st = std::make_unique<postgres::PostgresChatStore>(
      executor, postgres::PostgresOptions{.conninfo = conninfo, .pool_size = options.postgres_pool_size,
                                          .limits = options.limits});
  return OpenedStore{std::move(st), describe_postgres(conninfo), report.applied};
}

}  // namespace parley::store
