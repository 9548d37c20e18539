// The internal APIs' service token, route by route: the route list comes from the routers that the
// services build (add_v1_routes, LmApi::add_routes), so a route added later is covered without
// editing this file. Each route is called over real HTTP without a token and with every kind of
// wrong one: 401 with WWW-Authenticate: Bearer, and nothing changes. With the right token the same
// request gets past the check (not 401), which proves the path reached the route.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <regex>

#include "core/metrics.hpp"
#include "llm/runtime/local_generator.hpp"
#include "net/blocking.hpp"
#include "services/dbapi_fixture.hpp"
#include "services/lmapi/lmapi_routes.hpp"

namespace parley::test {
namespace {

using net::Method;

struct RouteCall {
  Method method;
  std::string pattern;  // as registered
  std::string path;     // with its parameters filled in
};

// Fills {name} parameters from `values` (every parameter must have one: a new parameter name fails
// the test rather than going untested).
std::vector<RouteCall> calls_for(const net::Router& router, const std::map<std::string, std::string>& values) {
  std::vector<RouteCall> out;
  static const std::regex param(R"(\{([a-z_]+)\*?\})");
  for (const auto& r : router.routes()) {
    std::string path;
    std::sregex_iterator it(r->pattern.begin(), r->pattern.end(), param), end;
    size_t last = 0;
    for (; it != end; ++it) {
      path += r->pattern.substr(last, it->position() - last);
      auto v = values.find((*it)[1]);
      EXPECT_NE(v, values.end()) << "no test value for parameter {" << (*it)[1] << "} of " << r->pattern;
      if (v != values.end()) path += v->second;
      last = it->position() + it->length();
    }
    path += r->pattern.substr(last);
    out.push_back({r->method, r->pattern, path});
  }
  return out;
}

// Authorization headers that must not pass for `token` (nullopt: no header at all).
std::vector<std::optional<std::string>> wrong_authorizations(const std::string& token) {
  return {std::nullopt,
          "",
          "Bearer",
          "Bearer ",
          "Bearer wrong",
          "Bearer " + token + "x",
          "Bearer " + token.substr(0, token.size() - 1),
          "Bearer " + token.substr(1),
          "Bearer " + std::string(token.size(), 'A'),
          "Basic " + token,
          token,
          "Token " + token,
          "Bearer " + token + " " + token};
}

std::string describe(const std::optional<std::string>& auth) {
  return auth ? "Authorization: \"" + *auth + "\"" : "no Authorization header";
}

// ---- db-api -------------------------------------------------------------------------------------

TEST(ServiceTokenDbApi, EveryV1RouteRefusesAMissingOrWrongToken) {
  LiveDbApi api;
  const std::string token = LiveDbApi::kToken;
  auto created = api.request(Method::post, "/v1/chats", R"({"title":"kept","messages":[{"role":"user","content":"m"}]})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string chat = std::string(body_json(created).at("id").as_string());
  auto got = api.request(Method::get, "/v1/chats/" + chat);
  std::string message = std::string(body_json(got).at("messages").at(0).at("id").as_string());

  // The same routes db-api serves (dbapi_command.cpp builds its router with this call).
  net::Router router;
  services::dbapi::add_v1_routes(router, api.store(), token);
  auto calls = calls_for(router, {{"id", chat}, {"mid", message}});
  ASSERT_GE(calls.size(), 7u);

  const std::string body = R"({"title":"hacked","role":"user","content":"hacked","status":"complete"})";
  for (const auto& call : calls) {
    for (const auto& auth : wrong_authorizations(token)) {
      net::ClientRequest req{.method = call.method, .url = api.base_url() + call.path, .body = body,
                             .content_type = "application/json"};
      if (auth) req.headers.push_back({"Authorization", *auth});
      req.headers.push_back({"X-Parley-Owner", "alice"});
      req.headers.push_back({"X-Api-Key", token});  // the right secret in a header nobody reads
      auto r = run_on(api.loop().context(), api.client().request(std::move(req)));
      EXPECT_EQ(r.status, 401) << method_name(call.method) << " " << call.pattern << " with " << describe(auth);
      EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer") << call.pattern;
      EXPECT_EQ(r.body.find(token), std::string::npos) << "the token is never echoed";
    }
    // The token in the query string is not a token either.
    net::ClientRequest q{.method = call.method, .url = api.base_url() + call.path + "?token=" + token +
                                                     "&access_token=" + token};
    q.headers.push_back({"X-Parley-Owner", "alice"});
    EXPECT_EQ(run_on(api.loop().context(), api.client().request(std::move(q))).status, 401) << call.pattern;
  }

  // Nothing changed, and with the right token each route gets past the check.
  auto after = api.request(Method::get, "/v1/chats/" + chat);
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(body_json(after).at("title").as_string(), "kept");
  ASSERT_EQ(body_json(after).at("messages").as_array().size(), 1u);
  EXPECT_EQ(body_json(after).at("messages").at(0).at("content").as_string(), "m");
  for (const auto& call : calls) {
    if (call.method == Method::delete_) continue;  // checked last
    auto r = api.request(call.method, call.path, body);
    EXPECT_NE(r.status, 401) << call.pattern << ": " << r.body;
    EXPECT_LT(r.status, 500) << call.pattern << ": " << r.body;
  }
  EXPECT_EQ(api.request(Method::delete_, "/v1/chats/" + chat).status, 204);
}

TEST(ServiceTokenDbApi, TheRightTokenForAnotherOwnerStillFindsNothing) {
  // The token says "a trusted service", the owner header says whose data: another owner's chat is
  // a 404 on every /v1 route with a chat id, exactly like a missing one.
  LiveDbApi api;
  auto created = api.request(Method::post, "/v1/chats", R"({"title":"alice's","messages":[{"role":"user","content":"m"}]})");
  std::string chat = std::string(body_json(created).at("id").as_string());
  std::string message = std::string(
      body_json(api.request(Method::get, "/v1/chats/" + chat)).at("messages").at(0).at("id").as_string());
  net::Router router;
  services::dbapi::add_v1_routes(router, api.store(), LiveDbApi::kToken);
  int checked = 0;
  for (const auto& call : calls_for(router, {{"id", chat}, {"mid", message}})) {
    if (call.pattern.find("{id}") == std::string::npos) continue;
    // A body each route accepts, so that only the owner decides the answer.
    std::string body = R"({"title":"mallory"})";
    if (call.pattern.find("{mid}") != std::string::npos) body = R"({"content":"mallory"})";
    else if (call.pattern.ends_with("/messages")) body = R"({"role":"user","content":"mallory"})";
    auto r = api.request(call.method, call.path, body, "mallory");
    EXPECT_EQ(r.status, 404) << method_name(call.method) << " " << call.pattern << ": " << r.body;
    EXPECT_EQ(r.body.find("alice"), std::string::npos);
    ++checked;
  }
  EXPECT_GE(checked, 5);
  auto after = api.request(Method::get, "/v1/chats/" + chat);
  EXPECT_EQ(body_json(after).at("title").as_string(), "alice's");
  EXPECT_EQ(body_json(after).at("messages").as_array().size(), 1u);
}

// ---- lm-api -------------------------------------------------------------------------------------

struct LiveLmApiServer {
  static constexpr const char* kKey = "lm-api-test-key-0123456789";
  LiveLmApiServer()
      : gen(llm::LocalGenerator::open(std::string(PARLEY_SHARED_DIR) + "/models/stories260K.gguf",
                                      {.engine = {.threads = 1, .ctx = 256, .slots = 2, .queue = 4}})),
        api(*gen, kKey, metrics), loop(2), client(loop) {
    api.add_routes(routes);  // the list under test
    net::Router router;
    api.add_routes(router);
    net::ServerOptions opt;
    opt.name = "lm-api-auth-test";
    opt.metrics = &metrics;
    server = std::make_unique<net::Server>(loop, opt, std::move(router));
    port = server->start();
    loop.start();
  }
  ~LiveLmApiServer() {
    server->shutdown();
    loop.stop();
  }
  net::ClientResponse send(Method m, const std::string& path, const std::optional<std::string>& auth,
                           const std::string& body) {
    net::ClientRequest r{.method = m, .url = "http://127.0.0.1:" + std::to_string(port) + path};
    if (m == Method::post) {
      r.body = body;
      r.content_type = "application/json";
    }
    if (auth) r.headers.push_back({"Authorization", *auth});
    return net::run_blocking(loop, client.request(std::move(r)));
  }

  Metrics metrics;
  std::unique_ptr<llm::LocalGenerator> gen;
  services::lmapi::LmApi api;
  net::Router routes;
  net::EventLoop loop;
  net::HttpClient client;
  std::unique_ptr<net::Server> server;
  uint16_t port = 0;
};

TEST(ServiceTokenLmApi, EveryRouteRefusesAMissingOrWrongKey) {
  LiveLmApiServer lm;
  auto calls = calls_for(lm.routes, {});
  ASSERT_GE(calls.size(), 4u);
  // Valid for both completion endpoints; one token so that the right-key check is quick.
  const std::string body = R"({"prompt":"Once","messages":[{"role":"user","content":"Once"}],"max_tokens":1})";
  const auto tokens_before = lm.gen->engine().stats().generated_tokens_total;
  for (const auto& call : calls) {
    for (const auto& auth : wrong_authorizations(LiveLmApiServer::kKey)) {
      auto r = lm.send(call.method, call.path, auth, body);
      EXPECT_EQ(r.status, 401) << method_name(call.method) << " " << call.pattern << " with " << describe(auth);
      EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer") << call.pattern;
    }
  }
  EXPECT_EQ(lm.gen->engine().stats().generated_tokens_total, tokens_before) << "nothing was generated";
  for (const auto& call : calls) {
    auto r = lm.send(call.method, call.path, std::string("Bearer ") + LiveLmApiServer::kKey, body);
    EXPECT_EQ(r.status, 200) << call.pattern << ": " << r.body;
  }
  // Probes stay open: an orchestrator checks them without the key.
  EXPECT_EQ(lm.send(Method::get, "/healthz", std::nullopt, "").status, 200);
}

}  // namespace
}  // namespace parley::test
