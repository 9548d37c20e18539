// Start-up migrations and configuration from the environment (blocking libpq; never on a loop).
#include <libpq-fe.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include "store/postgres/pg_chat_store.hpp"

namespace parley::store::postgres {
namespace {

// Any constant: the key of the advisory lock that serializes migrations across replicas.
constexpr const char* kMigrationLockKey = "7280946139";

using ConnPtr = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

ResultPtr run(PGconn* conn, const std::string& sql) {
  ResultPtr r(PQexec(conn, sql.c_str()), &PQclear);
  auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    throw std::runtime_error("migration failed: " + std::string(PQresultErrorMessage(r.get())));
  return r;
}

std::string quote_value(const char* value) {
  std::string out = "'";
  for (const char* p = value; *p; ++p) {
    if (*p == '\'' || *p == '\\') out.push_back('\\');
    out.push_back(*p);
  }
  out.push_back('\'');
  return out;
}

}  // namespace

std::optional<std::string> conninfo_from_environment() {
  const char* host = std::getenv("POSTGRES_HOST");
  if (!host || !*host) return std::nullopt;
  std::string conninfo = "host=" + quote_value(host);
  auto add = [&](const char* key, std::initializer_list<const char*> names) {
    for (const char* name : names) {
      const char* value = std::getenv(name);
      if (value && *value) {
        conninfo += std::string(" ") + key + "=" + quote_value(value);
        return;
      }
    }
  };
  add("port", {"POSTGRES_PORT"});
  add("user", {"POSTGRES_USERNAME", "POSTGRES_USER"});
  add("password", {"POSTGRES_PASSWORD"});
  add("dbname", {"POSTGRES_DATABASE", "POSTGRES_DB"});
  return conninfo;
}

MigrationReport migrate_postgres(const std::string& conninfo) {
  ConnPtr conn(PQconnectdb(conninfo.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn.get());
    while (!message.empty() && message.back() == '\n') message.pop_back();
    throw std::runtime_error("cannot connect to PostgreSQL: " + message);
  }
  run(conn.get(), "SET client_min_messages = warning");
  run(conn.get(), std::string("SELECT pg_advisory_lock(") + kMigrationLockKey + ")");
  MigrationReport report;
  try {
    run(conn.get(), "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                    "description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
    ResultPtr r = run(conn.get(), "SELECT coalesce(max(version), 0) FROM schema_migrations");
    report.version_before = std::atoi(PQgetvalue(r.get(), 0, 0));
    report.version_after = report.version_before;
    for (const Migration& m : postgres_migrations()) {
      if (m.version <= report.version_before) continue;
      run(conn.get(), "BEGIN");
      try {
        run(conn.get(), m.sql);
        run(conn.get(), "INSERT INTO schema_migrations (version, description) VALUES (" +
                            std::to_string(m.version) + ", " + quote_value(m.description) + ")");
        run(conn.get(), "COMMIT");
      } catch (...) {
        PQclear(PQexec(conn.get(), "ROLLBACK"));
        throw;
      }
      report.version_after = m.version;
      ++report.applied;
    }
  } catch (...) {
    PQclear(PQexec(conn.get(), (std::string("SELECT pg_advisory_unlock(") + kMigrationLockKey + ")").c_str()));
    throw;
  }
  run(conn.get(), std::string("SELECT pg_advisory_unlock(") + kMigrationLockKey + ")");
  return report;
}

}  // namespace parley::store::postgres
