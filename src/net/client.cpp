#include "net/client.hpp"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/url/parse.hpp>

#include <atomic>
#include <mutex>
#include <unordered_map>

namespace parley::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
using Strand = asio::strand<asio::io_context::executor_type>;

struct Target {
  std::string host;
  uint16_t port = 80;
  std::string target;  // path?query
  std::string key;     // host:port, the pool key
};

Target parse_target(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw ClientError(ClientError::Kind::bad_url, "invalid URL: " + url);
  const auto& u = *parsed;
  if (u.scheme() != "http") throw ClientError(ClientError::Kind::bad_url, "only http:// URLs are supported: " + url);
  Target t;
  t.host = std::string(u.encoded_host());
  if (t.host.size() >= 2 && t.host.front() == '[') t.host = t.host.substr(1, t.host.size() - 2);
  if (t.host.empty()) throw ClientError(ClientError::Kind::bad_url, "URL has no host: " + url);
  t.port = u.has_port() ? u.port_number() : 80;
  if (u.has_port() && u.port_number() == 0) throw ClientError(ClientError::Kind::bad_url, "bad port in " + url);
  t.target = std::string(u.encoded_path());
  if (t.target.empty()) t.target = "/";
  if (u.has_query()) {
    t.target.push_back('?');
    t.target.append(u.encoded_query());
  }
  t.key = t.host + ":" + std::to_string(t.port);
  return t;
}

// Collects the status, headers and body of a response from Beast's parser callbacks.
class ResponseParser final : public http::basic_parser<false> {
 public:
  int status = 0;
  Headers headers;
  std::string body;  // the body received and not yet handed out

 private:
  void on_request_impl(http::verb, beast::string_view, beast::string_view, int, error_code& ec) override {
    ec = http::error::bad_method;
  }
  void on_response_impl(int code, beast::string_view, int, error_code&) override { status = code; }
  void on_field_impl(http::field, beast::string_view name, beast::string_view value, error_code&) override {
    headers.push_back({std::string(name.data(), name.size()), std::string(value.data(), value.size())});
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(boost::optional<std::uint64_t> const& length, error_code&) override {
    if (length && *length < (1u << 26)) body.reserve(static_cast<size_t>(*length));
  }
  std::size_t on_body_impl(beast::string_view s, error_code&) override {
    body.append(s.data(), s.size());
    return s.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view s, error_code&) override {
    body.append(s.data(), s.size());
    return s.size();
  }
  void on_finish_impl(error_code&) override {}
};

}  // namespace

// One pooled connection. All its I/O runs on its own strand.
struct ClientConnection {
  explicit ClientConnection(asio::io_context& io) : strand(asio::make_strand(io)), stream(strand) {}
  Strand strand;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};
  bool connected = false;
  bool reusable = true;  // false once a request on it was cut short (answered before fully sent)
};

struct HttpClient::Impl : std::enable_shared_from_this<HttpClient::Impl> {
  Impl(EventLoop& l, ClientOptions o) : loop(l), options(std::move(o)) {}

  EventLoop& loop;
  ClientOptions options;
  mutable std::mutex mu;
  std::unordered_map<std::string, std::vector<std::shared_ptr<ClientConnection>>> idle;
  std::atomic<uint64_t> opened{0};

  std::shared_ptr<ClientConnection> acquire(const std::string& key);
  void release(const std::string& key, std::shared_ptr<ClientConnection> c);

  // Outcome of one attempt: a response head (parser), or an error and whether a retry is safe.
  struct Attempt {
    error_code ec;
    bool before_response = true;  // nothing of a response was received
    const char* stage = "";
  };
  asio::awaitable<Attempt> attempt(ClientConnection& c, const Target& t, const std::string& head,
                                   const std::string& body, ResponseParser& parser, bool full_body,
                                   std::chrono::milliseconds read_timeout);

  struct Exchange {
    std::shared_ptr<ClientConnection> conn;
    std::unique_ptr<ResponseParser> parser;
    Target target;
  };
  asio::awaitable<Exchange> exchange(const ClientRequest& r, bool full_body);
};

namespace {

// True when an idle pooled socket is still usable: nothing to read and no pending close.
bool idle_socket_alive(tcp::socket& s) {
  char b;
  ssize_t n = ::recv(s.native_handle(), &b, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

ClientError to_client_error(const error_code& ec, const char* stage, const std::string& key, bool cancelled) {
  using K = ClientError::Kind;
  std::string where = std::string(stage) + " " + key + ": " + ec.message();
  if (cancelled) return ClientError(K::cancelled, "cancelled: " + where);
  if (ec == beast::error::timeout) return ClientError(K::timeout, "timeout: " + where);
  if (ec == http::error::body_limit || ec == http::error::header_limit)
    return ClientError(K::too_large, "response too large: " + where);
  if (ec.category() == error_code(http::error::end_of_stream).category() && ec != http::error::end_of_stream &&
      ec != http::error::partial_message)
    return ClientError(K::protocol, "malformed response: " + where);
  if (std::string_view(stage) == "connect" || std::string_view(stage) == "resolve")
    return ClientError(K::connect, "cannot connect: " + where);
  return ClientError(K::closed, "connection failed: " + where);
}

std::string build_head(const ClientRequest& r, const Target& t, const ClientOptions& o) {
  std::string head;
  head.reserve(256);
  head.append(method_name(r.method)).push_back(' ');
  head.append(t.target).append(" HTTP/1.1\r\n");
  bool has_host = false, has_ua = false;
  for (const auto& h : r.headers) {
    if (h.name.find_first_of("\r\n") != std::string::npos || h.value.find_first_of("\r\n") != std::string::npos)
      continue;
    if (iequals(h.name, "Content-Length") || iequals(h.name, "Transfer-Encoding")) continue;
    has_host = has_host || iequals(h.name, "Host");
    has_ua = has_ua || iequals(h.name, "User-Agent");
    head.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  if (!has_host) head.append("Host: ").append(t.key).append("\r\n");
  if (!has_ua && !o.user_agent.empty()) head.append("User-Agent: ").append(o.user_agent).append("\r\n");
  if (!r.content_type.empty()) head.append("Content-Type: ").append(r.content_type).append("\r\n");
  bool body_method = r.method == Method::post || r.method == Method::put || r.method == Method::patch;
  if (!r.body.empty() || body_method) head.append("Content-Length: ").append(std::to_string(r.body.size())).append("\r\n");
  head.append("\r\n");
  return head;
}

}  // namespace

std::shared_ptr<ClientConnection> HttpClient::Impl::acquire(const std::string& key) {
  std::vector<std::shared_ptr<ClientConnection>> stale;
  std::shared_ptr<ClientConnection> found;
  {
    std::lock_guard lock(mu);
    auto it = idle.find(key);
    if (it == idle.end()) return nullptr;
    auto& list = it->second;
    auto now = Clock::now();
    while (!list.empty()) {
      auto c = std::move(list.back());  // most recently used first
      list.pop_back();
      if (now - c->idle_since < options.idle_ttl && idle_socket_alive(c->stream.socket())) {
        found = std::move(c);
        break;
      }
      stale.push_back(std::move(c));
    }
  }
  for (auto& c : stale) {
    error_code ec;
    c->stream.socket().close(ec);
  }
  return found;
}

void HttpClient::Impl::release(const std::string& key, std::shared_ptr<ClientConnection> c) {
  c->idle_since = Clock::now();
  c->stream.expires_never();
  if (!c->reusable) {
    error_code ec;
    c->stream.socket().close(ec);
    return;
  }
  std::lock_guard lock(mu);
  auto& list = idle[key];
  if (list.size() >= options.max_idle_per_host) {
    error_code ec;
    c->stream.socket().close(ec);
    return;
  }
  list.push_back(std::move(c));
}

asio::awaitable<HttpClient::Impl::Attempt> HttpClient::Impl::attempt(ClientConnection& c, const Target& t,
                                                                     const std::string& head,
                                                                     const std::string& body, ResponseParser& parser,
                                                                     bool full_body,
                                                                     std::chrono::milliseconds read_timeout) {
  Attempt a;
  if (!c.connected) {
    tcp::resolver resolver(c.strand);
    c.stream.expires_after(options.connect_timeout);
    auto [rec, results] = co_await resolver.async_resolve(t.host, std::to_string(t.port), kTuple);
    if (rec) {
      a.ec = rec;
      a.stage = "resolve";
      co_return a;
    }
    auto [cec, ep] = co_await c.stream.async_connect(results, kTuple);
    if (cec) {
      a.ec = cec;
      a.stage = "connect";
      co_return a;
    }
    error_code ignore;
    c.stream.socket().set_option(tcp::no_delay(true), ignore);
    c.connected = true;
    opened.fetch_add(1);
  }
  c.stream.expires_after(options.write_timeout);
  error_code wec;
  if (body.empty()) {
    std::tie(wec, std::ignore) = co_await asio::async_write(c.stream, asio::buffer(head), kTuple);
  } else {
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head), asio::buffer(body)};
    std::tie(wec, std::ignore) = co_await asio::async_write(c.stream, bufs, kTuple);
  }
  // A server may answer early (413 to a body over its limit) and close while the body is still
  // being written: the write fails, but the answer may be waiting. Read it before giving up.
  bool answered_early = wec == asio::error::broken_pipe || wec == asio::error::connection_reset;
  if (answered_early) c.reusable = false;
  if (wec && !answered_early) {
    a.ec = wec;
    a.stage = "write";
    co_return a;
  }
  c.stream.expires_after(answered_early ? std::chrono::milliseconds(1000) : read_timeout);
  auto [hec, hn] = co_await http::async_read_header(c.stream, c.buffer, parser, kTuple);
  if (hec && answered_early) {
    a.ec = wec;
    a.stage = "write";
    co_return a;
  }
  if (hec) {
    a.ec = hec;
    a.stage = "read";
    a.before_response = !parser.got_some();
    co_return a;
  }
  a.before_response = false;
  if (full_body && !parser.is_done()) {
    auto [bec, bn] = co_await http::async_read(c.stream, c.buffer, parser, kTuple);
    if (bec) {
      a.ec = bec;
      a.stage = "read body";
      co_return a;
    }
  }
  c.stream.expires_never();
  co_return a;
}

asio::awaitable<HttpClient::Impl::Exchange> HttpClient::Impl::exchange(const ClientRequest& r, bool full_body) {
  auto self = shared_from_this();
  Exchange ex;
  ex.target = parse_target(r.url);
  std::string head = build_head(r, ex.target, options);
  bool retryable = r.idempotent || is_idempotent(r.method);
  auto read_timeout = r.read_timeout.value_or(options.read_timeout);
  bool fresh_only = false;
  for (int attempt_no = 0;; ++attempt_no) {
    auto conn = fresh_only ? nullptr : acquire(ex.target.key);
    bool reused = conn != nullptr;
    if (!conn) conn = std::make_shared<ClientConnection>(loop.next_context());
    auto parser = std::make_unique<ResponseParser>();
    parser->header_limit(static_cast<std::uint32_t>(options.max_response_header));
    if (full_body) {
      parser->body_limit(options.max_response_body);
    } else {
      parser->body_limit(boost::none);
    }
    if (r.method == Method::head) parser->skip(true);
    Attempt a = co_await asio::co_spawn(
        conn->strand, attempt(*conn, ex.target, head, r.body, *parser, full_body, read_timeout), asio::use_awaitable);
    if (!a.ec) {
      ex.conn = std::move(conn);
      ex.parser = std::move(parser);
      co_return ex;
    }
    error_code ignore;
    conn->stream.socket().close(ignore);
    bool timeout = a.ec == beast::error::timeout;
    bool may_retry = retryable && a.before_response && !timeout && a.ec != http::error::header_limit;
    // A reused connection that fails before any response was most likely closed by the server
    // while idle: that failure does not count against the retry budget.
    if (may_retry && (attempt_no < options.max_retries || reused)) {
      fresh_only = true;
      if (reused) --attempt_no;
      continue;
    }
    throw to_client_error(a.ec, a.stage, ex.target.key, false);
  }
}

HttpClient::HttpClient(EventLoop& loop, ClientOptions options)
    : impl_(std::make_shared<Impl>(loop, std::move(options))) {}

HttpClient::~HttpClient() { close_idle(); }

const ClientOptions& HttpClient::options() const { return impl_->options; }
asio::any_io_executor HttpClient::executor() const { return impl_->loop.context().get_executor(); }
uint64_t HttpClient::connections_opened() const { return impl_->opened.load(); }

size_t HttpClient::idle_connections() const {
  std::lock_guard lock(impl_->mu);
  size_t n = 0;
  for (const auto& [k, v] : impl_->idle) n += v.size();
  return n;
}

void HttpClient::close_idle() {
  std::unordered_map<std::string, std::vector<std::shared_ptr<ClientConnection>>> all;
  {
    std::lock_guard lock(impl_->mu);
    all.swap(impl_->idle);
  }
  for (auto& [k, v] : all)
    for (auto& c : v) {
      error_code ec;
      c->stream.socket().close(ec);
    }
}

asio::awaitable<ClientResponse> HttpClient::request(ClientRequest r) {
  auto impl = impl_;
  Impl::Exchange ex = co_await impl->exchange(r, true);
  ClientResponse res;
  res.status = ex.parser->status;
  res.headers = std::move(ex.parser->headers);
  res.body = std::move(ex.parser->body);
  if (ex.parser->is_done() && ex.parser->keep_alive()) {
    impl->release(ex.target.key, std::move(ex.conn));
  } else {
    error_code ec;
    ex.conn->stream.socket().close(ec);
  }
  co_return res;
}

namespace {

class StreamingBody final : public ResponseBody {
 public:
  StreamingBody(std::shared_ptr<HttpClient::Impl> impl, HttpClient::Impl::Exchange ex, std::chrono::milliseconds rt)
      : impl_(std::move(impl)), ex_(std::move(ex)), read_timeout_(rt), headers_(std::move(ex_.parser->headers)) {
    cancel_target_ = ex_.conn;
  }

  ~StreamingBody() override {
    if (ex_.conn) close_connection();
  }

  int status() const override { return ex_.parser->status; }
  size_t max_body() const override { return impl_->options.max_response_body; }
  const Headers& headers() const override { return headers_; }

  asio::awaitable<std::optional<std::string>> read_some() override {
    ResponseParser& p = *ex_.parser;
    for (;;) {
      if (!p.body.empty()) {
        std::string out = std::move(p.body);
        p.body.clear();
        co_return out;
      }
      if (ex_.conn == nullptr) co_return std::nullopt;
      if (cancelled()) {
        close_connection();
        throw ClientError(ClientError::Kind::cancelled, "cancelled: " + ex_.target.key);
      }
      if (p.is_done()) {
        if (p.keep_alive()) {
          detach_cancel();
          impl_->release(ex_.target.key, std::move(ex_.conn));
          ex_.conn.reset();
        } else {
          close_connection();
        }
        co_return std::nullopt;
      }
      ClientConnection& c = *ex_.conn;
      auto timeout = read_timeout_;
      error_code ec = co_await asio::co_spawn(
          c.strand,
          [&c, &p, timeout]() -> asio::awaitable<error_code> {
            c.stream.expires_after(timeout);
            auto [e, n] = co_await http::async_read_some(c.stream, c.buffer, p, kTuple);
            c.stream.expires_never();
            co_return e;
          },
          asio::use_awaitable);
      if (ec) {
        bool was_cancelled = cancelled();
        close_connection();
        if (ec == http::error::end_of_stream && p.body.empty() && !was_cancelled) co_return std::nullopt;
        throw to_client_error(ec, "read body", ex_.target.key, was_cancelled);
      }
    }
  }

  // Thread-safe: closes the socket on its strand; the reader's pending or next read throws.
  void cancel() override {
    std::shared_ptr<ClientConnection> c;
    {
      std::lock_guard lock(cancel_mu_);
      cancelled_ = true;
      c = cancel_target_;
    }
    if (c == nullptr) return;
    asio::post(c->strand, [c] {
      error_code ec;
      c->stream.socket().close(ec);
    });
  }

 private:
  bool cancelled() {
    std::lock_guard lock(cancel_mu_);
    return cancelled_;
  }
  // Once the connection goes back to the pool a late cancel() must not touch it.
  void detach_cancel() {
    std::lock_guard lock(cancel_mu_);
    cancel_target_.reset();
  }
  // On the connection's strand, where a cancel() may also be closing it.
  void close_connection() {
    detach_cancel();
    if (!ex_.conn) return;
    std::shared_ptr<ClientConnection> c = std::move(ex_.conn);
    auto strand = c->strand;
    asio::post(strand, [c = std::move(c)] {
      error_code ec;
      c->stream.socket().close(ec);
    });
  }

  std::shared_ptr<HttpClient::Impl> impl_;
  HttpClient::Impl::Exchange ex_;
  std::chrono::milliseconds read_timeout_;
  Headers headers_;
  std::mutex cancel_mu_;
  bool cancelled_ = false;
  std::shared_ptr<ClientConnection> cancel_target_;
};

}  // namespace

asio::awaitable<std::unique_ptr<ResponseBody>> HttpClient::stream(ClientRequest r) {
  auto impl = impl_;
  auto rt = r.read_timeout.value_or(impl->options.read_timeout);
  Impl::Exchange ex = co_await impl->exchange(r, false);
  co_return std::make_unique<StreamingBody>(impl, std::move(ex), rt);
}

asio::awaitable<std::string> ResponseBody::read_all() {
  std::string out;
  while (auto piece = co_await read_some()) {
    out.append(*piece);
    if (out.size() > max_body()) {
      cancel();
      throw ClientError(ClientError::Kind::too_large, "response body larger than " + std::to_string(max_body()));
    }
  }
  co_return out;
}

}  // namespace parley::net
