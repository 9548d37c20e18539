// Versioned schema migrations shared by the SQL stores: an ordered list of (version, SQL script).
// A database records every applied version in schema_migrations; start-up applies the missing ones
// in order, each store holding its database's lock while it does (SQLite: BEGIN IMMEDIATE;
// PostgreSQL: an advisory lock), so replicas starting at once apply each migration exactly once.
#pragma once

#include <span>

namespace parley::store {

struct Migration {
  int version;
  const char* description;
  const char* sql;  // may hold several statements
};

struct MigrationReport {
  int version_before = 0;  // 0: fresh database
  int version_after = 0;
  int applied = 0;
};

std::span<const Migration> sqlite_migrations();
std::span<const Migration> postgres_migrations();

}  // namespace parley::store
