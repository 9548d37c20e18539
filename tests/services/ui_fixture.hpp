// UI handler test fixture: a real SQLite store in a temp dir, a Generator, UiService on a real
// Server on 127.0.0.1 (ephemeral port), and Browser: an HTTP client with a cookie jar that picks the
// CSRF token out of the pages it loads.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <functional>
#include <memory>
#include <regex>
#include <string>

#include "net/blocking.hpp"
#include "net/client.hpp"
#include "net/event_loop.hpp"
#include "net/server.hpp"
#include "net/sse.hpp"
#include "services/ui/ui_service.hpp"
#include "store/sqlite/sqlite_chat_store.hpp"
#include "support/temp_dir.hpp"
#include "ui_scripted_generator.hpp"

namespace parley::test {

namespace ui = parley::services::ui;
using net::ClientResponse;
using net::Method;

inline ui::SessionSealer make_sealer(const std::string& secrets) {
  auto keys = ui::SessionKeys::parse(secrets);
  if (!keys) throw std::runtime_error(keys.error().message);
  return ui::SessionSealer(std::move(*keys));
}

// One UI server over a store and a generator (both owned elsewhere, or by the fixture).
struct UiServer {
  std::unique_ptr<ui::UiService> service;
  std::unique_ptr<net::Server> server;
  uint16_t port = 0;

  UiServer(net::EventLoop& loop, store::ChatStore& store, llm::Generator& gen, const std::string& secrets,
           ui::UiOptions options = {}) {
    service = std::make_unique<ui::UiService>(store, gen, make_sealer(secrets), std::move(options));
    net::Router router;
    service->add_routes(router);
    net::ServerOptions opt{.name = "ui-test"};
    server = std::make_unique<net::Server>(loop, opt, std::move(router));
    server->set_readiness(service->readiness());
    port = server->start();
  }
  ~UiServer() {
    server->shutdown();
    server->wait_drained();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
};

struct SseResult {
  int status = 0;
  std::string content_type;
  std::vector<net::SseEvent> events;
  std::string text;  // the piece events joined
  const net::SseEvent* find(const std::string& name) const {
    for (const auto& e : events)
      if (e.event == name) return &e;
    return nullptr;
  }
};

class Browser {
 public:
  Browser(net::EventLoop& loop, net::HttpClient& client, const UiServer* server)
      : loop_(loop), client_(client), server_(server) {}
  void use(const UiServer* server) { server_ = server; }

  std::string cookie;  // "parley_session=..." value only
  std::string csrf;
  std::string last_set_cookie;
  net::Headers extra_headers;

  ClientResponse get(const std::string& path) { return send(Method::get, path, ""); }
  // Form post; `with_csrf` adds the token picked from the last page.
  ClientResponse post(const std::string& path, std::string form = "", bool with_csrf = true,
                      net::Headers headers = {}) {
    if (with_csrf) form = "csrf=" + net::percent_encode(csrf) + (form.empty() ? "" : "&" + form);
    return send(Method::post, path, form, std::move(headers));
  }

  ClientResponse send(Method m, const std::string& path, std::string body, net::Headers headers = {}) {
    net::ClientRequest r{.method = m, .url = server_->url(path)};
    r.headers = std::move(headers);
    for (auto& h : extra_headers) r.headers.push_back(h);
    if (!cookie.empty()) r.headers.push_back({"Cookie", "parley_session=" + cookie});
    if (m == Method::post) {
      r.body = std::move(body);
      r.content_type = "application/x-www-form-urlencoded";
    }
    ClientResponse res = net::run_blocking(loop_, client_.request(std::move(r)));
    absorb(res.headers, res.body);
    return res;
  }

  // POST with Accept: text/event-stream; reads the whole stream. `on_event` may act mid-stream
  // (return false to drop the connection there).
  SseResult post_stream(const std::string& path, std::string form,
                        std::function<bool(const net::SseEvent&)> on_event = {}) {
    form = "csrf=" + net::percent_encode(csrf) + "&" + form;
    net::ClientRequest r{.method = Method::post, .url = server_->url(path), .body = form,
                         .content_type = "application/x-www-form-urlencoded"};
    r.headers = {{"Accept", "text/event-stream"}, {"Cookie", "parley_session=" + cookie}};
    auto work = [](net::HttpClient& client, net::ClientRequest req,
                   std::function<bool(const net::SseEvent&)> cb) -> boost::asio::awaitable<SseResult> {
      SseResult result;
      auto body = co_await client.stream(std::move(req));
      result.status = body->status();
      result.content_type = std::string(body->header("Content-Type"));
      if (result.status != 200) {
        result.text = co_await body->read_all();
        co_return result;
      }
      net::SseParser parser;
      bool keep = true;
      while (keep) {
        auto piece = co_await body->read_some();
        if (!piece) break;
        parser.feed(*piece, [&](const net::SseEvent& e) {
          result.events.push_back(e);
          if (e.event == "piece") result.text += e.data;
          if (keep && cb && !cb(e)) keep = false;
        });
      }
      co_return result;
    };
    return net::run_blocking(loop_, work(client_, std::move(r), std::move(on_event)));
  }

  // Loads a page and remembers its CSRF token.
  ClientResponse page(const std::string& path) {
    ClientResponse res = get(path);
    static const std::regex token(R"re(name="csrf" value="([^"]+)")re");
    std::smatch m;
    if (std::regex_search(res.body, m, token)) csrf = m[1];
    return res;
  }

 private:
  void absorb(const net::Headers& headers, const std::string&) {
    for (const auto& h : headers) {
      if (!net::iequals(h.name, "Set-Cookie")) continue;
      last_set_cookie = h.value;
      auto eq = h.value.find('=');
      auto semi = h.value.find(';');
      cookie = h.value.substr(eq + 1, semi - eq - 1);
    }
  }

  net::EventLoop& loop_;
  net::HttpClient& client_;
  const UiServer* server_;
};

inline std::string chat_id_from_location(std::string_view location) {
  auto pos = location.find("/chats/");
  if (pos == std::string_view::npos) return "";
  return std::string(location.substr(pos + 7, 37));
}

struct UiFixture : ::testing::Test {
  TempDir dir{"parley-ui-test"};
  net::EventLoop loop{2};
  std::unique_ptr<store::sqlite::SqliteChatStore> store;
  ScriptedGenerator generator;
  std::unique_ptr<UiServer> server;
  std::unique_ptr<net::HttpClient> client;
  std::unique_ptr<Browser> browser;

  static constexpr const char* kSecret = "test-secret-key-0123456789abcdef";

  void SetUp() override {
    store = std::make_unique<store::sqlite::SqliteChatStore>(dir.file("chats.db"));
    loop.start();
    client = std::make_unique<net::HttpClient>(loop);
  }
  void start(ui::UiOptions options = {}) {
    server = std::make_unique<UiServer>(loop, *store, generator, kSecret, std::move(options));
    browser = std::make_unique<Browser>(loop, *client, server.get());
  }
  void TearDown() override {
    browser.reset();
    server.reset();
    client.reset();
    loop.stop();
  }

  // A new chat of `b`; returns its id.
  std::string new_chat(Browser& b) {
    b.page("/");
    auto res = b.post("/chats");
    EXPECT_EQ(res.status, 303);
    std::string id = chat_id_from_location(res.header("Location"));
    b.page("/chats/" + id);
    return id;
  }

  // co_spawn's completion needs a default-constructible value: carry T in an optional.
  template <typename T>
  T run(boost::asio::awaitable<T> aw) {
    auto wrapped = [](boost::asio::awaitable<T> inner) -> boost::asio::awaitable<std::optional<T>> {
      co_return std::optional<T>(co_await std::move(inner));
    };
    return std::move(*net::run_blocking(loop, wrapped(std::move(aw))));
  }
};

}  // namespace parley::test
