#include "net/router.hpp"

#include <gtest/gtest.h>

namespace parley::net {
namespace {

using boost::asio::awaitable;

Handler named(int) {
  return [](Request&) -> awaitable<Response> { co_return Response::no_content(); };
}

Router sample() {
  Router r;
  r.get("/v1/chats", named(1));
  r.post("/v1/chats", named(2));
  r.get("/v1/chats/{id}", named(3));
  r.patch("/v1/chats/{id}", named(4));
  r.del("/v1/chats/{id}", named(5));
  r.post("/v1/chats/{id}/messages", named(6));
  r.patch("/v1/chats/{id}/messages/{mid}", named(7));
  r.get("/v1/chats/search", named(8));
  r.get("/static/{path*}", named(9));
  r.get("/", named(10));
  return r;
}

TEST(Router, MatchesLiteralsAndParameters) {
  Router r = sample();
  Request req;
  auto m = r.match(Method::patch, "/v1/chats/c1/messages/m2", &req);
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/chats/{id}/messages/{mid}");
  EXPECT_EQ(req.param("id"), "c1");
  EXPECT_EQ(req.param("mid"), "m2");
  EXPECT_EQ(req.param("nope"), "");
  EXPECT_EQ(r.match(Method::get, "/", nullptr).route->pattern, "/");
  EXPECT_EQ(r.match(Method::get, "/v1/chats", nullptr).route->pattern, "/v1/chats");
}

TEST(Router, LiteralBeatsParameterWhateverTheOrder) {
  Router r = sample();
  EXPECT_EQ(r.match(Method::get, "/v1/chats/search", nullptr).route->pattern, "/v1/chats/search");
  EXPECT_EQ(r.match(Method::get, "/v1/chats/other", nullptr).route->pattern, "/v1/chats/{id}");
}

TEST(Router, WrongMethodIs405WithAllowedMethods) {
  Router r = sample();
  auto m = r.match(Method::put, "/v1/chats/abc", nullptr);
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_matched());
  EXPECT_EQ(Router::allow_header(m.allowed), "GET, HEAD, PATCH, DELETE");
}

TEST(Router, UnknownPathIs404) {
  Router r = sample();
  for (const char* p : {"/v2/chats", "/v1/chats/a/b", "/v1/chats/", "/v1", "", "v1/chats", "/v1/chats/a/messages"}) {
    auto m = r.match(Method::get, p, nullptr);
    EXPECT_EQ(m.route, nullptr) << p;
    if (std::string_view(p) != "/v1/chats/a/messages") {
      EXPECT_FALSE(m.path_matched()) << p;
    }
  }
  // POST-only path under GET: 405, not 404.
  EXPECT_TRUE(r.match(Method::get, "/v1/chats/a/messages", nullptr).path_matched());
}

TEST(Router, HeadFallsBackToGet) {
  Router r = sample();
  auto m = r.match(Method::head, "/v1/chats/x", nullptr);
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method, Method::get);
}

TEST(Router, RestParameterTakesTheRestOfThePath) {
  Router r = sample();
  Request req;
  auto m = r.match(Method::get, "/static/css/app.css", &req);
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(req.param("path"), "css/app.css");
}

TEST(Router, ParametersArePercentDecoded) {
  Router r = sample();
  Request req;
  ASSERT_NE(r.match(Method::get, "/v1/chats/a%20b%2Fc", &req).route, nullptr);
  EXPECT_EQ(req.param("id"), "a b/c");
}

TEST(Router, RejectsMalformedAndDuplicatePatterns) {
  Router r;
  r.get("/a/{id}", named(0));
  EXPECT_THROW(r.get("/a/{id}", named(0)), std::invalid_argument);
  EXPECT_THROW(r.get("no-slash", named(0)), std::invalid_argument);
  EXPECT_THROW(r.get("/a/{}", named(0)), std::invalid_argument);
  EXPECT_THROW(r.get("/a/{rest*}/b", named(0)), std::invalid_argument);
  EXPECT_THROW(r.get("/a/x{y}", named(0)), std::invalid_argument);
  EXPECT_NO_THROW(r.post("/a/{id}", named(0)));
}

TEST(Request, QueryHeadersAndBearer) {
  Request req;
  req.set_method("GET");
  req.set_target("/v1/chats?limit=10&cursor=a%2Bb&q=hello+world&flag");
  req.add_header("Authorization", "Bearer  tok123 ");
  req.add_header("x-parley-owner", "alice");
  EXPECT_EQ(req.path(), "/v1/chats");
  EXPECT_EQ(req.query_string(), "limit=10&cursor=a%2Bb&q=hello+world&flag");
  EXPECT_EQ(req.query("limit"), "10");
  EXPECT_EQ(req.query("cursor"), "a+b");
  EXPECT_EQ(req.query("q"), "hello world");
  EXPECT_EQ(req.query("flag"), "");
  EXPECT_FALSE(req.query("missing"));
  EXPECT_EQ(req.header("X-Parley-Owner"), "alice");
  EXPECT_EQ(req.header("Missing"), "");
  EXPECT_EQ(req.bearer_token(), "tok123");
  EXPECT_FALSE(req.secure());
  req.add_header("X-Forwarded-Proto", "https");
  EXPECT_TRUE(req.secure());
  EXPECT_THROW(req.stream(), std::logic_error);
}

TEST(Request, ClearKeepsNothingOfThePreviousRequest) {
  Request req;
  req.set_method("POST");
  req.set_target("/a");
  req.add_header("A", "1");
  req.body() = "xyz";
  req.clear();
  EXPECT_EQ(req.header("A"), "");
  EXPECT_EQ(req.body(), "");
  EXPECT_EQ(req.target(), "");
  EXPECT_EQ(req.header_count(), 0u);
}

TEST(Response, JsonErrorShape) {
  Response r = Response::error(ErrorCode::not_found, "chat \"x\" not found\n");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body,
            R"({"error":{"message":"chat \"x\" not found\n","type":"invalid_request_error","code":"not_found"}})");
  EXPECT_EQ(Response::error(ErrorCode::unavailable, "x").status, 503);
  EXPECT_EQ(Response::error(make_error(ErrorCode::unauthorized, "no")).status, 401);
}

TEST(Http, PercentCoding) {
  EXPECT_EQ(percent_decode("a%41%zz%4"), "aA%zz%4");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_encode("a b/é"), "a%20b%2F%C3%A9");
  EXPECT_EQ(parse_method("PATCH"), Method::patch);
  EXPECT_EQ(parse_method("patch"), Method::other);
  EXPECT_TRUE(is_idempotent(Method::put));
  EXPECT_FALSE(is_idempotent(Method::post));
}

}  // namespace
}  // namespace parley::net
