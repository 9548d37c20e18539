#include "store/postgres/pg_connection.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/endian/conversion.hpp>

#include <poll.h>
#include <unistd.h>

#include <cstring>

namespace asio = boost::asio;

namespace parley::store::postgres {
namespace {

std::string connection_error(PGconn* conn) {
  std::string message = conn ? PQerrorMessage(conn) : "out of memory";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

int dup_socket(PGconn* conn) {
  int fd = PQsocket(conn);
  if (fd < 0) return -1;
  return ::dup(fd);
}

}  // namespace

std::string PgResult::text(int row, int col) const { return std::string(view(row, col)); }

std::string_view PgResult::view(int row, int col) const {
  return std::string_view(PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col)));
}

std::optional<std::string> PgResult::optional_text(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return text(row, col);
}

int64_t PgResult::int64(int row, int col) const {
  std::string_view v = view(row, col);
  if (v.size() != 8) throw PgError("expected an int8 column", "", false);
  int64_t be;
  std::memcpy(&be, v.data(), 8);
  return boost::endian::big_to_native(be);
}

bool PgResult::boolean(int row, int col) const {
  std::string_view v = view(row, col);
  return v.size() == 1 && v[0] != 0;
}

int64_t PgResult::affected() const {
  const char* n = r_ ? PQcmdTuples(r_.get()) : "";
  return *n ? std::stoll(n) : 0;
}

PgParams& PgParams::text(std::string_view value) {
  storage_.emplace_back(value);
  is_null_.push_back(false);
  lengths_.push_back(static_cast<int>(value.size()));
  return *this;
}

PgParams& PgParams::int64(int64_t value) {
  int64_t be = boost::endian::native_to_big(value);
  storage_.emplace_back(reinterpret_cast<const char*>(&be), 8);
  is_null_.push_back(false);
  lengths_.push_back(8);
  return *this;
}

PgParams& PgParams::null() {
  storage_.emplace_back();
  is_null_.push_back(true);
  lengths_.push_back(0);
  return *this;
}

PgConnection::PgConnection(asio::any_io_executor executor, PGconn* conn) : conn_(conn), socket_(executor) {}

PgConnection::~PgConnection() {
  boost::system::error_code ignored;
  socket_.close(ignored);  // our dup of the socket; libpq closes its own
  PQfinish(conn_);
}

void PgConnection::fail(std::string_view what) {
  throw PgError(std::string(what) + ": " + connection_error(conn_), "", true);
}

asio::awaitable<std::unique_ptr<PgConnection>> PgConnection::connect(asio::any_io_executor executor,
                                                                     const std::string& conninfo,
                                                                     std::span<const PreparedStatement> statements,
                                                                     std::chrono::milliseconds connect_timeout,
                                                                     const char* session_setup) {
  using namespace asio::experimental::awaitable_operators;
  PGconn* raw = PQconnectStart(conninfo.c_str());
  if (!raw) throw PgError("cannot allocate a PostgreSQL connection", "", true);
  std::unique_ptr<PgConnection> conn(new PgConnection(executor, raw));
  if (PQstatus(raw) == CONNECTION_BAD) conn->fail("cannot connect to PostgreSQL");
  if (PQsetnonblocking(raw, 1) != 0) conn->fail("cannot make the connection non-blocking");

  auto deadline = std::chrono::steady_clock::now() + connect_timeout;
  int fd_seen = -2;
  asio::steady_timer timer(executor);
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  while (state != PGRES_POLLING_OK) {
    if (state == PGRES_POLLING_FAILED) conn->fail("cannot connect to PostgreSQL");
    if (std::chrono::steady_clock::now() >= deadline) throw PgError("timed out connecting to PostgreSQL", "", true);
    if (PQsocket(raw) != fd_seen) {  // libpq may open a new socket (another address, SSL retry)
      fd_seen = PQsocket(raw);
      boost::system::error_code ignored;
      conn->socket_.close(ignored);
      int fd = dup_socket(raw);
      if (fd < 0) conn->fail("no socket");
      conn->socket_.assign(fd);
    }
    // A wait may miss a wake-up that came before it was queued (edge-triggered reactor), so it
    // is capped at 20 ms; polling again early is harmless.
    timer.expires_after(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(20), deadline - std::chrono::steady_clock::now()));
    auto which = state == PGRES_POLLING_READING ? asio::posix::stream_descriptor::wait_read
                                                : asio::posix::stream_descriptor::wait_write;
    co_await (conn->socket_.async_wait(which, asio::experimental::as_tuple(asio::use_awaitable)) ||
              timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable)));
    state = PQconnectPoll(raw);
  }
  if (PQsetnonblocking(raw, 1) != 0) conn->fail("cannot make the connection non-blocking");
  if (PQsocket(raw) != fd_seen) {
    boost::system::error_code ignored;
    conn->socket_.close(ignored);
    conn->socket_.assign(dup_socket(raw));
  }
  if (session_setup) co_await conn->exec(session_setup);
  for (const PreparedStatement& st : statements) {
    if (!PQsendPrepare(raw, st.name, st.sql, static_cast<int>(st.param_types.size()), st.param_types.data()))
      conn->fail("cannot prepare a statement");
    co_await conn->flush();
    co_await conn->collect();
  }
  co_return conn;
}

bool PgConnection::healthy() {
  if (PQstatus(conn_) != CONNECTION_OK || PQtransactionStatus(conn_) != PQTRANS_IDLE) return false;
  // An idle connection has nothing to read. Anything readable (a restarting server's termination
  // notice, its close) means: do not reuse. Costs one poll() system call.
  pollfd p{PQsocket(conn_), POLLIN | POLLRDHUP, 0};
  int n = ::poll(&p, 1, 0);
  return n == 0;
}

asio::awaitable<void> PgConnection::wait(bool for_write) {
  if (for_write) {
    auto [ec] = co_await socket_.async_wait(asio::posix::stream_descriptor::wait_write,
                                            asio::experimental::as_tuple(asio::use_awaitable));
    if (ec) fail("waiting for the socket");
    co_return;
  }
  // Read readiness without a lost wake-up: queue the wait first, then consume what already came;
  // if that was enough, cancel the wait (it completes at once with operation_aborted).
  // operation_aborted is then the normal outcome, not an error: the caller re-checks libpq.
  boost::system::error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  co_await asio::async_initiate<decltype(token), void(boost::system::error_code)>(
      [this](auto handler) {
        // The handler may run on another io thread as soon as the wait is queued; the mutex keeps
        // its libpq calls from overlapping ours. That thread then resumes this coroutine, which
        // returns and frees its frame, and with it this closure: after async_wait, use nothing of
        // the closure (a copy of `this` on the stack only; AddressSanitizer saw the captured
        // pointer read after that free). The connection itself outlives the wait (its caller
        // holds it, and blocks on the mutex until we are done).
        PgConnection* const self = this;
        std::lock_guard lock(self->libpq_mutex_);
        self->socket_.async_wait(asio::posix::stream_descriptor::wait_read, std::move(handler));
        if (!PQconsumeInput(self->conn_) || !PQisBusy(self->conn_)) self->socket_.cancel();
      },
      token);
  if (ec && ec != asio::error::operation_aborted) fail("waiting for the socket");
}

asio::awaitable<void> PgConnection::flush() {
  for (;;) {
    int rc = PQflush(conn_);
    if (rc == 0) co_return;
    if (rc < 0) fail("sending to PostgreSQL");
    co_await wait(true);
  }
}

asio::awaitable<PgResult> PgConnection::collect() {
  PgResult result;
  std::optional<PgError> error;
  for (;;) {
    PGresult* r = nullptr;
    {
      std::lock_guard lock(libpq_mutex_);
      if (!PQconsumeInput(conn_)) fail("reading from PostgreSQL");
      if (!PQisBusy(conn_)) {
        r = PQgetResult(conn_);
        if (!r) break;
      }
    }
    if (!r) {
      co_await wait(false);
      continue;
    }
    ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE || status == PGRES_NONFATAL_ERROR) {
      // Copies: both point into r (AddressSanitizer caught the SQLSTATE read after PQclear).
      const char* field = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      std::string state = field ? field : "";
      std::string message = PQresultErrorMessage(r);
      PQclear(r);
      if (!error) error.emplace(message, state, PQstatus(conn_) != CONNECTION_OK);
      continue;
    }
    result = PgResult(r);
  }
  if (PQstatus(conn_) != CONNECTION_OK) fail("connection to PostgreSQL lost");
  if (error) throw *error;
  co_return result;
}

asio::awaitable<PgResult> PgConnection::query(const char* statement, const PgParams& params) {
  std::vector<const char*> values(params.storage_.size());
  std::vector<int> formats(params.storage_.size(), 1);
  for (size_t i = 0; i < values.size(); ++i) values[i] = params.is_null_[i] ? nullptr : params.storage_[i].data();
  if (!PQsendQueryPrepared(conn_, statement, params.size(), values.data(), params.lengths_.data(), formats.data(),
                           /*resultFormat=*/1))
    fail("sending a query");
  co_await flush();
  co_return co_await collect();
}

asio::awaitable<PgResult> PgConnection::exec(const char* sql) {
  if (!PQsendQueryParams(conn_, sql, 0, nullptr, nullptr, nullptr, nullptr, 1)) fail("sending a query");
  co_await flush();
  co_return co_await collect();
}

}  // namespace parley::store::postgres
