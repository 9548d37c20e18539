// Internal to the server (server.cpp, connection.cpp): the shared state behind net::Server.
// Includes Asio; do not include from public headers.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/server.hpp"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace parley::net::detail {

class Connection;

// Per-route request counter and latency histogram, one series per status seen. Lookups are
// lock-free scans of a small table; a new status takes a mutex once.
struct RouteStats {
  static constexpr int kSlots = 24;
  struct Series {
    prometheus::Counter* count = nullptr;
    prometheus::Histogram* latency = nullptr;
  };
  std::string route;  // pattern, or "unmatched"
  std::array<std::atomic<int>, kSlots> keys{};
  std::array<Series, kSlots> series{};
  std::mutex mu;
};

struct ServerImpl : std::enable_shared_from_this<ServerImpl> {
  ServerImpl(EventLoop& loop, ServerOptions options, Router router);

  void record(RouteStats& stats, Method method, int status, double seconds);
  RouteStats& stats_for(const Route* route) { return route ? *route_stats[route->index] : *unmatched_stats; }

  void add_builtin_routes();
  void register_connection(const std::shared_ptr<Connection>& c);
  void unregister_connection(Connection* c);
  void begin_shutdown();
  void force_close_all();
  void check_drained();

  boost::asio::awaitable<void> accept_loop();

  EventLoop& loop;
  ServerOptions options;
  Router router;
  ReadinessCheck readiness;
  Metrics* metrics = nullptr;

  boost::asio::strand<boost::asio::io_context::executor_type> strand;  // acceptor and drain timer
  boost::asio::ip::tcp::acceptor acceptor;
  boost::asio::steady_timer drain_timer;
  uint16_t bound_port = 0;
  bool started = false;

  std::atomic<bool> draining{false};
  std::atomic<bool> accepting{false};
  std::atomic<size_t> connection_count{0};

  std::mutex conns_mu;
  std::list<std::weak_ptr<Connection>> connections;
  std::condition_variable drained_cv;
  bool accept_loop_done = true;

  std::vector<std::unique_ptr<RouteStats>> route_stats;
  std::unique_ptr<RouteStats> unmatched_stats;
  prometheus::Gauge* connections_open = nullptr;
  prometheus::Gauge* requests_in_flight = nullptr;
};

}  // namespace parley::net::detail
