// A fixed number of connection slots shared by every coroutine of a process. A slot holds a live
// connection or is empty (connected on demand: after start-up, after a failure, after the server
// restarted). Waiting for a slot never blocks a thread: the free slots sit in a concurrent channel,
// so a request beyond pool size simply waits in line (FIFO).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "store/postgres/pg_connection.hpp"

namespace parley::store::postgres {

class PgPool {
 public:
  PgPool(boost::asio::any_io_executor executor, std::string conninfo, int size,
         std::span<const PreparedStatement> statements, std::chrono::milliseconds connect_timeout,
         const char* session_setup = nullptr);  // run on each new connection (PgConnection::connect)
  ~PgPool();

  // A connection for the duration of one operation; back to the pool when it dies, unless
  // discard() was called (a broken connection, or one left mid-transaction).
  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<PgConnection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    PgConnection& operator*() { return *conn_; }
    PgConnection* operator->() { return conn_.get(); }
    void discard() { conn_.reset(); }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  // Waits for a slot, then reuses its connection or connects. Throws PgError (broken) when the
  // server cannot be reached; the slot goes back to the pool either way.
  boost::asio::awaitable<Lease> acquire();

  int size() const { return size_; }
  int64_t connects() const { return connects_.load(); }  // connections opened so far

 private:
  void release(std::unique_ptr<PgConnection> conn);

  using Channel = boost::asio::experimental::concurrent_channel<void(boost::system::error_code, PgConnection*)>;
  boost::asio::any_io_executor executor_;
  std::string conninfo_;
  int size_;
  std::span<const PreparedStatement> statements_;
  std::chrono::milliseconds connect_timeout_;
  const char* session_setup_;
  Channel free_;  // nullptr = empty slot
  std::atomic<int64_t> connects_{0};
};

}  // namespace parley::store::postgres
