// The real `parley db-api` binary (PARLEY_BINARY) as a process: refuses to start without a
// service token, serves on SQLite and on a throwaway PostgreSQL, answers 503 and fails /readyz
// while PostgreSQL is down and recovers by itself, exits 0 on SIGTERM. The ChatStore contract
// suite also runs here against the HTTP client talking to a db-api process on PostgreSQL.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "net/client.hpp"
#include "net/event_loop.hpp"
#include "store/dbapi_client.hpp"
#include "support/chat_store_contract.hpp"
#include "support/child_process.hpp"
#include "support/free_port.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"

namespace parley::test {
namespace {

constexpr const char* kToken = "process-test-token-abcdef0123456789";

// A db-api process on a free port; waits until /readyz answers 200.
class DbApiProcess {
 public:
  DbApiProcess(std::vector<std::string> extra_args, std::map<std::string, std::optional<std::string>> env = {})
      : port_(free_port()) {
    std::vector<std::string> args = {PARLEY_BINARY, "db-api", "--port", std::to_string(port_), "--threads", "2"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    env.emplace("PARLEY_SERVICE_TOKEN", kToken);
    process_ = std::make_unique<ChildProcess>(args, env, dir_.file("dbapi.log"));
    loop_.start();
    client_ = std::make_unique<net::HttpClient>(loop_);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto code = process_->poll()) throw std::runtime_error("db-api exited with " + std::to_string(*code) + ": " + process_->log());
      try {
        if (get("/readyz").status == 200) return;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("db-api did not become ready: " + process_->log());
  }
  ~DbApiProcess() {
    client_.reset();
    loop_.stop();
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  net::HttpClient& client() { return *client_; }
  net::EventLoop& loop() { return loop_; }
  ChildProcess& process() { return *process_; }

  net::ClientResponse request(net::Method method, const std::string& path, const std::string& body = "") {
    net::ClientRequest req{.method = method, .url = base_url() + path};
    req.headers = {{"Authorization", std::string("Bearer ") + kToken}, {"X-Parley-Owner", "proc-owner"}};
    if (!body.empty()) {
      req.body = body;
      req.content_type = "application/json";
    }
    return run_on(loop_.context(), client_->request(std::move(req)));
  }
  net::ClientResponse get(const std::string& path) { return request(net::Method::get, path); }

 private:
  TempDir dir_{"parley-dbapi-proc"};
  uint16_t port_;
  std::unique_ptr<ChildProcess> process_;
  net::EventLoop loop_{1};
  std::unique_ptr<net::HttpClient> client_;
};

TEST(DbApiProcess, RefusesToStartWithoutAServiceTokenAndSaysWhy) {
  TempDir dir;
  for (std::optional<std::string> token : {std::optional<std::string>(), std::optional<std::string>("")}) {
    ChildProcess p({PARLEY_BINARY, "db-api", "--port", std::to_string(free_port()), "--database",
                    "sqlite:" + dir.file("x.db")},
                   {{"PARLEY_SERVICE_TOKEN", token}}, dir.file("out.log"));
    auto code = p.wait(std::chrono::seconds(20));
    ASSERT_TRUE(code.has_value()) << "db-api started without a token";
    EXPECT_NE(*code, 0);
    EXPECT_NE(p.log().find("PARLEY_SERVICE_TOKEN"), std::string::npos) << p.log();
  }
}

TEST(DbApiProcess, RejectsAnUnknownDatabase) {
  TempDir dir;
  ChildProcess p({PARLEY_BINARY, "db-api", "--port", std::to_string(free_port()), "--database", "mysql://x"},
                 {{"PARLEY_SERVICE_TOKEN", "t"}}, dir.file("out.log"));
  auto code = p.wait(std::chrono::seconds(20));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_NE(p.log().find("unknown database"), std::string::npos) << p.log();
}

void exercise(DbApiProcess& api) {
  auto created = api.request(net::Method::post, "/v1/chats", R"({"title":"process"})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id(boost::json::parse(created.body).at("id").as_string());
  auto posted = api.request(net::Method::post, "/v1/chats/" + id + "/messages", R"({"role":"user","content":"hi"})");
  ASSERT_EQ(posted.status, 201) << posted.body;
  auto got = api.get("/v1/chats/" + id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(boost::json::parse(got.body).at("messages").as_array().size(), 1u);
  EXPECT_EQ(api.get("/v1/chats/" + id).header("Content-Type"), "application/json");
  auto metrics = api.get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("parley_http_requests_total"), std::string::npos);
}

TEST(DbApiProcess, ServesOnSqliteAndExitsCleanlyOnSigterm) {
  TempDir dir;
  auto api = std::make_unique<DbApiProcess>(std::vector<std::string>{"--database", "sqlite:" + dir.file("chats.db")});
  exercise(*api);
  auto code = api->process().stop(SIGTERM);
  ASSERT_TRUE(code.has_value()) << "no exit after SIGTERM";
  EXPECT_EQ(*code, 0) << api->process().log();
}

TEST(DbApiProcess, ServesOnPostgresFromTheOriginalEnvironmentVariables) {
  auto& pg = shared_postgres();
  pg.create_database("proc_env");
  DbApiProcess api({}, {{"POSTGRES_HOST", "127.0.0.1"},
                        {"POSTGRES_PORT", std::to_string(pg.port())},
                        {"POSTGRES_USERNAME", "parley"},
                        {"POSTGRES_PASSWORD", "unused-with-trust"},
                        {"POSTGRES_DATABASE", "proc_env"}});
  exercise(api);
  EXPECT_EQ(api.process().stop(SIGTERM), std::optional<int>(0));
}

TEST(DbApiProcess, PostgresDownIs503AndRecoversByItself) {
  PostgresServer pg;
  std::string url = pg.create_database("proc_restart");
  DbApiProcess api({"--database", url});
  auto created = api.request(net::Method::post, "/v1/chats", R"({"title":"survivor"})");
  ASSERT_EQ(created.status, 201);
  std::string id(boost::json::parse(created.body).at("id").as_string());

  pg.stop();
  auto ready = api.get("/readyz");
  EXPECT_EQ(ready.status, 503);
  auto down = api.get("/v1/chats/" + id);
  EXPECT_EQ(down.status, 503);
  auto err = boost::json::parse(down.body).at("error").as_object();
  EXPECT_EQ(err.at("code"), "unavailable");
  EXPECT_EQ(down.body.find("PQ"), std::string::npos);  // nothing internal leaks
  EXPECT_EQ(down.body.find("5432"), std::string::npos);
  auto post = api.request(net::Method::post, "/v1/chats/" + id + "/messages", R"({"role":"user","content":"x"})");
  EXPECT_EQ(post.status, 503);

  pg.start();
  auto up = api.get("/v1/chats/" + id);
  ASSERT_EQ(up.status, 200) << up.body;
  EXPECT_EQ(boost::json::parse(up.body).at("title"), "survivor");
  EXPECT_EQ(api.get("/readyz").status, 200);
  EXPECT_TRUE(boost::json::parse(api.get("/v1/chats/" + id).body).at("messages").as_array().empty());
}

// The contract suite through the HTTP client, against a db-api process on PostgreSQL.
std::shared_ptr<store::ChatStore> make_process_client(AsyncRunner&) {
  static std::shared_ptr<DbApiProcess> api = [] {
    std::string url = shared_postgres().create_database("proc_contract");
    return std::make_shared<DbApiProcess>(std::vector<std::string>{"--database", url});
  }();
  auto client = std::make_shared<store::DbApiChatStore>(
      api->client(), store::DbApiClientOptions{.base_url = api->base_url(), .service_token = kToken});
  return client;
}

INSTANTIATE_TEST_SUITE_P(DbApiProcessPostgres, ChatStoreContract,
                         testing::Values(ContractBackend{"dbapi_process_postgres", make_process_client}),
                         [](const testing::TestParamInfo<ContractBackend>& info) { return info.param.name; });

}  // namespace
}  // namespace parley::test
