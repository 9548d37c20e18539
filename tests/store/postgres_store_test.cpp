// PostgreSQL-specific behaviour on a real server started by the test: migrations (fresh, already
// migrated, replicas at once), schema, unavailable while the server is down and recovery after
// it restarts, configuration from the environment.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <regex>
#include <thread>

#include <libpq-fe.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "store/postgres/pg_chat_store.hpp"
#include "store/postgres/pg_pool.hpp"
#include "store/postgres/pg_statements.hpp"
#include "support/async_runner.hpp"
#include "support/postgres_server.hpp"

namespace parley::store::postgres {
namespace {

using test::AsyncRunner;
using test::PostgresServer;
using test::shared_postgres;

int count_migrations(const std::string& url) {
  return std::stoi(PostgresServer::execute(url, "SELECT count(*) FROM schema_migrations"));
}

TEST(PostgresStore, MigratesAFreshDatabaseThenFindsItMigrated) {
  std::string url = shared_postgres().create_database("migrate_fresh");
  auto first = migrate_postgres(url);
  EXPECT_EQ(first.version_before, 0);
  EXPECT_EQ(first.applied, static_cast<int>(postgres_migrations().size()));
  auto second = migrate_postgres(url);
  EXPECT_EQ(second.version_before, first.version_after);
  EXPECT_EQ(second.applied, 0);
  EXPECT_EQ(count_migrations(url), static_cast<int>(postgres_migrations().size()));
}

TEST(PostgresStore, ReplicasStartingAtOnceApplyEachMigrationOnce) {
  std::string url = shared_postgres().create_database("migrate_race");
  constexpr int kReplicas = 6;
  std::atomic<int> applied{0}, failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kReplicas; ++i)
    threads.emplace_back([&] {
      try {
        applied += migrate_postgres(url).applied;
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        ++failures;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(applied.load(), static_cast<int>(postgres_migrations().size()));
  EXPECT_EQ(count_migrations(url), static_cast<int>(postgres_migrations().size()));
}

TEST(PostgresStore, NoIndexCoversMessageContent) {
  std::string url = shared_postgres().create_database("schema_check");
  migrate_postgres(url);
  std::string n = PostgresServer::execute(
      url, "SELECT count(*) FROM pg_indexes WHERE tablename = 'messages' AND indexdef LIKE '%content%'");
  EXPECT_EQ(n, "0");
  std::string total = PostgresServer::execute(url, "SELECT count(*) FROM pg_indexes WHERE tablename = 'messages'");
  EXPECT_GE(std::stoi(total), 2);
}

TEST(PostgresStore, UnreachableServerIsUnavailable) {
  AsyncRunner rt;
  PostgresChatStore store(rt.executor(),
                          {.conninfo = "postgresql://parley@127.0.0.1:" + std::to_string(test::free_port()) + "/x",
                           .connect_timeout = std::chrono::milliseconds(2000)});
  auto ready = rt.run(store.check_ready());
  ASSERT_FALSE(ready.ok());
  EXPECT_EQ(ready.error().code, ErrorCode::unavailable);
  auto chat = rt.run(store.create_chat("me", {}));
  ASSERT_FALSE(chat.ok());
  EXPECT_EQ(chat.error().code, ErrorCode::unavailable);
  EXPECT_EQ(chat.error().message, "database unavailable");  // nothing internal leaks
}

// Its own server: stopping the shared one would disturb other tests.
TEST(PostgresStore, UnavailableWhileDownAndRecoversAfterRestart) {
  PostgresServer pg;
  std::string url = pg.create_database("restart");
  migrate_postgres(url);
  AsyncRunner rt;
  PostgresChatStore store(rt.executor(), {.conninfo = url, .pool_size = 4});
  auto chat = rt.run(store.create_chat("me", {.title = "survives"}));
  ASSERT_TRUE(chat.ok()) << chat.error().message;
  // Warm every pooled connection, so that all of them are stale after the restart.
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(rt.run(store.get_chat("me", chat->id)).ok());

  pg.stop();
  auto down = rt.run(store.get_chat("me", chat->id));
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code, ErrorCode::unavailable);
  auto ready = rt.run(store.check_ready());
  ASSERT_FALSE(ready.ok());
  EXPECT_EQ(ready.error().code, ErrorCode::unavailable);

  pg.start();
  // The first request after the restart must succeed: stale connections are noticed and replaced.
  auto up = rt.run(store.get_chat("me", chat->id));
  ASSERT_TRUE(up.ok()) << up.error().message;
  EXPECT_EQ(up->chat.title, "survives");
  for (int i = 0; i < 8; ++i) {
    auto r = rt.run(store.append_message("me", chat->id, {Role::user, "after restart " + std::to_string(i)}));
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  EXPECT_TRUE(rt.run(store.check_ready()).ok());
}

// A blocking libpq session for a test to hold a transaction open across steps.
class RawSession {
 public:
  explicit RawSession(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(conn_));
  }
  ~RawSession() { PQfinish(conn_); }
  void exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    auto status = PQresultStatus(r);
    std::string error = PQresultErrorMessage(r);
    PQclear(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw std::runtime_error(sql + ": " + error);
  }

 private:
  PGconn* conn_;
};

// Two db-api replicas (two stores, each its own pool) on one database, and a message whose
// transaction took its number before another message but committed after it. A version made of
// the last message number would miss it (the reader saw the later number already); the version
// must change whenever anything committed, in whatever order.
TEST(PostgresStore, VersionSeesAppendsCommittedOutOfNumberOrder) {
  std::string url = shared_postgres().create_database("versions_order");
  migrate_postgres(url);
  AsyncRunner rt;
  PostgresChatStore replica_a(rt.executor(), {.conninfo = url, .pool_size = 2});
  PostgresChatStore replica_b(rt.executor(), {.conninfo = url, .pool_size = 2});
  auto chat = rt.run(replica_a.create_chat("me", {.title = "order"}));
  ASSERT_TRUE(chat.ok()) << chat.error().message;
  ASSERT_TRUE(rt.run(replica_a.append_message("me", chat->id, {Role::user, "one"})).ok());

  RawSession slow(url);
  slow.exec("BEGIN");
  slow.exec("INSERT INTO messages (id, chat_number, role, content, status, created_at, prompt_tokens, "
            "completion_tokens, finish_reason) VALUES ('msg_" + std::string(32, 'e') + "', " +
            std::to_string(chat->number) + ", 'user', 'slow'::bytea, 'complete', 0, 0, 0, '')");
  ASSERT_TRUE(rt.run(replica_b.append_message("me", chat->id, {Role::user, "fast"})).ok());

  auto seen = rt.run(replica_a.get_chat("me", chat->id));  // what a cache would keep
  ASSERT_TRUE(seen.ok());
  ASSERT_EQ(seen->messages.size(), 2u);
  EXPECT_EQ(seen->messages.back().content, "fast");
  auto still = rt.run(replica_a.get_chat_if_changed("me", chat->id, seen->version));
  ASSERT_TRUE(still.ok());
  EXPECT_FALSE(still->has_value());

  slow.exec("COMMIT");
  auto after = rt.run(replica_a.get_chat_if_changed("me", chat->id, seen->version));
  ASSERT_TRUE(after.ok()) << after.error().message;
  ASSERT_TRUE(after->has_value()) << "a committed message was reported as not modified";
  ASSERT_EQ((*after)->messages.size(), 3u);
  EXPECT_EQ((*after)->messages[1].content, "slow");  // ordered by number: it was taken first
  EXPECT_EQ((*after)->messages[2].content, "fast");
}

// Concurrent "has it changed?" checks share queries (store/version_batch.hpp) and each still gets the
// answer for its own chat and owner: unchanged, changed (with the chat), another owner's or an
// unknown chat (not found); a check asked after a write sees it.
TEST(PostgresStore, ConcurrentVersionChecksShareQueriesAndStayExact) {
  std::string url = shared_postgres().create_database("version_batch");
  migrate_postgres(url);
  AsyncRunner rt(2);
  PostgresChatStore store(rt.executor(), {.conninfo = url, .pool_size = 4});
  std::vector<ChatWithMessages> chats;
  for (int i = 0; i < 8; ++i) {
    auto c = rt.run(store.create_chat("me", {.title = "c" + std::to_string(i)}));
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(rt.run(store.append_message("me", c->id, {Role::user, "hello " + std::to_string(i)})).ok());
    auto full = rt.run(store.get_chat("me", c->id));
    ASSERT_TRUE(full.ok());
    chats.push_back(*full);
  }
  ASSERT_TRUE(rt.run(store.append_message("me", chats[3].chat.id, {Role::assistant, "changed"})).ok());

  const int kRounds = 25;
  std::atomic<int> unchanged{0}, changed{0}, not_found{0}, wrong{0};
  auto check = [&](int i) -> boost::asio::awaitable<void> {
    const ChatWithMessages& c = chats[static_cast<size_t>(i % 8)];
    const int kind = i % 5;
    std::string owner = kind == 4 ? "someone else" : "me";
    std::string id = kind == 3 ? "chat_" + std::string(32, 'f') : c.chat.id;
    auto r = co_await store.get_chat_if_changed(owner, id, c.version);
    if (kind == 3 || kind == 4) {
      if (!r.ok() && r.error().code == ErrorCode::not_found) ++not_found; else ++wrong;
    } else if (i % 8 == 3) {
      if (r.ok() && r->has_value() && (*r)->messages.size() == 2) ++changed; else ++wrong;
    } else {
      if (r.ok() && !r->has_value()) ++unchanged; else ++wrong;
    }
  };
  auto before = store.version_checks();
  (void)rt.run([&]() -> boost::asio::awaitable<Result<Unit>> {
    std::vector<std::shared_ptr<std::atomic<bool>>> done;
    auto ex = co_await boost::asio::this_coro::executor;
    std::atomic<int> left{8 * kRounds};
    for (int i = 0; i < 8 * kRounds; ++i)
      boost::asio::co_spawn(ex, [&, i]() -> boost::asio::awaitable<void> { co_await check(i); --left; },
                            boost::asio::detached);
    boost::asio::steady_timer t(ex);
    while (left > 0) {
      t.expires_after(std::chrono::milliseconds(5));
      co_await t.async_wait(boost::asio::use_awaitable);
    }
    co_return Unit{};
  }());
  auto after = store.version_checks();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(not_found.load(), 2 * 8 * kRounds / 5);
  EXPECT_GT(changed.load(), 0);
  EXPECT_EQ(unchanged.load() + changed.load(), 3 * 8 * kRounds / 5);
  // Every check was answered by the batcher, with fewer queries than checks.
  EXPECT_EQ(after.second - before.second, 8 * kRounds);
  EXPECT_LT(after.first - before.first, after.second - before.second);

  // A check asked after a write sees it.
  ASSERT_TRUE(rt.run(store.append_message("me", chats[0].chat.id, {Role::assistant, "new"})).ok());
  auto seen = rt.run(store.get_chat_if_changed("me", chats[0].chat.id, chats[0].version));
  ASSERT_TRUE(seen.ok());
  ASSERT_TRUE(seen->has_value());
  EXPECT_EQ((*seen)->messages.back().content, "new");
}

// A pool's session setup runs on every connection it opens (the version checks' pool forces a
// generic plan that way), and on no other pool's connections.
TEST(PostgresStore, PoolSessionSetupAppliesToItsOwnConnectionsOnly) {
  std::string url = shared_postgres().create_database("session_setup");
  migrate_postgres(url);
  AsyncRunner rt;
  auto show = [&](PgPool& pool) {
    return rt.run([&]() -> boost::asio::awaitable<std::string> {
      auto lease = co_await pool.acquire();
      PgResult r = co_await lease->exec("SHOW plan_cache_mode");
      co_return r.text(0, 0);
    }());
  };
  PgPool forced(rt.executor(), url, 1, version_check_statements(), std::chrono::milliseconds(5000),
                kVersionSessionSetup);
  PgPool plain(rt.executor(), url, 1, chat_store_statements(), std::chrono::milliseconds(5000));
  EXPECT_EQ(show(forced), "force_generic_plan");
  EXPECT_EQ(show(plain), "auto");
  EXPECT_EQ(show(forced), "force_generic_plan");  // the reused connection keeps it
  PgPool store_pool(rt.executor(), url, 1, chat_store_statements(), std::chrono::milliseconds(5000), kSessionSetup);
  EXPECT_EQ(rt.run([&]() -> boost::asio::awaitable<std::string> {
              auto lease = co_await store_pool.acquire();
              co_return (co_await lease->exec("SHOW enable_seqscan")).text(0, 0);
            }()),
            "off");

  // A setup the server rejects is an error with its sqlstate, and the slot is not lost.
  PgPool bad(rt.executor(), url, 1, {}, std::chrono::milliseconds(5000), "SET no_such_setting = 1");
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      show(bad);
      ADD_FAILURE() << "a rejected session setup was ignored";
    } catch (const PgError& e) {
      EXPECT_FALSE(e.sqlstate().empty()) << e.what();
    }
  }
}

// The plan of every statement, generic and custom, on a database where one chat holds almost every
// message and the statistics say so: none may read the whole messages table (before migration 3,
// reading any chat did: 66 ms instead of 0.1 ms at 110,000 messages, and the db-api benchmark at
// 1,000 connections timed out).
TEST(PostgresStore, NoStatementScansAllMessagesWhenOneChatHoldsThemAll) {
  std::string url = shared_postgres().create_database("skewed_plans");
  migrate_postgres(url);
  PostgresServer::execute(url,
      "INSERT INTO chats (id, owner, title, system_prompt, settings, created_at, updated_at) VALUES "
      "('chat_" + std::string(32, 'a') + "', 'me', '', '', '{}', 0, 0), "
      "('chat_" + std::string(32, 'b') + "', 'me', '', '', '{}', 0, 0)");
  PostgresServer::execute(url,
      "INSERT INTO messages (id, chat_number, role, content, status, created_at, prompt_tokens, completion_tokens, "
      "finish_reason) SELECT 'msg_' || lpad(to_hex(i), 32, '0'), CASE WHEN i <= 3 THEN 2 ELSE 1 END, 'user', "
      "'some text'::bytea, 'complete', i, 0, 0, '' FROM generate_series(1, 30000) i");
  PostgresServer::execute(url, "ANALYZE");
  auto type_name = [](Oid t) { return t == 20 ? "int8" : t == 17 ? "bytea" : "text"; };
  auto value = [](Oid t) { return t == 20 ? "2" : t == 17 ? "'\\x00'::bytea" : "'chat_" + std::string(32, 'b') + "'"; };
  std::vector<PreparedStatement> all(chat_store_statements().begin(), chat_store_statements().end());
  all.insert(all.end(), version_check_statements().begin(), version_check_statements().end());
  const std::regex seq_scan_of_messages(R"("Node Type": "Seq Scan",[^{}]*"Relation Name": "messages")");
  for (const char* mode : {"force_generic_plan", "force_custom_plan"}) {
    for (const PreparedStatement& st : all) {
      std::string types, args;
      for (Oid t : st.param_types) {
        types += std::string(types.empty() ? "" : ", ") + type_name(t);
        args += (args.empty() ? "" : ", ") + value(t);
      }
      std::string plan = PostgresServer::execute(
          url, std::string("SET plan_cache_mode = ") + mode + "; PREPARE s" + (types.empty() ? "" : "(" + types + ")") +
                   " AS " + st.sql + "; EXPLAIN (FORMAT JSON) EXECUTE s" + (args.empty() ? "" : "(" + args + ")"));
      EXPECT_FALSE(std::regex_search(plan, seq_scan_of_messages)) << st.name << " (" << mode << "):\n" << plan;
    }
  }
}

// The plan a statement keeps when it was made on a new, nearly empty database (a generic plan is
// made once and kept until the next ANALYZE; the table then grows under it). With the session
// setup of its pool, no statement reads the whole of a table: without it, append_message's check of
// the client key, get_chat and the version count did, and each post cost O(messages). Nor does one
// read a messages index without its leading column: while no message had a client key (the 20 here
// have none), append_message's generic plan looked the key up by reading messages_by_client_key whole.
TEST(PostgresStore, PlansMadeOnANewDatabaseReadByIndexes) {
  std::string url = shared_postgres().create_database("tiny_plans");
  migrate_postgres(url);
  PostgresServer::execute(url,
      "INSERT INTO chats (id, owner, title, system_prompt, settings, created_at, updated_at) VALUES "
      "('chat_" + std::string(32, 'a') + "', 'me', '', '', '{}', 0, 0)");
  PostgresServer::execute(url,
      "INSERT INTO messages (id, chat_number, role, content, status, created_at, prompt_tokens, completion_tokens, "
      "finish_reason, client_key) SELECT 'msg_' || lpad(to_hex(i), 32, '0'), 1, 'user', 'some text'::bytea, "
      "'complete', i, 0, 0, '', NULL FROM generate_series(1, 20) i");
  auto type_name = [](Oid t) { return t == 20 ? "int8" : t == 17 ? "bytea" : "text"; };
  auto value = [](Oid t) { return t == 20 ? "1" : t == 17 ? "'\\x00'::bytea" : "'chat_" + std::string(32, 'a') + "'"; };
  const std::regex seq_scan(R"re("Node Type": "Seq Scan",[^{}]*"Relation Name": "(messages|chats)")re");
  // An index on messages read without its leading column (chat_number) is read whole: as slow as a
  // sequential scan, and growing with the table the same way.
  const std::regex whole_index(
      R"re("Index Name": "messages_by_(chat|client_key)",[^{}]*"Index Cond": "(?![^"]*chat_number)[^"]*")re");
  struct Pool {
    std::span<const PreparedStatement> statements;
    const char* setup;
  };
  for (const Pool& pool : {Pool{chat_store_statements(), kSessionSetup}, Pool{version_check_statements(), kVersionSessionSetup}}) {
    for (const PreparedStatement& st : pool.statements) {
      std::string types, args;
      for (Oid t : st.param_types) {
        types += std::string(types.empty() ? "" : ", ") + type_name(t);
        args += (args.empty() ? "" : ", ") + value(t);
      }
      std::string plan = PostgresServer::execute(
          url, std::string(pool.setup) + "; SET plan_cache_mode = force_generic_plan; PREPARE s" +
                   (types.empty() ? "" : "(" + types + ")") + " AS " + st.sql + "; EXPLAIN (FORMAT JSON) EXECUTE s" +
                   (args.empty() ? "" : "(" + args + ")"));
      EXPECT_FALSE(std::regex_search(plan, seq_scan)) << st.name << ":\n" << plan;
      EXPECT_FALSE(std::regex_search(plan, whole_index)) << st.name << ":\n" << plan;
    }
  }
}

TEST(PostgresStore, MigratesAVersion1DatabaseKeepingItsChats) {
  std::string url = shared_postgres().create_database("migrate_v1");
  PostgresServer::execute(url, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                               "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
  PostgresServer::execute(url, postgres_migrations()[0].sql);
  PostgresServer::execute(url, "INSERT INTO schema_migrations (version, description) VALUES (1, 'chats and messages')");
  PostgresServer::execute(url, "INSERT INTO chats (id, owner, title, system_prompt, settings, created_at, updated_at) "
                               "VALUES ('chat_" + std::string(32, 'a') + "', 'me', 'old'::bytea, ''::bytea, '{}', 1, 1)");
  auto report = migrate_postgres(url);
  EXPECT_EQ(report.version_before, 1);
  EXPECT_EQ(report.version_after, static_cast<int>(postgres_migrations().size()));
  AsyncRunner rt;
  PostgresChatStore store(rt.executor(), {.conninfo = url, .pool_size = 1});
  auto chat = rt.run(store.get_chat("me", "chat_" + std::string(32, 'a')));
  ASSERT_TRUE(chat.ok()) << chat.error().message;
  EXPECT_EQ(chat->chat.title, "old");
  EXPECT_GT(chat->version, 0);
}

TEST(PostgresStore, ConninfoFromTheOriginalEnvironmentNames) {
  ::unsetenv("POSTGRES_HOST");
  EXPECT_FALSE(conninfo_from_environment().has_value());
  ::setenv("POSTGRES_HOST", "db.internal", 1);
  ::setenv("POSTGRES_PORT", "6543", 1);
  ::unsetenv("POSTGRES_USERNAME");
  ::setenv("POSTGRES_USER", "chat", 1);
  ::setenv("POSTGRES_PASSWORD", "it's secret", 1);
  ::setenv("POSTGRES_DATABASE", "chats", 1);
  auto conninfo = conninfo_from_environment();
  ASSERT_TRUE(conninfo.has_value());
  EXPECT_EQ(*conninfo, "host='db.internal' port='6543' user='chat' password='it\\'s secret' dbname='chats'");
  ::setenv("POSTGRES_USERNAME", "preferred", 1);
  EXPECT_NE(conninfo_from_environment()->find("user='preferred'"), std::string::npos);
  for (const char* name : {"POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_USERNAME", "POSTGRES_PASSWORD",
                           "POSTGRES_DATABASE"})
    ::unsetenv(name);
}

}  // namespace
}  // namespace parley::store::postgres
