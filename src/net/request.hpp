// Request: one HTTP request as a handler sees it. The server fills it, reusing its storage from one
// request to the next on a connection (no per-request allocation for the head in steady state);
// tests can build one by hand with the set_/add_ methods.
//
//   asio::awaitable<Response> get_message(Request& req) {
//     std::string_view chat = req.param("id");               // route "/v1/chats/{id}/messages/{mid}"
//     auto limit = req.query("limit");                       // optional<string>, percent-decoded
//     std::string_view owner = req.header("X-Parley-Owner"); // "" when absent
//     std::string_view token = req.bearer_token();           // from "Authorization: Bearer ..."
//     const std::string& body = req.body();
//     log("request_id={}", req.request_id());                // pass on as X-Request-Id downstream
//     ...
//   }
//
// Views returned by a Request are valid until the handler returns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http.hpp"
#include "net/response_stream.hpp"

namespace parley::net {

class Request {
 public:
  Request() = default;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  Method method() const { return method_; }
  std::string_view method_name() const { return view(method_span_); }
  // The request target as sent: "/v1/chats?limit=10".
  std::string_view target() const { return view(target_span_); }
  // The path part of the target, not percent-decoded: "/v1/chats".
  std::string_view path() const;
  // The query part without '?': "limit=10" ("" when none).
  std::string_view query_string() const;
  // The first value of a query parameter, percent-decoded ('+' is a space); nullopt when absent.
  std::optional<std::string> query(std::string_view name) const;

  // First header with this name (case-insensitive), "" when absent.
  std::string_view header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  size_t header_count() const { return headers_.size(); }
  std::pair<std::string_view, std::string_view> header_at(size_t i) const;
  // The token of "Authorization: Bearer <token>", "" when absent or another scheme.
  std::string_view bearer_token() const;

  std::string& body() { return body_; }
  const std::string& body() const { return body_; }

  // A path parameter of the matched route, percent-decoded; "" when the route has no such name.
  std::string_view param(std::string_view name) const;

  // The X-Request-Id of this request: the client's when it sent a sane one, else a new random one.
  const std::string& request_id() const { return request_id_; }
  std::string_view remote_address() const { return remote_address_; }
  // True when the request arrived over TLS (or the proxy said so with X-Forwarded-Proto: https).
  bool secure() const;
  int http_version() const { return version_; }  // 11 for HTTP/1.1
  bool keep_alive() const { return keep_alive_; }

  // For streaming responses (SSE). Only requests handled by a Server have one; see
  // net/response_stream.hpp. Throws std::logic_error otherwise.
  ResponseStream& stream() const;
  bool has_stream() const { return stream_ != nullptr; }

  // ---- building (used by the server and by handler tests) ----
  void clear();  // keeps capacity
  void set_method(std::string_view name);
  void set_target(std::string_view target);
  void add_header(std::string_view name, std::string_view value);
  void set_param(std::string_view name, std::string_view raw_value);  // name must outlive the request
  void clear_params();
  void set_request_id(std::string id) { request_id_ = std::move(id); }
  void set_remote_address(std::string_view a) { remote_address_.assign(a.data(), a.size()); }
  void set_tls(bool tls) { tls_ = tls; }
  void set_version(int v) { version_ = v; }
  void set_keep_alive(bool k) { keep_alive_ = k; }
  void set_stream(ResponseStream* s) { stream_ = s; }

 private:
  struct Span {
    uint32_t off = 0;
    uint32_t len = 0;
  };
  std::string_view view(Span s) const { return std::string_view(head_).substr(s.off, s.len); }
  Span append(std::string_view s);

  Method method_ = Method::get;
  int version_ = 11;
  bool keep_alive_ = true;
  bool tls_ = false;
  std::string head_;  // method, target, header names and values back to back
  Span method_span_, target_span_;
  std::vector<std::pair<Span, Span>> headers_;
  std::string params_storage_;
  std::vector<std::pair<std::string_view, Span>> params_;
  std::string body_;
  std::string request_id_;
  std::string remote_address_;
  ResponseStream* stream_ = nullptr;
};

}  // namespace parley::net
