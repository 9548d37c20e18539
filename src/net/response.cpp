#include "net/response.hpp"

#include "net/response_stream.hpp"

namespace parley::net {

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      default:
        if (u < 0x20) {
          out.append("\\u00");
          out.push_back(digits[u >> 4]);
          out.push_back(digits[u & 15]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

std::string json_error_body(ErrorCode code, std::string_view message) {
  std::string out;
  out.reserve(64 + message.size());
  out.append(R"({"error":{"message":)");
  append_json_string(out, message);
  out.append(R"(,"type":)");
  append_json_string(out, error_type(code));
  out.append(R"(,"code":)");
  append_json_string(out, error_code_name(code));
  out.append("}}");
  return out;
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::json(int status, std::shared_ptr<const std::string> body) {
  Response r;
  r.status = status;
  r.shared_body = std::move(body);
  return r;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

Response Response::html(int status, std::string body) {
  return text(status, std::move(body), "text/html; charset=utf-8");
}

Response Response::error(ErrorCode code, std::string_view message) {
  return error(http_status(code), code, message);
}

Response Response::error(int status, ErrorCode code, std::string_view message) {
  Response r;
  r.status = status;
  r.body = json_error_body(code, message);
  return r;
}

Response Response::no_content() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

Response Response::redirect(int status, std::string location) {
  Response r;
  r.status = status;
  r.content_type.clear();
  r.headers.push_back({"Location", std::move(location)});
  return r;
}

boost::asio::awaitable<bool> ResponseStream::begin_sse(const Headers& headers) {
  Headers h;
  h.reserve(headers.size() + 2);
  h.push_back({"Cache-Control", "no-cache"});
  h.push_back({"X-Accel-Buffering", "no"});
  for (const auto& x : headers) h.push_back(x);
  co_return co_await begin(200, "text/event-stream", h);
}

}  // namespace parley::net
