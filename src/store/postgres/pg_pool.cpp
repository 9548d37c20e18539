#include "store/postgres/pg_pool.hpp"

#include <boost/asio/use_awaitable.hpp>

#include <cassert>

namespace asio = boost::asio;

namespace parley::store::postgres {

PgPool::PgPool(asio::any_io_executor executor, std::string conninfo, int size,
               std::span<const PreparedStatement> statements, std::chrono::milliseconds connect_timeout,
               const char* session_setup)
    : executor_(executor),
      conninfo_(std::move(conninfo)),
      size_(size),
      statements_(statements),
      connect_timeout_(connect_timeout),
      session_setup_(session_setup),
      free_(executor, static_cast<size_t>(size)) {
  for (int i = 0; i < size_; ++i) {
    [[maybe_unused]] bool sent = free_.try_send(boost::system::error_code(), nullptr);
    assert(sent);
  }
}

PgPool::~PgPool() {
  // Every lease must be gone; collect the slots and close their connections.
  for (;;) {
    PgConnection* conn = nullptr;
    bool got = false;
    free_.try_receive([&](boost::system::error_code, PgConnection* c) {
      got = true;
      conn = c;
    });
    if (!got) break;
    delete conn;
  }
}

PgPool::Lease::~Lease() {
  if (pool_) pool_->release(std::move(conn_));
}

void PgPool::release(std::unique_ptr<PgConnection> conn) {
  [[maybe_unused]] bool sent = free_.try_send(boost::system::error_code(), conn.release());
  assert(sent);  // the channel holds exactly size_ slots
}

asio::awaitable<PgPool::Lease> PgPool::acquire() {
  PgConnection* raw = co_await free_.async_receive(asio::use_awaitable);
  std::unique_ptr<PgConnection> conn(raw);
  if (conn && !conn->healthy()) conn.reset();  // e.g. the server restarted while it sat idle
  if (!conn) {
    try {
      conn = co_await PgConnection::connect(executor_, conninfo_, statements_, connect_timeout_, session_setup_);
      connects_.fetch_add(1);
    } catch (...) {
      release(nullptr);
      throw;
    }
  }
  co_return Lease(this, std::move(conn));
}

}  // namespace parley::store::postgres
