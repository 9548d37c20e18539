// ResponseStream: how a handler streams a response (SSE, long downloads) and learns that the
// client went away. Reach it with req.stream(); once begin() is called the Response the handler
// returns is ignored.
//
//   asio::awaitable<Response> completions(Request& req) {
//     if (bad) co_return Response::error(ErrorCode::invalid_argument, "...");   // before begin: normal
//     ResponseStream& out = req.stream();
//     out.on_client_gone([&] { sequence.cancel(); });   // runs on this handler's executor
//     if (!co_await out.begin_sse()) co_return {};       // 200 text/event-stream, chunked
//     while (auto piece = co_await next_piece()) {
//       if (!co_await out.write(sse_event(*piece))) break;   // false: the peer has gone
//     }
//     co_await out.finish();                               // terminating chunk (also done for you)
//     co_return {};
//   }
//
// Every write is sent (and flushed) before it completes; a write blocked for the server's
// write_timeout by a client that stops reading counts as gone. While a stream is open the server
// watches the socket, so a disconnect is noticed at once, even while the handler is waiting for
// its next piece. During graceful shutdown a stream may run until the drain timeout; then it is
// closed (client_gone() becomes true and the callback runs).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string_view>

#include "net/http.hpp"

namespace parley::net {

class ResponseStream {
 public:
  virtual ~ResponseStream() = default;

  // Sends the status line and headers (Transfer-Encoding: chunked). false: the peer has gone.
  virtual boost::asio::awaitable<bool> begin(int status, std::string_view content_type,
                                             const Headers& headers = {}) = 0;
  // begin(200, "text/event-stream") with Cache-Control: no-cache and X-Accel-Buffering: no.
  boost::asio::awaitable<bool> begin_sse(const Headers& headers = {});
  // Sends one chunk (empty data is a no-op). false: the peer has gone.
  virtual boost::asio::awaitable<bool> write(std::string_view data) = 0;
  // Ends the body. Idempotent; the server calls it after the handler if the handler did not.
  virtual boost::asio::awaitable<bool> finish() = 0;

  virtual bool started() const = 0;
  virtual bool client_gone() const = 0;
  // fn runs once when the client disconnects (at once if it already has). One callback; a new
  // one replaces the old.
  virtual void on_client_gone(std::function<void()> fn) = 0;
};

}  // namespace parley::net
