// A live db-api in the test process: SQLite store in a temp dir (or the store a factory makes on the
// fixture's loop), the /v1 and compat routes, a real server on a free 127.0.0.1 port, and an
// HttpClient on the same loop.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <functional>
#include <memory>
#include <string>

#include "net/client.hpp"
#include "net/event_loop.hpp"
#include "net/server.hpp"
#include "services/dbapi/dbapi_routes.hpp"
#include "store/sqlite/sqlite_chat_store.hpp"
#include "support/async_runner.hpp"
#include "support/temp_dir.hpp"

namespace parley::test {

class LiveDbApi {
 public:
  static constexpr const char* kToken = "test-service-token-0123456789";

  using StoreFactory = std::function<std::unique_ptr<store::ChatStore>(net::EventLoop&)>;

  explicit LiveDbApi(store::StoreLimits limits = {}) : loop_(2) {
    store_ = std::make_unique<store::sqlite::SqliteChatStore>(dir_.file("chats.db"),
                                                              store::sqlite::SqliteOptions{.limits = limits});
    start(limits);
  }
  explicit LiveDbApi(const StoreFactory& make) : loop_(2) {
    store_ = make(loop_);
    start({});
  }
  ~LiveDbApi() {
    client_.reset();
    server_->shutdown();
    server_->wait_drained();
    loop_.stop();
    server_.reset();
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  net::HttpClient& client() { return *client_; }
  net::EventLoop& loop() { return loop_; }
  store::ChatStore& store() { return *store_; }

  // One request; headers: the token and the owner unless told otherwise, then `extra`.
  net::ClientResponse request(net::Method method, const std::string& path, const std::string& body = "",
                              std::optional<std::string> owner = "alice",
                              std::optional<std::string> token = std::string(kToken), net::Headers extra = {}) {
    net::ClientRequest req;
    req.method = method;
    req.url = base_url() + path;
    if (token) req.headers.push_back({"Authorization", "Bearer " + *token});
    if (owner) req.headers.push_back({"X-Parley-Owner", *owner});
    for (auto& h : extra) req.headers.push_back(std::move(h));
    if (!body.empty()) {
      req.body = body;
      req.content_type = "application/json";
    }
    return run_on(loop_.context(), client_->request(std::move(req)));
  }

 private:
  void start(store::StoreLimits limits) {
    net::Router router;
    services::dbapi::add_v1_routes(router, *store_, kToken);
    services::dbapi::add_compat_routes(router, *store_);
    net::ServerOptions options;
    options.name = "db-api-test";
    options.body_limit = 6 * limits.max_content_bytes + 64 * 1024;
    server_ = std::make_unique<net::Server>(loop_, options, std::move(router));
    store::ChatStore* st = store_.get();
    server_->set_readiness([st]() -> boost::asio::awaitable<Status> {
      auto r = co_await st->check_ready();
      if (!r) co_return r.error();
      co_return ok_status();
    });
    port_ = server_->start();
    loop_.start();
    client_ = std::make_unique<net::HttpClient>(loop_);
  }

 private:
  TempDir dir_{"parley-dbapi"};
  net::EventLoop loop_;
  std::unique_ptr<store::ChatStore> store_;
  std::unique_ptr<net::Server> server_;
  std::unique_ptr<net::HttpClient> client_;
  uint16_t port_ = 0;
};

inline boost::json::value body_json(const net::ClientResponse& r) { return boost::json::parse(r.body); }

inline std::string error_code(const net::ClientResponse& r) {
  auto v = boost::json::parse(r.body);
  return std::string(v.at("error").at("code").as_string());
}

}  // namespace parley::test
