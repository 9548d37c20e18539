// Opening a ChatStore from a database spec, as every role's command line gives it:
//   "sqlite:PATH"                      SQLite file (created if missing)
//   "postgres://..." / "postgresql://..." / libpq "host=... dbname=..."   PostgreSQL
//   ""                                 PostgreSQL from POSTGRES_HOST etc. when POSTGRES_HOST is set
// Migrations run here (start-up); for PostgreSQL they are retried until `wait_for_database` passes,
// so a db-api started together with its database waits for it instead of dying.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "store/chat_store.hpp"

namespace parley::store {

struct OpenOptions {
  StoreLimits limits;
  int sqlite_threads = 4;
  int postgres_pool_size = 16;
  std::chrono::milliseconds wait_for_database{30000};
};

struct OpenedStore {
  std::unique_ptr<ChatStore> store;
  std::string description;  // "sqlite:/data/parley.db", "postgres://host:port/db" (no password)
  int migrations_applied = 0;
};

// invalid_argument for a malformed spec; unavailable when the database could not be reached or
// migrated in time (message says why).
Result<OpenedStore> open_chat_store(const std::string& spec, boost::asio::any_io_executor executor,
                                    const OpenOptions& options = {});

}  // namespace parley::store
