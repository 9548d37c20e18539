// db-api's ETag / If-None-Match on GET /v1/chats/{id} and its cache of rendered chats: a chat is
// served from memory only after the database confirmed its version, so a write acknowledged by
// one replica is seen by the next read on any other replica (each with its own cache), and the
// UI-side client (DbApiChatStore, which keeps parsed chats and sends If-None-Match) too.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>

#include "services/dbapi_fixture.hpp"
#include "store/dbapi_client.hpp"
#include "store/postgres/pg_chat_store.hpp"
#include "support/postgres_server.hpp"

namespace parley::test {
namespace {

using net::Method;

std::string chat_path(const std::string& id) { return "/v1/chats/" + id; }

std::string create_chat(LiveDbApi& api, const std::string& owner = "alice") {
  auto r = api.request(Method::post, "/v1/chats", R"({"title":"t"})", owner);
  EXPECT_EQ(r.status, 201) << r.body;
  return std::string(body_json(r).at("id").as_string());
}

std::string post(LiveDbApi& api, const std::string& chat, const std::string& content) {
  auto r = api.request(Method::post, chat_path(chat) + "/messages",
                       R"({"role":"user","content":")" + content + R"("})");
  EXPECT_EQ(r.status, 201) << r.body;
  return std::string(body_json(r).at("id").as_string());
}

net::Headers if_none_match(std::string_view etag) { return {{"If-None-Match", std::string(etag)}}; }

TEST(DbApiCache, EtagThen304UntilTheChatChanges) {
  LiveDbApi api;
  std::string chat = create_chat(api);
  auto first = api.request(Method::get, chat_path(chat));
  ASSERT_EQ(first.status, 200) << first.body;
  std::string etag(first.header("ETag"));
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(etag, "\"" + std::to_string(body_json(first).at("version").as_int64()) + "\"");

  auto same = api.request(Method::get, chat_path(chat), "", "alice", std::string(LiveDbApi::kToken),
                          if_none_match(etag));
  EXPECT_EQ(same.status, 304);
  EXPECT_TRUE(same.body.empty());
  EXPECT_EQ(same.header("ETag"), etag);
  auto weak = api.request(Method::get, chat_path(chat), "", "alice", std::string(LiveDbApi::kToken),
                          if_none_match("W/" + etag));
  EXPECT_EQ(weak.status, 304);

  post(api, chat, "hello");
  auto changed = api.request(Method::get, chat_path(chat), "", "alice", std::string(LiveDbApi::kToken),
                             if_none_match(etag));
  ASSERT_EQ(changed.status, 200);
  EXPECT_NE(changed.header("ETag"), etag);
  EXPECT_EQ(body_json(changed).at("messages").as_array().size(), 1u);

  // Without If-None-Match: the body, the same as before (now from the rendered copy).
  auto again = api.request(Method::get, chat_path(chat));
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.body, changed.body);

  // Another owner gets 404 whatever it presents; so does a deleted chat.
  auto theirs = api.request(Method::get, chat_path(chat), "", "mallory", std::string(LiveDbApi::kToken),
                            if_none_match(changed.header("ETag")));
  EXPECT_EQ(theirs.status, 404);
  EXPECT_EQ(error_code(theirs), "not_found");
  for (std::string_view junk : {"\"x\"", "*", "\"-3\"", "\"", ""}) {
    auto r = api.request(Method::get, chat_path(chat), "", "alice", std::string(LiveDbApi::kToken),
                         if_none_match(junk));
    EXPECT_EQ(r.status, 200) << junk;
  }
  ASSERT_EQ(api.request(Method::delete_, chat_path(chat)).status, 204);
  auto gone = api.request(Method::get, chat_path(chat), "", "alice", std::string(LiveDbApi::kToken),
                          if_none_match(changed.header("ETag")));
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(api.request(Method::get, chat_path(chat)).status, 404);
}

std::unique_ptr<store::ChatStore> postgres_on(const std::string& url, net::EventLoop& loop) {
  return std::make_unique<store::postgres::PostgresChatStore>(loop.context().get_executor(),
                                                              store::postgres::PostgresOptions{.conninfo = url,
                                                                                              .pool_size = 2});
}

// Two db-api replicas on one PostgreSQL database; every write goes through B, every read through A
// (whose cache holds the chat as it was before the write), and through a UI-side client of A.
TEST(DbApiCache, ReplicasOnOneDatabaseNeverServeAStaleChat) {
  std::string url = shared_postgres().create_database("dbapi_replicas");
  store::postgres::migrate_postgres(url);
  LiveDbApi a([&](net::EventLoop& loop) { return postgres_on(url, loop); });
  LiveDbApi b([&](net::EventLoop& loop) { return postgres_on(url, loop); });
  store::DbApiChatStore ui_client(a.client(),
                                  {.base_url = a.base_url(), .service_token = LiveDbApi::kToken});
  auto ui_read = [&](const std::string& chat) {
    auto r = run_on(a.loop().context(), ui_client.get_chat("alice", chat));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.value() : store::ChatWithMessages{};
  };
  auto read_a = [&](const std::string& chat) {
    auto r = a.request(Method::get, chat_path(chat));
    EXPECT_EQ(r.status, 200) << r.body;
    return body_json(r);
  };

  std::string chat = create_chat(b);
  EXPECT_EQ(read_a(chat).at("messages").as_array().size(), 0u);
  EXPECT_EQ(ui_read(chat).messages.size(), 0u);
  for (int i = 0; i < 3; ++i) {  // the reads fill both caches; each write must show at once
    post(b, chat, "m" + std::to_string(i));
    EXPECT_EQ(read_a(chat).at("messages").as_array().size(), static_cast<size_t>(i + 1));
    auto seen = ui_read(chat);
    ASSERT_EQ(seen.messages.size(), static_cast<size_t>(i + 1));
    EXPECT_EQ(seen.messages.back().content, "m" + std::to_string(i));
    EXPECT_EQ(ui_read(chat).version, seen.version);  // unchanged: answered by a 304
  }
  std::string mid = post(b, chat, "draft");
  read_a(chat);
  ui_read(chat);
  auto patched = b.request(Method::patch, chat_path(chat) + "/messages/" + mid, R"({"content":"final"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(read_a(chat).at("messages").as_array().back().at("content").as_string(), "final");
  EXPECT_EQ(ui_read(chat).messages.back().content, "final");

  auto renamed = b.request(Method::patch, chat_path(chat), R"({"title":"renamed"})");
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(read_a(chat).at("title").as_string(), "renamed");
  EXPECT_EQ(ui_read(chat).chat.title, "renamed");

  ASSERT_EQ(b.request(Method::delete_, chat_path(chat)).status, 204);
  EXPECT_EQ(a.request(Method::get, chat_path(chat)).status, 404);
  auto gone = run_on(a.loop().context(), ui_client.get_chat("alice", chat));
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::not_found);
  EXPECT_GE(ui_client.version_checks().second, 8);  // the cached reads went through POST /v1/chat-versions
}

// Pages read at the same moment share version-check requests (one POST /v1/chat-versions for many
// chats and owners), and each read still gets its own chat as it is now: after a write, the next
// read has it; another owner's chat is not_found.
TEST(DbApiCache, ConcurrentUiReadsShareVersionChecksAndStayExact) {
  std::string url = shared_postgres().create_database("dbapi_ui_batch");
  store::postgres::migrate_postgres(url);
  LiveDbApi api([&](net::EventLoop& loop) { return postgres_on(url, loop); });
  store::DbApiChatStore ui(api.client(), {.base_url = api.base_url(), .service_token = LiveDbApi::kToken});
  std::vector<std::string> chats, owners;
  for (int i = 0; i < 6; ++i) {
    owners.push_back(i % 2 ? "bob" : "alice");
    chats.push_back(create_chat(api, owners.back()));
    ASSERT_EQ(api.request(Method::post, chat_path(chats.back()) + "/messages",
                          R"({"role":"user","content":"c)" + std::to_string(i) + R"("})", owners.back()).status, 201);
    ASSERT_TRUE(run_on(api.loop().context(), ui.get_chat(owners.back(), chats.back())).ok());  // cached
  }
  ASSERT_EQ(api.request(Method::post, chat_path(chats[2]) + "/messages", R"({"role":"assistant","content":"new"})",
                        owners[2]).status, 201);
  const int kReads = 240;
  std::atomic<int> right{0}, wrong{0}, left{kReads};
  auto before = ui.version_checks();
  run_on(api.loop().context(), [&]() -> boost::asio::awaitable<int> {
    auto ex = co_await boost::asio::this_coro::executor;
    for (int i = 0; i < kReads; ++i) {
      boost::asio::co_spawn(ex, [&, i]() -> boost::asio::awaitable<void> {
        size_t c = static_cast<size_t>(i % 6);
        bool intruder = i % 7 == 0;  // asks for the chat as the other owner
        std::string owner = owners[c];
        if (intruder) owner = owner == "bob" ? "alice" : "bob";  // named: g++ 12 mishandles temporaries in co_await
        auto r = co_await ui.get_chat(owner, chats[c]);
        bool ok = intruder ? (!r.ok() && r.error().code == ErrorCode::not_found)
                           : (r.ok() && r->messages.size() == (c == 2 ? 2u : 1u) &&
                              r->messages[0].content == "c" + std::to_string(c));
        ++(ok ? right : wrong);
        --left;
      }, boost::asio::detached);
    }
    boost::asio::steady_timer t(ex);
    while (left > 0) {
      t.expires_after(std::chrono::milliseconds(2));
      co_await t.async_wait(boost::asio::use_awaitable);
    }
    co_return 0;
  }());
  auto after = ui.version_checks();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(right.load(), kReads);
  EXPECT_GT(after.second - before.second, kReads / 2);  // the cached ones were checked in batches
  EXPECT_LT(after.first - before.first, (after.second - before.second) / 4);
}

// A db-api from before POST /v1/chat-versions (it answers that route 404): the UI's client keeps its
// cache correct by sending If-None-Match with each read instead, and stops asking for the route.
// Here an "old db-api" is a server with GET /v1/chats/{id} only, passing each read to a live db-api.
TEST(DbApiCache, ClientFallsBackToIfNoneMatchWhenDbApiLacksTheVersionsRoute) {
  LiveDbApi api;
  std::atomic<int> reads{0}, conditional{0}, not_modified{0};
  net::Router router;
  router.get("/v1/chats/{id}", [&](net::Request& req) -> boost::asio::awaitable<net::Response> {
    ++reads;
    net::Headers extra;
    if (req.has_header("If-None-Match")) {
      ++conditional;
      extra.push_back({"If-None-Match", std::string(req.header("If-None-Match"))});
    }
    net::ClientRequest forward;
    forward.url = api.base_url() + chat_path(std::string(req.param("id")));
    forward.headers = {{"Authorization", std::string(req.header("Authorization"))},
                       {"X-Parley-Owner", std::string(req.header("X-Parley-Owner"))}};
    for (auto& h : extra) forward.headers.push_back(std::move(h));
    net::ClientResponse r = co_await api.client().request(std::move(forward));
    if (r.status == 304) ++not_modified;
    net::Response out = net::Response::json(r.status, r.body);
    if (r.status == 304) out.content_type.clear();
    if (auto etag = r.header("ETag"); !etag.empty()) out.set_header("ETag", std::string(etag));
    co_return out;
  });
  net::ServerOptions options;
  options.name = "old-db-api";
  options.builtin_endpoints = false;
  net::Server old_api(api.loop(), options, std::move(router));
  uint16_t port = old_api.start();
  store::DbApiChatStore ui(api.client(), {.base_url = "http://127.0.0.1:" + std::to_string(port),
                                          .service_token = LiveDbApi::kToken});
  auto ui_read = [&](const std::string& chat) {
    auto r = run_on(api.loop().context(), ui.get_chat("alice", chat));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.value() : store::ChatWithMessages{};
  };

  std::string chat = create_chat(api);
  post(api, chat, "first");
  EXPECT_EQ(ui_read(chat).messages.size(), 1u);  // a plain read fills the cache
  EXPECT_EQ(reads.load(), 1);
  EXPECT_EQ(conditional.load(), 0);

  // Cached: the version check answers 404, so the read goes out with If-None-Match and gets a 304.
  auto cached = ui_read(chat);
  ASSERT_EQ(cached.messages.size(), 1u);
  EXPECT_EQ(cached.messages[0].content, "first");
  EXPECT_EQ(reads.load(), 2);
  EXPECT_EQ(conditional.load(), 1);
  EXPECT_EQ(not_modified.load(), 1);
  auto asked = ui.version_checks().first;

  // From then on no more version checks; each read is conditional and a write shows at once.
  EXPECT_EQ(ui_read(chat).messages.size(), 1u);
  post(api, chat, "second");
  auto changed = ui_read(chat);
  ASSERT_EQ(changed.messages.size(), 2u);
  EXPECT_EQ(changed.messages[1].content, "second");
  EXPECT_EQ(ui.version_checks().first, asked);
  EXPECT_EQ(reads.load(), 4);
  EXPECT_EQ(conditional.load(), 3);
  EXPECT_EQ(not_modified.load(), 2);

  // Another owner still gets not_found through the fallback.
  auto theirs = run_on(api.loop().context(), ui.get_chat("mallory", chat));
  ASSERT_FALSE(theirs.ok());
  EXPECT_EQ(theirs.error().code, ErrorCode::not_found);
  old_api.shutdown();
  old_api.wait_drained();
}

}  // namespace
}  // namespace parley::test
