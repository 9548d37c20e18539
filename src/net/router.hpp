// Router: maps (method, path) to a coroutine handler. Patterns are literal segments, {name}
// parameters (one segment) and an optional final {name*} that takes the rest of the path.
//
//   Router r;
//   r.get("/v1/chats", list_chats);
//   r.post("/v1/chats/{id}/messages", post_message);
//   r.patch("/v1/chats/{id}/messages/{mid}", [&](Request& req) -> asio::awaitable<Response> {
//     co_return Response::json(200, render(req.param("id"), req.param("mid")));
//   });
//   r.get("/static/{path*}", serve_asset);
//
// Matching: a path that matches no pattern is 404; one that matches only under other methods is
// 405 with an Allow header; HEAD falls back to GET (the body is not sent). When several patterns
// match, literal segments beat parameters, left to right ("/v1/chats/search" beats
// "/v1/chats/{id}"). Cost: no allocation; one pass over the routes comparing segments.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/http.hpp"
#include "net/request.hpp"
#include "net/response.hpp"

namespace parley::net {

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

struct Route {
  Method method;
  std::string pattern;  // also the "route" label of metrics and the access log
  Handler handler;
  size_t index = 0;  // position in the router (stable once the server starts)

  struct Segment {
    enum Kind : uint8_t { literal, param, rest } kind;
    std::string text;  // literal text or parameter name
  };
  std::vector<Segment> segments;
};

class Router {
 public:
  Router() = default;
  Router(Router&&) = default;
  Router& operator=(Router&&) = default;

  // Throws std::invalid_argument on a malformed pattern or a duplicate (method, pattern).
  Router& add(Method method, std::string_view pattern, Handler handler);
  Router& get(std::string_view p, Handler h) { return add(Method::get, p, std::move(h)); }
  Router& post(std::string_view p, Handler h) { return add(Method::post, p, std::move(h)); }
  Router& put(std::string_view p, Handler h) { return add(Method::put, p, std::move(h)); }
  Router& patch(std::string_view p, Handler h) { return add(Method::patch, p, std::move(h)); }
  Router& del(std::string_view p, Handler h) { return add(Method::delete_, p, std::move(h)); }

  bool has(Method method, std::string_view pattern) const;

  struct Match {
    const Route* route = nullptr;  // set when found
    uint32_t allowed = 0;          // bit (1 << Method) per method whose pattern matched the path
    bool path_matched() const { return allowed != 0; }
  };
  // Finds the route; when found and `req` is given, sets its path parameters.
  Match match(Method method, std::string_view path, Request* req = nullptr) const;

  // "GET, HEAD, POST" for an Allow header.
  static std::string allow_header(uint32_t allowed);

  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace parley::net
