// One libpq connection driven without blocking from the event loop: requests are sent with
// PQsendQueryPrepared, and the coroutine waits for socket readiness through an asio descriptor
// between PQflush/PQconsumeInput calls. Parameters and results use libpq's binary format (text and
// bytea as raw bytes, int8 as 8 big-endian bytes), so content round-trips byte for byte.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace parley::store::postgres {

// The server answered with an error (sqlstate set), or the connection broke (broken() true).
class PgError : public std::runtime_error {
 public:
  PgError(std::string message, std::string sqlstate, bool broken)
      : std::runtime_error(std::move(message)), sqlstate_(std::move(sqlstate)), broken_(broken) {}
  const std::string& sqlstate() const { return sqlstate_; }  // "23505" unique_violation, ...
  bool broken() const { return broken_; }

 private:
  std::string sqlstate_;
  bool broken_;
};

// Owns a PGresult of tuples in binary format.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col); }
  std::string text(int row, int col) const;
  std::string_view view(int row, int col) const;
  std::optional<std::string> optional_text(int row, int col) const;
  int64_t int64(int row, int col) const;  // int8 column
  bool boolean(int row, int col) const;
  int64_t affected() const;  // rows touched by INSERT/UPDATE/DELETE

 private:
  std::shared_ptr<PGresult> r_;
};

// Parameters of one statement, all sent in binary format.
class PgParams {
 public:
  PgParams& text(std::string_view value);  // text or bytea parameter: raw bytes
  PgParams& int64(int64_t value);
  PgParams& null();
  PgParams& optional_text(const std::optional<std::string>& value) { return value ? text(*value) : null(); }
  PgParams& optional_int64(const std::optional<int64_t>& value) { return value ? int64(*value) : null(); }
  int size() const { return static_cast<int>(lengths_.size()); }

 private:
  friend class PgConnection;
  std::vector<std::string> storage_;
  std::vector<bool> is_null_;
  std::vector<int> lengths_;
};

// A statement prepared on every connection when it connects.
struct PreparedStatement {
  const char* name;
  const char* sql;
  std::vector<Oid> param_types;  // 20 int8, 25 text, 17 bytea
};

class PgConnection {
 public:
  // Connects without blocking the loop, runs session_setup (SQL such as "SET ...", when not
  // null) and prepares the statements. Throws PgError (broken) when the server cannot be reached or
  // refuses, after at most connect_timeout; PgError with a sqlstate when the setup fails.
  static boost::asio::awaitable<std::unique_ptr<PgConnection>> connect(
      boost::asio::any_io_executor executor, const std::string& conninfo,
      std::span<const PreparedStatement> statements, std::chrono::milliseconds connect_timeout,
      const char* session_setup = nullptr);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs a prepared statement (or, with a null name, the plain SQL in sql with these parameters).
  // Throws PgError: with a sqlstate for a server error, broken() for a lost connection.
  boost::asio::awaitable<PgResult> query(const char* statement, const PgParams& params = {});
  boost::asio::awaitable<PgResult> exec(const char* sql);  // simple query, no parameters

  // Non-blocking check before reuse: an idle connection must have nothing to read (a restarting
  // server sends a termination notice and closes). False: throw this connection away.
  bool healthy();

 private:
  PgConnection(boost::asio::any_io_executor executor, PGconn* conn);
  boost::asio::awaitable<void> wait(bool for_write);
  boost::asio::awaitable<void> flush();
  boost::asio::awaitable<PgResult> collect();
  [[noreturn]] void fail(std::string_view what);

  PGconn* conn_;
  boost::asio::posix::stream_descriptor socket_;
  std::mutex libpq_mutex_;  // see wait(): a resumed reader may overlap the end of its initiation
};

}  // namespace parley::store::postgres
