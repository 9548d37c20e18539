#include "net/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <future>

#include "core/config.hpp"
#include "core/logging.hpp"
#include "core/metrics.hpp"
#include "core/signals.hpp"
#include "net/connection.hpp"

namespace parley::net {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace detail {

ServerImpl::ServerImpl(EventLoop& l, ServerOptions o, Router r)
    : loop(l),
      options(std::move(o)),
      router(std::move(r)),
      metrics(options.metrics ? options.metrics : &Metrics::global()),
      strand(asio::make_strand(l.context())),
      acceptor(strand),
      drain_timer(strand) {
  connections_open = &metrics->gauge("parley_http_connections_open", "Open HTTP connections",
                                     {{"service", options.name}});
  requests_in_flight = &metrics->gauge("parley_http_requests_in_flight", "HTTP requests being handled",
                                       {{"service", options.name}});
}

void ServerImpl::add_builtin_routes() {
  if (!options.builtin_endpoints) return;
  if (!router.has(Method::get, "/healthz")) {
    router.get("/healthz", [](Request&) -> asio::awaitable<Response> {
      co_return Response::json(200, R"({"status":"ok"})");
    });
  }
  if (!router.has(Method::get, "/readyz")) {
    router.get("/readyz", [this](Request&) -> asio::awaitable<Response> {
      if (draining.load()) co_return Response::error(ErrorCode::unavailable, "shutting down");
      if (readiness) {
        std::string failure;
        try {
          Status s = co_await readiness();
          if (!s.ok()) co_return Response::error(ErrorCode::unavailable, s.error().message);
        } catch (const std::exception& e) {
          failure = e.what();
        }
        if (!failure.empty()) {
          spdlog::warn("{}: readiness check threw: {}", options.name, failure);
          co_return Response::error(ErrorCode::unavailable, "not ready");
        }
      }
      if (draining.load()) co_return Response::error(ErrorCode::unavailable, "shutting down");
      co_return Response::json(200, R"({"status":"ready"})");
    });
  }
  if (!router.has(Method::get, "/metrics")) {
    router.get("/metrics", [this](Request&) -> asio::awaitable<Response> {
      co_return Response::text(200, metrics->render(), "text/plain; version=0.0.4; charset=utf-8");
    });
  }
}

void ServerImpl::record(RouteStats& stats, Method method, int status, double seconds) {
  int key = status + 1000 * (static_cast<int>(method) + 1);
  RouteStats::Series* series = nullptr;
  for (int i = 0; i < RouteStats::kSlots; ++i) {
    int k = stats.keys[i].load(std::memory_order_acquire);
    if (k == key) {
      series = &stats.series[i];
      break;
    }
    if (k == 0) break;
  }
  if (series == nullptr) {
    std::lock_guard lock(stats.mu);
    int i = 0;
    while (i < RouteStats::kSlots) {
      int k = stats.keys[i].load(std::memory_order_relaxed);
      if (k == key || k == 0) break;
      ++i;
    }
    if (i == RouteStats::kSlots) {
      i = RouteStats::kSlots - 1;  // table full (many distinct statuses): count with the last series
    } else if (stats.keys[i].load(std::memory_order_relaxed) == 0) {
      Metrics::Labels labels{{"service", options.name},
                             {"method", std::string(method_name(method))},
                             {"route", stats.route},
                             {"status", std::to_string(status)}};
      stats.series[i].count = &metrics->counter("parley_http_requests_total", "HTTP requests answered", labels);
      stats.series[i].latency = &metrics->histogram("parley_http_request_duration_seconds",
                                                    "HTTP request duration from the request head to the last "
                                                    "byte of the response",
                                                    Metrics::latency_buckets(), labels);
      stats.keys[i].store(key, std::memory_order_release);
    }
    series = &stats.series[i];
  }
  series->count->Increment();
  series->latency->Observe(seconds);
}

void ServerImpl::register_connection(const std::shared_ptr<Connection>& c) {
  std::lock_guard lock(conns_mu);
  connections.push_front(c);
  c->registry_pos = connections.begin();
  connection_count.fetch_add(1);
  connections_open->Increment();
}

void ServerImpl::unregister_connection(Connection* c) {
  {
    std::lock_guard lock(conns_mu);
    connections.erase(c->registry_pos);
    connection_count.fetch_sub(1);
    connections_open->Decrement();
  }
  if (draining.load()) check_drained();
}

void ServerImpl::check_drained() {
  std::lock_guard lock(conns_mu);
  if (connections.empty() && accept_loop_done) {
    drained_cv.notify_all();
    asio::post(strand, [self = shared_from_this()] { self->drain_timer.cancel(); });
  }
}

asio::awaitable<void> ServerImpl::accept_loop() {
  auto self = shared_from_this();
  for (;;) {
    // Each context is run by one thread (EventLoop), which serializes a connection's handlers by
    // itself: no strand needed.
    auto [ec, socket] = co_await acceptor.async_accept(loop.next_context(), asio::as_tuple(asio::use_awaitable));
    if (draining.load() || !acceptor.is_open()) break;
    if (ec) {
      if (ec == asio::error::operation_aborted) break;
      spdlog::warn("{}: accept failed: {}", options.name, ec.message());
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
        asio::steady_timer pause(strand, std::chrono::milliseconds(50));
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      continue;
    }
    if (connection_count.load() >= options.max_connections) {
      error_code ignore;
      socket.close(ignore);
      continue;
    }
    error_code ignore;
    socket.set_option(tcp::no_delay(true), ignore);
    auto executor = socket.get_executor();
    auto conn = std::make_shared<Connection>(self, std::move(socket));
    register_connection(conn);
    asio::co_spawn(executor, Connection::run(conn), asio::detached);
  }
  {
    std::lock_guard lock(conns_mu);
    accept_loop_done = true;
  }
  check_drained();
}

void ServerImpl::begin_shutdown() {
  if (draining.exchange(true)) return;
  spdlog::info("{}: shutting down: draining {} connection(s), up to {} ms", options.name, connection_count.load(),
               options.drain_timeout.count());
  asio::dispatch(strand, [self = shared_from_this()] {
    error_code ec;
    self->acceptor.close(ec);
    self->drain_timer.expires_after(self->options.drain_timeout);
    self->drain_timer.async_wait([self](error_code ec2) {
      if (!ec2) self->force_close_all();
    });
  });
  std::lock_guard lock(conns_mu);
  for (auto& weak : connections)
    if (auto c = weak.lock()) c->close_if_idle();
}

void ServerImpl::force_close_all() {
  std::lock_guard lock(conns_mu);
  if (!connections.empty())
    spdlog::warn("{}: drain timeout: closing {} connection(s)", options.name, connections.size());
  for (auto& weak : connections)
    if (auto c = weak.lock()) c->force_close();
}

}  // namespace detail

Server::Server(EventLoop& loop, ServerOptions options, Router router)
    : impl_(std::make_shared<detail::ServerImpl>(loop, std::move(options), std::move(router))) {}

Server::~Server() {
  if (impl_->started) {
    impl_->begin_shutdown();
    impl_->force_close_all();
  }
}

void Server::set_readiness(ReadinessCheck check) { impl_->readiness = std::move(check); }

void Server::apply_limits_from_environment() {
  ServerOptions& o = impl_->options;
  if (impl_->started) return;  // a running server keeps its limits
  int64_t max_connections = env_int("PARLEY_MAX_CONNECTIONS", static_cast<int64_t>(o.max_connections));
  if (max_connections < 1) throw std::invalid_argument("PARLEY_MAX_CONNECTIONS must be at least 1");
  o.max_connections = static_cast<size_t>(max_connections);
  o.header_timeout = env_duration("PARLEY_HEADER_TIMEOUT", o.header_timeout);
  o.body_timeout = env_duration("PARLEY_BODY_TIMEOUT", o.body_timeout);
  o.idle_timeout = env_duration("PARLEY_IDLE_TIMEOUT", o.idle_timeout);
  o.write_timeout = env_duration("PARLEY_WRITE_TIMEOUT", o.write_timeout);
  o.drain_timeout = env_duration("PARLEY_DRAIN_TIMEOUT", o.drain_timeout);
}

uint16_t Server::start() {
  auto& s = *impl_;
  if (s.started) return s.bound_port;
  if (!s.options.tls_cert_file.empty() || !s.options.tls_key_file.empty())
    throw std::runtime_error("TLS termination is not implemented in this server yet; use a TLS proxy");
  s.add_builtin_routes();
  for (const auto& r : s.router.routes()) {
    auto stats = std::make_unique<detail::RouteStats>();
    stats->route = r->pattern;
    s.route_stats.push_back(std::move(stats));
  }
  s.unmatched_stats = std::make_unique<detail::RouteStats>();
  s.unmatched_stats->route = "unmatched";

  tcp::endpoint ep(asio::ip::make_address(s.options.host), s.options.port);
  s.acceptor.open(ep.protocol());
  s.acceptor.set_option(asio::socket_base::reuse_address(true));
  s.acceptor.bind(ep);
  s.acceptor.listen(s.options.backlog);
  s.bound_port = s.acceptor.local_endpoint().port();
  s.started = true;
  s.accept_loop_done = false;
  asio::co_spawn(s.strand, s.accept_loop(), asio::detached);
  spdlog::info("{}: listening on http://{}:{}", s.options.name, s.options.host, s.bound_port);
  return s.bound_port;
}

uint16_t Server::port() const { return impl_->bound_port; }
void Server::shutdown() { impl_->begin_shutdown(); }
bool Server::draining() const { return impl_->draining.load(); }
size_t Server::connection_count() const { return impl_->connection_count.load(); }
const ServerOptions& Server::options() const { return impl_->options; }

void Server::wait_drained() {
  auto& s = *impl_;
  std::unique_lock lock(s.conns_mu);
  s.drained_cv.wait(lock, [&] { return s.connections.empty() && s.accept_loop_done; });
}

namespace {
// Every connection is a descriptor: lift the soft limit to the hard one (often 1024 -> 1M).
void raise_descriptor_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= lim.rlim_max) return;
  rlim_t before = lim.rlim_cur;
  lim.rlim_cur = lim.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &lim) == 0)
    spdlog::debug("open file limit raised from {} to {}", static_cast<uint64_t>(before),
                  static_cast<uint64_t>(lim.rlim_cur));
}
}  // namespace

int run_until_signal(EventLoop& loop, const std::vector<Server*>& servers, const std::function<void()>& on_started) {
  raise_descriptor_limit();
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  ShutdownSignals signals([&](int signo) {
    spdlog::info("received signal {}: shutting down", signo);
    std::lock_guard lock(mu);
    stop = true;
    cv.notify_all();
  });
  for (Server* s : servers) {
    s->apply_limits_from_environment();
    s->start();
  }
  loop.start();
  if (on_started) on_started();
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return stop; });
  }
  for (Server* s : servers) s->shutdown();
  for (Server* s : servers) s->wait_drained();
  loop.stop();
  spdlog::info("stopped");
  flush_logs();
  return 0;
}

int run_server(ServerOptions options, Router router, ReadinessCheck readiness) {
  EventLoop loop(options.threads);
  Server server(loop, std::move(options), std::move(router));
  if (readiness) server.set_readiness(std::move(readiness));
  return run_until_signal(loop, {&server});
}

}  // namespace parley::net
