// Internal to the server: one accepted connection, its request loop, and the ResponseStream the
// handler of its current request may use. Runs entirely on its own strand.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "net/request.hpp"
#include "net/response.hpp"
#include "net/response_stream.hpp"
#include "net/server_impl.hpp"

namespace parley::net::detail {

class Connection final : public ResponseStream, public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<ServerImpl> server, boost::asio::ip::tcp::socket socket);
  ~Connection() override;

  // Serves the connection until it closes. Takes the connection as an argument so that it is
  // kept alive from co_spawn on: the coroutine may start later, on another thread's io_context.
  static boost::asio::awaitable<void> run(std::shared_ptr<Connection> self);

  // From any thread: close now if waiting for a request (graceful shutdown).
  void close_if_idle();
  // From any thread: close whatever the state (end of the drain).
  void force_close();

  std::list<std::weak_ptr<Connection>>::iterator registry_pos;

  // ResponseStream
  boost::asio::awaitable<bool> begin(int status, std::string_view content_type, const Headers& headers) override;
  boost::asio::awaitable<bool> write(std::string_view data) override;
  boost::asio::awaitable<bool> finish() override;
  bool started() const override { return stream_started_; }
  bool client_gone() const override { return gone_; }
  void on_client_gone(std::function<void()> fn) override;

 private:
  using Clock = std::chrono::steady_clock;

  boost::asio::awaitable<bool> serve_one();
  boost::asio::awaitable<Response> dispatch(const Route*& route);
  boost::asio::awaitable<bool> write_response(const Response& res, bool keep_alive);
  boost::asio::awaitable<void> reject(int status, ErrorCode code, std::string_view message);
  boost::asio::awaitable<void> linger_close();
  void append_head(int status, std::string_view content_type, const Headers& headers, bool keep_alive);
  void finish_request(const Route* route, int status, uint64_t bytes);
  void mark_gone();
  void start_watch();
  boost::asio::awaitable<void> watch();
  boost::asio::awaitable<void> stop_watch();

  std::shared_ptr<ServerImpl> server_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  Request req_;
  std::string head_;  // response head, reused
  std::string remote_;
  bool idle_ = true;
  bool closed_ = false;
  Clock::time_point t0_;

  // Current response.
  bool head_only_ = false;
  bool stream_started_ = false;
  bool stream_finished_ = false;
  bool chunked_ = true;
  bool gone_ = false;
  int stream_status_ = 0;
  uint64_t bytes_sent_ = 0;
  std::function<void()> gone_fn_;

  // Disconnect watcher (reads the socket while a handler runs).
  bool watching_ = false;
  bool stop_watching_ = false;
  boost::asio::cancellation_signal watch_cancel_;
  boost::asio::steady_timer watch_done_;
};

}  // namespace parley::net::detail
