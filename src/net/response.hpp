// Response: what a (non-streaming) handler returns. Errors are JSON {"error": {"message", "type",
// "code"}} with the status of core/result.hpp's mapping.
//
//   co_return Response::json(201, R"({"id":"..."})");
//   co_return Response::error(ErrorCode::not_found, "chat not found");       // 404 JSON error
//   co_return Response::error(result.error());                               // from a Result<T>
//   co_return Response::error(ErrorCode::unavailable, "busy").set_header("Retry-After", "2");
//   co_return Response::text(200, "ok");
//   co_return Response::redirect(303, "/chats/abc");
//
// The server adds Content-Length, Date, X-Request-Id and Connection; handlers set the rest.
// Header values must not contain CR or LF (they are dropped).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "net/http.hpp"

namespace parley::net {

struct Response {
  int status = 200;
  std::string content_type = "application/json";  // empty: no Content-Type header
  std::string body;
  // Instead of `body`: a body shared with a cache, sent without a copy (body stays empty).
  std::shared_ptr<const std::string> shared_body;
  Headers headers;  // extra headers

  std::string_view body_view() const { return shared_body ? std::string_view(*shared_body) : std::string_view(body); }

  Response& set_header(std::string name, std::string value) {
    headers.push_back({std::move(name), std::move(value)});
    return *this;
  }

  static Response json(int status, std::string body);
  static Response json(int status, std::shared_ptr<const std::string> body);
  static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  static Response html(int status, std::string body);
  static Response error(ErrorCode code, std::string_view message);
  static Response error(const Error& error) { return Response::error(error.code, error.message); }
  // An error with an explicit status (e.g. 405, 408, 431) and the type/code of `code`.
  static Response error(int status, ErrorCode code, std::string_view message);
  static Response no_content();  // 204
  static Response redirect(int status, std::string location);
};

// {"error":{"message":"...","type":"...","code":"..."}}
std::string json_error_body(ErrorCode code, std::string_view message);
// Appends s as a JSON string literal (with quotes), escaping as RFC 8259 requires.
void append_json_string(std::string& out, std::string_view s);

}  // namespace parley::net
