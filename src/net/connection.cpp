#include "net/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

#include <prometheus/gauge.h>
#include <spdlog/spdlog.h>

#include <ctime>

#include "core/ids.hpp"
#include "core/logging.hpp"

namespace parley::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// First read of a request on an idle connection, bytes (the buffer grows for bigger heads).
constexpr size_t kIdleReadBytes = 1024;

// Fills a Request straight from Beast's parser callbacks (no intermediate beast::http::fields).
class RequestParser final : public http::basic_parser<true> {
 public:
  explicit RequestParser(Request& req) : req_(req) {}

 private:
  void on_request_impl(http::verb, beast::string_view method, beast::string_view target, int version,
                       error_code&) override {
    req_.set_method(std::string_view(method.data(), method.size()));
    req_.set_target(std::string_view(target.data(), target.size()));
    req_.set_version(version);
  }
  void on_response_impl(int, beast::string_view, int, error_code& ec) override { ec = http::error::bad_method; }
  void on_field_impl(http::field, beast::string_view name, beast::string_view value, error_code&) override {
    req_.add_header(std::string_view(name.data(), name.size()), std::string_view(value.data(), value.size()));
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(boost::optional<std::uint64_t> const& length, error_code&) override {
    if (length) req_.body().reserve(static_cast<size_t>(*length));
  }
  std::size_t on_body_impl(beast::string_view body, error_code&) override {
    req_.body().append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code&) override {
    req_.body().append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  Request& req_;
};

// "Sun, 06 Nov 1994 08:49:37 GMT", formatted once per second per thread.
std::string_view http_date() {
  thread_local std::time_t cached_second = 0;
  thread_local char buf[40];
  thread_local size_t len = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    len = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  return {buf, len};
}

bool sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

bool header_value_ok(std::string_view v) { return v.find_first_of("\r\n") == std::string_view::npos; }

void append_number(std::string& out, uint64_t v) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) out.push_back(buf[--n]);
}

}  // namespace

Connection::Connection(std::shared_ptr<ServerImpl> server, asio::ip::tcp::socket socket)
    : server_(std::move(server)), stream_(std::move(socket)), watch_done_(stream_.get_executor()) {
  error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string();
  head_.reserve(512);
}

Connection::~Connection() = default;

void Connection::close_if_idle() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->idle_ && !self->closed_) {
      error_code ec;
      self->stream_.socket().close(ec);
    }
  });
}

void Connection::force_close() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->closed_) return;
    error_code ec;
    self->stream_.socket().close(ec);
    self->mark_gone();
  });
}

asio::awaitable<void> Connection::run(std::shared_ptr<Connection> self) {
  try {
    while (co_await self->serve_one()) {
    }
  } catch (const std::exception& e) {
    spdlog::warn("{}: connection from {} ended: {}", self->server_->options.name, self->remote_, e.what());
  }
  self->closed_ = true;
  error_code ec;
  self->stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  self->stream_.socket().close(ec);
  self->server_->unregister_connection(self.get());
}

// Reads and answers one request. Returns whether to keep the connection.
asio::awaitable<bool> Connection::serve_one() {
  const ServerOptions& opt = server_->options;
  req_.clear();
  req_.set_remote_address(remote_);
  head_only_ = stream_started_ = stream_finished_ = gone_ = false;
  stream_status_ = 0;
  bytes_sent_ = 0;
  gone_fn_ = nullptr;

  // Keep-alive wait for the first byte: idle, closable by a graceful shutdown.
  idle_ = true;
  if (buffer_.size() == 0) {
    if (server_->draining.load()) co_return false;
    // An idle connection holds a small buffer only: 10,000 idle keep-alive connections cost
    // ~10 MB of buffers instead of ~80+ MB (what the last request grew it to is freed here).
    if (buffer_.capacity() > kIdleReadBytes) buffer_.shrink_to_fit();
    stream_.expires_after(opt.idle_timeout);
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kIdleReadBytes), kTuple);
    if (ec) co_return false;  // closed by the peer, idle timeout, or shutdown
    buffer_.commit(n);
  }
  idle_ = false;
  t0_ = Clock::now();

  RequestParser parser(req_);
  parser.header_limit(static_cast<std::uint32_t>(opt.header_limit));
  parser.body_limit(opt.body_limit);
  stream_.expires_after(opt.header_timeout);
  {
    auto [ec, n] = co_await http::async_read_header(stream_, buffer_, parser, kTuple);
    if (ec == http::error::header_limit) {
      co_await reject(413, ErrorCode::payload_too_large,
                      "request headers too large (limit " + std::to_string(opt.header_limit) + " bytes)");
      co_return false;
    }
    if (ec == http::error::body_limit) {
      co_await reject(413, ErrorCode::payload_too_large,
                      "request body too large (limit " + std::to_string(opt.body_limit) + " bytes)");
      co_return false;
    }
    // A timeout (beast::error::timeout) has closed the socket already: nothing can be sent.
    if (ec == beast::error::timeout || ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
        ec == asio::error::bad_descriptor)
      co_return false;
    if (ec) {
      co_await reject(400, ErrorCode::invalid_argument, "malformed HTTP request: " + ec.message());
      co_return false;
    }
  }
  req_.set_keep_alive(parser.keep_alive());

  if (!parser.is_done()) {
    if (iequals(req_.header("Expect"), "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(opt.write_timeout);
      auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()), kTuple);
      if (ec) co_return false;
    }
    stream_.expires_after(opt.body_timeout);
    auto [ec, n] = co_await http::async_read(stream_, buffer_, parser, kTuple);
    if (ec == http::error::body_limit) {
      co_await reject(413, ErrorCode::payload_too_large,
                      "request body too large (limit " + std::to_string(opt.body_limit) + " bytes)");
      co_return false;
    }
    if (ec) co_return false;  // timeout (socket closed), reset, malformed chunk...
  }
  stream_.expires_never();

  std::string_view incoming_id = req_.header("X-Request-Id");
  req_.set_request_id(sane_request_id(incoming_id) ? std::string(incoming_id) : log_id());
  head_only_ = req_.method() == Method::head;
  chunked_ = req_.http_version() >= 11;

  const Route* route = nullptr;
  server_->requests_in_flight->Increment();
  Response res = co_await dispatch(route);
  server_->requests_in_flight->Decrement();
  co_await stop_watch();

  bool keep_alive = req_.keep_alive() && !server_->draining.load() && !gone_;
  if (stream_started_) {
    if (!stream_finished_ && !gone_) co_await finish();
    keep_alive = keep_alive && stream_finished_ && chunked_ && !gone_;
    finish_request(route, stream_status_, bytes_sent_);
    co_return keep_alive;
  }
  bool ok = co_await write_response(res, keep_alive);
  finish_request(route, res.status, res.body_view().size());
  co_return ok && keep_alive;
}

asio::awaitable<Response> Connection::dispatch(const Route*& route) {
  req_.set_stream(this);
  Router::Match m = server_->router.match(req_.method(), req_.path(), &req_);
  route = m.route;
  if (route == nullptr) {
    if (m.path_matched()) {
      Response r = Response::error(405, ErrorCode::invalid_argument,
                                   "method " + std::string(req_.method_name()) + " not allowed on this path");
      r.set_header("Allow", Router::allow_header(m.allowed));
      co_return r;
    }
    co_return Response::error(ErrorCode::not_found, "no such route: " + std::string(req_.path()));
  }
  std::string failure;
  try {
    co_return co_await route->handler(req_);
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  spdlog::error("{}: handler {} {} failed: {} request_id={}", server_->options.name, req_.method_name(),
                route->pattern, failure, req_.request_id());
  if (stream_started_) gone_ = true;  // cannot send an error inside a started body: close
  co_return Response::error(ErrorCode::internal, "internal error");
}

void Connection::append_head(int status, std::string_view content_type, const Headers& headers, bool keep_alive) {
  head_.clear();
  head_.append(req_.http_version() >= 11 ? "HTTP/1.1 " : "HTTP/1.0 ");
  append_number(head_, static_cast<uint64_t>(status));
  head_.push_back(' ');
  head_.append(status_reason(status));
  head_.append("\r\nDate: ");
  head_.append(http_date());
  if (!content_type.empty() && header_value_ok(content_type)) {
    head_.append("\r\nContent-Type: ");
    head_.append(content_type);
  }
  head_.append("\r\nX-Request-Id: ");
  head_.append(req_.request_id());
  for (const auto& h : headers) {
    if (!header_value_ok(h.name) || !header_value_ok(h.value) || h.name.empty()) continue;
    head_.append("\r\n");
    head_.append(h.name);
    head_.append(": ");
    head_.append(h.value);
  }
  if (!keep_alive) {
    head_.append("\r\nConnection: close");
  } else if (req_.http_version() < 11) {
    head_.append("\r\nConnection: keep-alive");
  }
}

asio::awaitable<bool> Connection::write_response(const Response& res, bool keep_alive) {
  append_head(res.status, res.content_type, res.headers, keep_alive);
  bool no_body = res.status == 204 || res.status == 304 || res.status < 200;
  const std::string_view body = res.body_view();
  if (!no_body) {
    head_.append("\r\nContent-Length: ");
    append_number(head_, body.size());
  }
  head_.append("\r\n\r\n");
  stream_.expires_after(server_->options.write_timeout);
  error_code ec;
  if (head_only_ || no_body || body.empty()) {
    std::tie(ec, std::ignore) = co_await asio::async_write(stream_, asio::buffer(head_), kTuple);
  } else {
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head_), asio::buffer(body.data(), body.size())};
    std::tie(ec, std::ignore) = co_await asio::async_write(stream_, bufs, kTuple);
  }
  stream_.expires_never();
  co_return !ec;
}

asio::awaitable<void> Connection::reject(int status, ErrorCode code, std::string_view message) {
  if (req_.request_id().empty()) {
    std::string_view incoming = req_.header("X-Request-Id");
    req_.set_request_id(sane_request_id(incoming) ? std::string(incoming) : log_id());
  }
  Response res = Response::error(status, code, message);
  co_await write_response(res, false);
  finish_request(nullptr, status, res.body.size());
  co_await linger_close();
}

// After an error response the client may still be sending (a big body): stop sending, read and
// drop what comes for a moment, so the response is not lost to a TCP reset.
asio::awaitable<void> Connection::linger_close() {
  error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  stream_.expires_after(std::chrono::milliseconds(500));
  size_t drained = 0;
  while (drained < (16u << 20)) {  // at most 16 MiB within the 500 ms
    buffer_.consume(buffer_.size());
    auto [rec, n] = co_await stream_.async_read_some(buffer_.prepare(16384), kTuple);
    if (rec) break;
    drained += n;
  }
  buffer_.consume(buffer_.size());
}

void Connection::finish_request(const Route* route, int status, uint64_t bytes) {
  auto elapsed = Clock::now() - t0_;
  double seconds = std::chrono::duration<double>(elapsed).count();
  server_->record(server_->stats_for(route), req_.method(), status, seconds);
  if (access_log_enabled()) {
    log_access({.method = req_.method_name(),
                .path = req_.path(),
                .status = status,
                .duration_us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count(),
                .request_id = req_.request_id(),
                .remote = remote_,
                .bytes = bytes});
  }
}

// ---- ResponseStream ----

asio::awaitable<bool> Connection::begin(int status, std::string_view content_type, const Headers& headers) {
  if (stream_started_) throw std::logic_error("ResponseStream::begin called twice");
  if (gone_) co_return false;
  stream_started_ = true;
  stream_status_ = status;
  append_head(status, content_type, headers, chunked_);
  if (chunked_) head_.append("\r\nTransfer-Encoding: chunked");
  head_.append("\r\n\r\n");
  start_watch();
  stream_.expires_after(server_->options.write_timeout);
  auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(head_), kTuple);
  stream_.expires_never();
  if (ec) {
    mark_gone();
    co_return false;
  }
  if (head_only_) stream_finished_ = true;
  co_return true;
}

asio::awaitable<bool> Connection::write(std::string_view data) {
  if (!stream_started_) throw std::logic_error("ResponseStream::write before begin");
  if (gone_) co_return false;
  if (stream_finished_) co_return head_only_;  // HEAD: the body is dropped
  if (data.empty()) co_return true;
  char size_line[20];
  int len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
  std::array<asio::const_buffer, 3> bufs{asio::buffer(size_line, static_cast<size_t>(len)),
                                         asio::buffer(data.data(), data.size()), asio::buffer("\r\n", 2)};
  stream_.expires_after(server_->options.write_timeout);
  error_code ec;
  if (chunked_) {
    std::tie(ec, std::ignore) = co_await asio::async_write(stream_, bufs, kTuple);
  } else {
    std::tie(ec, std::ignore) = co_await asio::async_write(stream_, asio::buffer(data.data(), data.size()), kTuple);
  }
  stream_.expires_never();
  if (ec) {
    mark_gone();
    co_return false;
  }
  bytes_sent_ += data.size();
  co_return true;
}

asio::awaitable<bool> Connection::finish() {
  if (!stream_started_ || stream_finished_) co_return !gone_;
  if (gone_) co_return false;
  stream_finished_ = true;
  if (!chunked_) co_return true;  // HTTP/1.0: the end of the body is the close
  static constexpr std::string_view kLast = "0\r\n\r\n";
  stream_.expires_after(server_->options.write_timeout);
  auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(kLast.data(), kLast.size()), kTuple);
  stream_.expires_never();
  if (ec) {
    mark_gone();
    co_return false;
  }
  co_return true;
}

void Connection::on_client_gone(std::function<void()> fn) {
  if (gone_) {
    if (fn) fn();
    return;
  }
  gone_fn_ = std::move(fn);
  start_watch();
}

void Connection::mark_gone() {
  if (gone_) return;
  gone_ = true;
  if (auto fn = std::move(gone_fn_)) {
    gone_fn_ = nullptr;
    try {
      fn();
    } catch (const std::exception& e) {
      spdlog::error("{}: client-gone callback threw: {}", server_->options.name, e.what());
    }
  }
}

void Connection::start_watch() {
  if (watching_ || gone_ || closed_) return;
  watching_ = true;
  stop_watching_ = false;
  watch_done_.expires_at(asio::steady_timer::time_point::max());
  asio::co_spawn(stream_.get_executor(), watch(), asio::detached);
}

// Reads the socket while the handler runs: EOF or an error means the client is gone. Bytes that
// arrive (a pipelined next request) stay in buffer_ for the request loop.
asio::awaitable<void> Connection::watch() {
  auto self = shared_from_this();
  while (!stop_watching_ && buffer_.size() < 65536) {
    auto [ec, n] = co_await stream_.socket().async_read_some(
        buffer_.prepare(4096), asio::bind_cancellation_slot(watch_cancel_.slot(), kTuple));
    if (stop_watching_) {
      if (!ec) buffer_.commit(n);
      break;
    }
    if (ec) {
      mark_gone();
      break;
    }
    buffer_.commit(n);
  }
  watching_ = false;
  watch_done_.cancel();
}

asio::awaitable<void> Connection::stop_watch() {
  if (!watching_) co_return;
  stop_watching_ = true;
  watch_cancel_.emit(asio::cancellation_type::terminal);
  if (watching_) co_await watch_done_.async_wait(kTuple);
}

}  // namespace parley::net::detail
