// Thin RAII layer over the SQLite C API: a connection with a cache of prepared statements and a
// statement handle that resets itself. SQLite errors are SqliteError exceptions carrying the
// extended result code; the store turns the few expected ones (busy, unique) into Result values.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

namespace parley::store::sqlite {

class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }                  // extended result code
  int primary() const { return code_ & 0xff; }        // SQLITE_BUSY, SQLITE_CONSTRAINT, ...

 private:
  int code_;
};

// A prepared statement borrowed from the connection's cache; reset and unbound when it dies.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds by 1-based index. Text is bound with its length, so U+0000 survives.
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, int64_t value);
  Statement& bind_optional(int index, const std::optional<std::string>& text);
  Statement& bind_null(int index);

  bool step();  // true: a row is ready; false: done. Throws SqliteError.
  void run();   // step() to completion, expecting no rows

  int64_t column_int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string column_text(int col) const;
  std::optional<std::string> column_optional_text(int col) const;
  bool column_is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class SqliteDb {
 public:
  // Opens (creating if needed) path; WAL, foreign keys on, busy timeout in ms.
  SqliteDb(const std::string& path, int busy_timeout_ms);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // sql must be a string literal (the cache is keyed by its address).
  Statement prepare(const char* sql);
  void exec(const char* sql);  // one-off statements (PRAGMA, BEGIN, schema)
  int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

// A transaction that rolls back unless commit() was called.
class Transaction {
 public:
  // immediate: take the write lock now (BEGIN IMMEDIATE) instead of at the first write.
  Transaction(SqliteDb& db, bool immediate);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  SqliteDb& db_;
  bool open_ = true;
};

[[noreturn]] void throw_sqlite(sqlite3* db, int rc, std::string_view context);

}  // namespace parley::store::sqlite
