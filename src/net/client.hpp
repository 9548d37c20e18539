// HttpClient: HTTP/1.1 client on an EventLoop, with a keep-alive connection pool per host.
//
//   HttpClient client(loop);                               // share one per process/target
//   ClientRequest r{.method = Method::get, .url = "http://127.0.0.1:8081/v1/chats/abc"};
//   r.header("Authorization", "Bearer " + token).header("X-Request-Id", req.request_id());
//   ClientResponse res = co_await client.request(std::move(r));   // whole body
//   if (res.status == 200) use(res.body);
//
//   // Streaming (SSE relay): the body is read piece by piece as it arrives.
//   ClientRequest sr{.method = Method::post, .url = url, .body = json, .content_type = "application/json"};
//   auto body = co_await client.stream(std::move(sr));   // (a named request: see ClientRequest)
//   if (body->status() != 200) { std::string err = co_await body->read_all(); ... }
//   SseParser sse;
//   while (auto piece = co_await body->read_some()) sse.feed(*piece, on_event);
//   // body->cancel() from anywhere (e.g. ResponseStream::on_client_gone) ends it early.
//
// Failures (refused, unreachable, timeouts, a broken peer, a malformed response) throw
// ClientError; HTTP error statuses are ordinary responses. A request is retried on a fresh
// connection when it failed before any byte of the response arrived and it is idempotent (GET,
// HEAD, PUT, DELETE, OPTIONS) or marked `idempotent` (e.g. a POST with an idempotency key) —
// typically a pooled connection the server had just closed. Pooled connections are checked for a
// pending close before reuse and dropped after idle_ttl. Only http:// URLs.
//
// Thread-safety: one HttpClient may be used by any number of coroutines on any threads.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "net/event_loop.hpp"
#include "net/http.hpp"

namespace parley::net {

struct ClientOptions {
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(5);
  std::chrono::milliseconds read_timeout = std::chrono::seconds(60);  // response head; each body read
  std::chrono::milliseconds write_timeout = std::chrono::seconds(30);
  std::chrono::milliseconds idle_ttl = std::chrono::seconds(30);  // keep below the server's idle timeout
  size_t max_idle_per_host = 128;
  int max_retries = 1;                            // extra attempts for retryable failures
  size_t max_response_body = 64 * 1024 * 1024;    // read_all / request limit, bytes
  size_t max_response_header = 64 * 1024;
  std::string user_agent = "parley";
};

// An aggregate: fill a named variable. Never build one as a temporary inside a co_await
// expression — g++ 12 destroys aggregate temporaries there twice (heap corruption):
//   co_await client.request({.url = u});          // WRONG with g++ 12: double free
//   ClientRequest r{.url = u}; co_await client.request(std::move(r));   // right
struct ClientRequest {
  Method method = Method::get;
  std::string url;  // http://host[:port]/path[?query]
  Headers headers;
  std::string body;
  std::string content_type;  // sent when non-empty
  bool idempotent = false;   // allow retries for a non-idempotent method
  std::optional<std::chrono::milliseconds> read_timeout;  // overrides ClientOptions::read_timeout

  ClientRequest& header(std::string name, std::string value) {
    headers.push_back({std::move(name), std::move(value)});
    return *this;
  }
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;
  std::string_view header(std::string_view name) const { return find_header(headers, name); }
};

class ClientError : public std::runtime_error {
 public:
  enum class Kind { bad_url, connect, timeout, closed, protocol, too_large, cancelled };
  ClientError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// A response whose body is read as it arrives. Dropping it before the end closes its connection.
class ResponseBody {
 public:
  virtual ~ResponseBody() = default;
  virtual int status() const = 0;
  virtual const Headers& headers() const = 0;
  std::string_view header(std::string_view name) const { return find_header(headers(), name); }
  // The next piece of the body (what arrived; never empty), or nullopt at the end of the body.
  // Throws ClientError (timeout, closed, cancelled...).
  virtual boost::asio::awaitable<std::optional<std::string>> read_some() = 0;
  // The rest of the body (up to ClientOptions::max_response_body).
  boost::asio::awaitable<std::string> read_all();
  // Ends the response from any thread: the pending or next read throws ClientError(cancelled).
  virtual void cancel() = 0;

 protected:
  virtual size_t max_body() const = 0;
};

class HttpClient {
 public:
  explicit HttpClient(EventLoop& loop, ClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  boost::asio::awaitable<ClientResponse> request(ClientRequest request);
  // Sends the request and reads the response head; the body is read through the result.
  boost::asio::awaitable<std::unique_ptr<ResponseBody>> stream(ClientRequest request);

  const ClientOptions& options() const;
  boost::asio::any_io_executor executor() const;  // of the event loop the client runs on
  // Pool statistics (tests, metrics): connections opened so far, idle ones in the pool now.
  uint64_t connections_opened() const;
  size_t idle_connections() const;
  // Closes every idle pooled connection.
  void close_idle();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace parley::net
