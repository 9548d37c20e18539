// Server: the HTTP/1.1 server every role uses (Boost.Beast, one coroutine per connection).
//
// A role's command in a few lines:
//
//   parley::net::Router router;
//   router.get("/v1/chats/{id}", get_chat);
//   parley::net::ServerOptions opt;
//   opt.name = "db-api"; opt.host = "0.0.0.0"; opt.port = 8081; opt.threads = 2;
//   opt.body_limit = 512 * 1024;
//   return parley::net::run_server(opt, std::move(router), [&]() -> asio::awaitable<Status> {
//     co_return store.ping();   // /readyz: 200 when ok, 503 JSON error with the message otherwise
//   });                          // returns 0 after SIGTERM/SIGINT and a graceful drain
//
// Or, with a loop shared by several servers and clients:
//
//   EventLoop loop(2);
//   Server server(loop, opt, std::move(router));
//   uint16_t port = server.start();   // binds (port 0 = ephemeral) and accepts
//   loop.start();
//   ...  server.shutdown(); server.wait_drained(); loop.stop();
//
// What every request gets: keep-alive, limits on header bytes and body bytes (413 JSON error),
// timeouts (request head, body, keep-alive idle, writes), X-Request-Id (a sane incoming one is kept,
// otherwise a 128-bit hex one is made; echoed in the response; req.request_id()), an access-log line
// (core/logging.hpp), metrics (parley_http_requests_total and parley_http_request_duration_seconds
// by service, method, route pattern and status; parley_http_connections_open), JSON errors for
// 404/405 (with Allow)/413/400/500, and built-in GET /healthz, /readyz, /metrics unless the router
// has its own. A handler that throws gets a 500 JSON error; the exception is logged with the request
// id, never sent.
//
// Shutdown: stop accepting, close idle keep-alive connections, let requests and streams in flight
// finish (their responses carry Connection: close) for up to drain_timeout, then close the rest.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "net/event_loop.hpp"
#include "net/router.hpp"

namespace parley {
class Metrics;
}

namespace parley::net {

namespace detail {
struct ServerImpl;
}

struct ServerOptions {
  std::string name = "parley";  // service name: the "service" label of metrics, log lines
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: an ephemeral port (see Server::port())
  int threads = 0;    // run_server's loop threads; 0 = hardware concurrency
  size_t header_limit = 16 * 1024;  // request line + headers, bytes
  size_t body_limit = 1024 * 1024;  // request body, bytes
  std::chrono::milliseconds header_timeout = std::chrono::seconds(15);  // to receive a whole request head once it started
  std::chrono::milliseconds body_timeout = std::chrono::seconds(60);    // to receive the whole body
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(75);    // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout = std::chrono::seconds(60);   // per write (a stalled reader)
  std::chrono::milliseconds drain_timeout = std::chrono::seconds(10);   // graceful shutdown budget
  int backlog = 1024;
  size_t max_connections = 20000;  // beyond it new connections are closed at once
  bool builtin_endpoints = true;   // /healthz, /readyz, /metrics
  Metrics* metrics = nullptr;      // nullptr: Metrics::global()
  std::string tls_cert_file;       // PEM; both set: HTTPS
  std::string tls_key_file;
};

// /readyz: ok → 200 {"status":"ready"}; an error → 503 JSON error with its message.
using ReadinessCheck = std::function<boost::asio::awaitable<Status>()>;

class Server {
 public:
  Server(EventLoop& loop, ServerOptions options, Router router);
  ~Server();  // shuts down (without waiting for the drain) and closes everything
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void set_readiness(ReadinessCheck check);

  // Before start() (no effect after): overrides the connection limits from the environment, where set:
  // PARLEY_MAX_CONNECTIONS (count), PARLEY_HEADER_TIMEOUT, PARLEY_BODY_TIMEOUT, PARLEY_IDLE_TIMEOUT,
  // PARLEY_WRITE_TIMEOUT, PARLEY_DRAIN_TIMEOUT (durations: "500ms", "10s", "2m"; bare numbers are
  // seconds). run_until_signal calls it for every server (docs/operations.md, "Limits"). A malformed
  // value throws std::invalid_argument naming the variable.
  void apply_limits_from_environment();

  // Binds, listens and starts accepting. Returns the bound port. Throws std::system_error.
  uint16_t start();
  uint16_t port() const;

  // Graceful shutdown; thread-safe and idempotent.
  void shutdown();
  bool draining() const;
  // Blocks (not on a loop thread!) until every connection ended after shutdown().
  void wait_drained();
  // Number of open connections.
  size_t connection_count() const;

  const ServerOptions& options() const;

 private:
  std::shared_ptr<detail::ServerImpl> impl_;
};

// Runs one server on its own loop until SIGTERM/SIGINT, drains, returns the exit code (0).
int run_server(ServerOptions options, Router router, ReadinessCheck readiness = {});

// Several servers on one loop (e.g. `parley serve`); every server is started here. Returns 0
// after a signal and a graceful drain of all of them. `on_started` runs once they listen.
int run_until_signal(EventLoop& loop, const std::vector<Server*>& servers,
                     const std::function<void()>& on_started = {});

}  // namespace parley::net
