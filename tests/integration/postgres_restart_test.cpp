// PostgreSQL restarted under load, with a real `parley db-api` process: writers keep posting
// messages with an idempotency key (client_key) and retry on 503 and on connection errors with the
// same key; after PostgreSQL is back, every acknowledged message is stored exactly once, and every
// message is stored at most once.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <boost/json.hpp>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/postgres_server.hpp"
#include "support/service_process.hpp"

namespace parley::test {
namespace {

constexpr const char* kToken = "pg-restart-test-token-0123456789abcdef";

net::ClientRequest dbapi_request(const ServiceProcess& api, net::Method method, const std::string& path,
                                 const std::string& body = "") {
  net::ClientRequest r{.method = method, .url = api.url(path)};
  r.header("Authorization", std::string("Bearer ") + kToken).header("X-Parley-Owner", "restart-owner");
  if (!body.empty()) {
    r.body = body;
    r.content_type = "application/json";
  }
  return r;
}

struct WriterStats {
  std::atomic<int> unavailable{0}, connection_errors{0}, replays{0};
};

// Posts messages to `chat` until `stop`, each retried with its key until acknowledged (throws when
// one is not acknowledged within 40 s). Returns the keys acknowledged; `count` follows them.
std::vector<std::string> write_messages(TestHttp& http, const ServiceProcess& api, const std::string& chat,
                                        int writer, WriterStats& stats, std::atomic<int>& count,
                                        const std::atomic<bool>& stop) {
  std::vector<std::string> acked;
  for (int i = 0; !stop && i < 100000; ++i) {
    std::string key = std::string("w").append(std::to_string(writer)).append("-m").append(std::to_string(i));
    boost::json::object m{{"role", "user"}, {"content", "message " + key}, {"client_key", key}};
    std::string body = boost::json::serialize(m);
    auto deadline = Clock::now() + std::chrono::seconds(40);
    for (;;) {
      if (Clock::now() > deadline) throw std::runtime_error("message " + key + " not acknowledged in 40 s");
      try {
        auto r = http.request(dbapi_request(api, net::Method::post, "/v1/chats/" + chat + "/messages", body));
        if (r.status == 201 || r.status == 200) {
          if (r.status == 200) ++stats.replays;
          acked.push_back(key);
          ++count;
          break;
        }
        if (r.status != 503)
          throw std::runtime_error("unexpected " + std::to_string(r.status) + ": " + r.body);
        ++stats.unavailable;
      } catch (const net::ClientError&) {
        ++stats.connection_errors;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return acked;
}

// signo: SIGINT (fast shutdown) or SIGQUIT (immediate shutdown: a crash, with recovery at start).
void restart_under_load(int signo) {
  PostgresServer pg;
  if (signo == SIGQUIT) {
    pg.durable_commits = true;  // an acknowledged commit must survive the crash
    pg.stop();
    pg.start();
  }
  std::string url = pg.create_database("restart_load");
  TempDir dir("parley-pg-restart");
  TestHttp http(TestHttp::quick_options(), 2);
  ServiceProcess api("db-api", {"--database", url, "--threads", "2", "--pool-size", "4"},
                     {{"PARLEY_SERVICE_TOKEN", kToken}}, dir);
  api.wait_ready(http);

  constexpr int kWriters = 4;
  std::vector<std::string> chats;
  for (int w = 0; w < kWriters; ++w) {
    auto r = http.request(dbapi_request(api, net::Method::post, "/v1/chats", R"({"title":"load"})"));
    ASSERT_EQ(r.status, 201) << r.body;
    chats.emplace_back(boost::json::parse(r.body).at("id").as_string());
  }

  WriterStats stats;
  std::vector<std::atomic<int>> counts(kWriters);
  std::atomic<bool> stop{false};
  std::vector<std::vector<std::string>> acked(kWriters);
  std::vector<std::string> failures(kWriters);
  std::vector<std::thread> writers;
  // Whatever happens below (an exception included), the writers stop and are joined.
  struct JoinAll {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~JoinAll() {
      stop = true;
      for (auto& t : threads)
        if (t.joinable()) t.join();
    }
  } join_all{stop, writers};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      try {
        acked[w] = write_messages(http, api, chats[w], w, stats, counts[w], stop);
      } catch (const std::exception& e) {
        failures[w] = e.what();
      }
    });
  }
  // Every writer has written a few messages each time `mark` is passed.
  auto all_past = [&](const std::vector<int>& mark) {
    return eventually(
        [&] {
          for (int w = 0; w < kWriters; ++w)
            if (counts[w] < mark[w] + 3) return false;
          return true;
        },
        std::chrono::seconds(30));
  };
  auto counts_now = [&] {
    std::vector<int> c;
    for (auto& n : counts) c.push_back(n.load());
    return c;
  };
  // Restart PostgreSQL while every writer is under way.
  bool under_way = all_past(std::vector<int>(kWriters, 0));
  EXPECT_TRUE(under_way);
  pg.stop(signo);
  // While it is down, db-api says 503 (polled: a request in flight may still have finished).
  EXPECT_TRUE(
      eventually([&] { return http.get(api.url("/readyz")).status == 503; }, std::chrono::seconds(20)));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // writers keep hitting the outage
  std::vector<int> at_restart = counts_now();
  pg.start();
  EXPECT_TRUE(all_past(at_restart)) << "writers did not get going again after the restart";
  stop = true;
  for (auto& t : writers)
    if (t.joinable()) t.join();
  for (const auto& f : failures) EXPECT_EQ(f, "");

  EXPECT_GT(stats.unavailable.load() + stats.connection_errors.load(), 0) << "no writer saw the outage";
  EXPECT_EQ(http.get(api.url("/readyz")).status, 200);
  for (int w = 0; w < kWriters; ++w) {
    EXPECT_GE(acked[w].size(), 6u);  // 3 before the outage and 3 after it, at least
    auto r = http.request(dbapi_request(api, net::Method::get, "/v1/chats/" + chats[w]));
    ASSERT_EQ(r.status, 200) << r.body;
    std::map<std::string, int> stored;
    boost::json::value chat = boost::json::parse(r.body);  // named: the loop below refers into it
    for (const auto& m : chat.at("messages").as_array()) {
      const auto& key = m.at("client_key");
      ASSERT_TRUE(key.is_string()) << boost::json::serialize(m);
      ++stored[std::string(key.as_string())];
    }
    for (const auto& key : acked[w]) EXPECT_EQ(stored[key], 1) << "message " << key;
    for (const auto& [key, n] : stored) EXPECT_EQ(n, 1) << "duplicated: " << key;
    EXPECT_EQ(stored.size(), acked[w].size());
  }
  testing::Test::RecordProperty("unavailable_answers", stats.unavailable.load());
  testing::Test::RecordProperty("connection_errors", stats.connection_errors.load());
  testing::Test::RecordProperty("replayed_keys", stats.replays.load());
  EXPECT_EQ(api.process().stop(SIGTERM, std::chrono::seconds(30)), std::optional<int>(0)) << api.log();
}

TEST(PostgresRestart, AcknowledgedMessagesAreStoredExactlyOnceAcrossARestartUnderLoad) {
  restart_under_load(SIGINT);
}

TEST(PostgresRestart, AcknowledgedMessagesAreStoredExactlyOnceAcrossACrashUnderLoad) {
  restart_under_load(SIGQUIT);
}

}  // namespace
}  // namespace parley::test
