// `parley db-api` on SQLite when the disk is full or the directory is read-only (real processes):
// a clear error (a 5xx JSON error with a message, or a refusal to start that says why), and nothing
// corrupted: afterwards the file passes PRAGMA integrity_check and every acknowledged message is in it.
//
// A full disk is simulated with RLIMIT_FSIZE on the db-api process (SIGXFSZ ignored, so a write past
// the limit fails with EFBIG, as on a full file system); this needs no root and no mount. The
// read-only directory runs db-api as `nobody` when the tests run as root (root ignores permissions).
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <filesystem>
#include <set>

#include "support/service_process.hpp"

namespace parley::test {
namespace {

constexpr const char* kToken = "sqlite-disk-test-token-0123456789abcdef";

net::ClientRequest dbapi_request(const ServiceProcess& api, net::Method method, const std::string& path,
                                 const std::string& body = "") {
  net::ClientRequest r{.method = method, .url = api.url(path)};
  r.header("Authorization", std::string("Bearer ") + kToken).header("X-Parley-Owner", "disk-owner");
  if (!body.empty()) {
    r.body = body;
    r.content_type = "application/json";
  }
  return r;
}

std::string create_chat(TestHttp& http, const ServiceProcess& api) {
  auto r = http.request(dbapi_request(api, net::Method::post, "/v1/chats", R"({"title":"disk"})"));
  if (r.status != 201) throw std::runtime_error("create chat: " + std::to_string(r.status) + " " + r.body);
  return std::string(boost::json::parse(r.body).at("id").as_string());
}

net::ClientResponse post_message(TestHttp& http, const ServiceProcess& api, const std::string& chat,
                                 const std::string& key, const std::string& content) {
  boost::json::object m{{"role", "user"}, {"content", content}, {"client_key", key}};
  return http.request(
      dbapi_request(api, net::Method::post, "/v1/chats/" + chat + "/messages", boost::json::serialize(m)));
}

// The file opened directly: integrity_check's answer and the client keys of the stored messages.
struct FileCheck {
  std::string integrity;
  std::set<std::string> keys;
};

FileCheck check_file(const std::string& path) {
  FileCheck out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    out.integrity = std::string("cannot open: ") + sqlite3_errmsg(db);
    sqlite3_close(db);
    return out;
  }
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (!out.integrity.empty()) out.integrity += "; ";
    out.integrity += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  if (sqlite3_prepare_v2(db, "SELECT client_key FROM messages WHERE client_key IS NOT NULL", -1, &st,
                         nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW)
      out.keys.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  } else {
    out.integrity += std::string(" (messages: ") + sqlite3_errmsg(db) + ")";
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// A 5xx JSON error with a message that says something, and nothing internal.
void expect_clear_error(const net::ClientResponse& r) {
  EXPECT_GE(r.status, 500) << r.body;
  EXPECT_NE(r.status, 500) << "an unexpected internal error, not a clear one: " << r.body;
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  ASSERT_FALSE(ec) << r.body;
  std::string message(v.at("error").at("message").as_string());
  EXPECT_FALSE(message.empty());
  EXPECT_EQ(message.find("sqlite"), std::string::npos) << message;
  EXPECT_EQ(r.body.find("/tmp"), std::string::npos) << "a path leaked: " << r.body;
}

TEST(SqliteDisk, FullDiskIsAClearErrorAndNothingIsLostOrCorrupted) {
  TempDir dir("parley-full");
  std::string db_file = dir.file("chats.db");
  TestHttp http;
  constexpr rlim_t kFileLimit = 1536 * 1024;  // bytes any file of the process may reach
  auto limit_files = [] {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{kFileLimit, kFileLimit};
    ::setrlimit(RLIMIT_FSIZE, &lim);
  };
  std::vector<std::string> args = {"--database", "sqlite:" + db_file, "--threads", "2"};
  ServiceProcess api("db-api", args, {{"PARLEY_SERVICE_TOKEN", kToken}}, dir, limit_files);
  api.wait_ready(http);
  std::string chat = create_chat(http, api);

  // Post 64 KiB messages until the limit is hit (it must be, well before 200 of them).
  std::string content(64 * 1024, 'x');
  std::set<std::string> acknowledged;
  std::optional<net::ClientResponse> refused;
  for (int i = 0; i < 200 && !refused; ++i) {
    std::string key = "full-" + std::to_string(i);
    auto r = post_message(http, api, chat, key, content);
    if (r.status == 201)
      acknowledged.insert(key);
    else
      refused = r;
  }
  ASSERT_TRUE(refused.has_value()) << "the file size limit was never reached";
  ASSERT_FALSE(acknowledged.empty());
  expect_clear_error(*refused);
  // Still answering: reads work, writes keep failing cleanly, the process is alive.
  auto got = http.request(dbapi_request(api, net::Method::get, "/v1/chats/" + chat));
  EXPECT_EQ(got.status, 200) << got.body;
  expect_clear_error(post_message(http, api, chat, "full-again", content));
  EXPECT_FALSE(api.process().poll().has_value()) << api.log();

  auto code = api.process().stop(SIGTERM, std::chrono::seconds(30));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << api.log();

  FileCheck check = check_file(db_file);
  EXPECT_EQ(check.integrity, "ok");
  for (const auto& key : acknowledged)
    EXPECT_TRUE(check.keys.count(key)) << "acknowledged message lost: " << key;
  EXPECT_FALSE(check.keys.count("full-again"));

  // With room again, the same file serves and takes writes.
  ServiceProcess again("db-api", args, {{"PARLEY_SERVICE_TOKEN", kToken}}, dir);
  again.wait_ready(http);
  EXPECT_EQ(post_message(http, again, chat, "after", "room again").status, 201);
  auto listed = http.request(dbapi_request(again, net::Method::get, "/v1/chats/" + chat));
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(boost::json::parse(listed.body).at("messages").as_array().size(), acknowledged.size() + 1);
}

// The start-up failure names the cause, not only SQLite's "unable to open database file".
bool says_why(const std::string& log) {
  for (const char* why : {"Permission denied", "Read-only file system", "readonly", "read-only"})
    if (log.find(why) != std::string::npos) return true;
  return false;
}

// Runs the child as `nobody` when we are root, so that directory permissions apply to it.
std::function<void()> unprivileged() {
  if (::geteuid() != 0) return {};
  const passwd* pw = ::getpwnam("nobody");
  if (!pw) return {};
  uid_t uid = pw->pw_uid;
  gid_t gid = pw->pw_gid;
  return [uid, gid] {
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(126);
  };
}

// Whether the unprivileged user can run the binary at all: a checkout under a directory only root
// may enter (/root/...) cannot be run as `nobody`, and then these tests say so instead of failing.
bool unprivileged_can_run_parley() {
  if (::geteuid() != 0) return true;
  TempDir dir("parley-ro-probe");
  ::chmod(dir.path().c_str(), 0777);
  ChildProcess p({PARLEY_BINARY, "--version"}, {}, dir.file("probe.log"), unprivileged());
  auto code = p.wait(std::chrono::seconds(30));
  return code.has_value() && *code == 0;
}

TEST(SqliteDisk, ReadOnlyDirectoryRefusesToStartWithAClearMessage) {
  if (::geteuid() == 0 && !::getpwnam("nobody")) GTEST_SKIP() << "root without a `nobody` user";
  if (!unprivileged_can_run_parley()) GTEST_SKIP() << "`nobody` cannot run " << PARLEY_BINARY;
  TempDir dir("parley-ro");
  std::string sub = dir.file("readonly");
  ASSERT_EQ(::mkdir(sub.c_str(), 0555), 0);
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  ChildProcess p({PARLEY_BINARY, "db-api", "--port", std::to_string(free_port()), "--database",
                  "sqlite:" + sub + "/chats.db"},
                 {{"PARLEY_SERVICE_TOKEN", kToken}}, dir.file("ro.log"), unprivileged());
  auto code = p.wait(std::chrono::seconds(30));
  ASSERT_TRUE(code.has_value()) << "db-api started on a read-only directory: " << p.log();
  EXPECT_EQ(*code, 2) << p.log();
  std::string log = p.log();
  EXPECT_NE(log.find(sub + "/chats.db"), std::string::npos) << "the message does not name the file: " << log;
  EXPECT_TRUE(says_why(log)) << "the message does not say why: " << log;
  EXPECT_FALSE(std::filesystem::exists(sub + "/chats.db"));
}

TEST(SqliteDisk, DatabaseMadeReadOnlyIsAClearErrorAndStaysIntact) {
  if (::geteuid() == 0 && !::getpwnam("nobody")) GTEST_SKIP() << "root without a `nobody` user";
  if (!unprivileged_can_run_parley()) GTEST_SKIP() << "`nobody` cannot run " << PARLEY_BINARY;
  TempDir dir("parley-ro2");
  std::string sub = dir.file("data");
  ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0);
  std::string db_file = sub + "/chats.db";
  TestHttp http;
  std::vector<std::string> args = {"--database", "sqlite:" + db_file, "--threads", "2"};
  std::string chat;
  {
    ServiceProcess api("db-api", args, {{"PARLEY_SERVICE_TOKEN", kToken}}, dir);
    api.wait_ready(http);
    chat = create_chat(http, api);
    for (int i = 0; i < 5; ++i)
      ASSERT_EQ(post_message(http, api, chat, "ro-" + std::to_string(i), "kept").status, 201);
    ASSERT_EQ(api.process().stop(SIGTERM, std::chrono::seconds(30)), std::optional<int>(0));
  }
  // Everything read-only for the unprivileged user that db-api now runs as.
  ASSERT_EQ(::chmod(db_file.c_str(), 0444), 0);
  ASSERT_EQ(::chmod(sub.c_str(), 0555), 0);
  ChildProcess p(
      {PARLEY_BINARY, "db-api", "--port", std::to_string(free_port()), "--database", "sqlite:" + db_file},
      {{"PARLEY_SERVICE_TOKEN", kToken}}, dir.file("ro.log"), unprivileged());
  // Either it refuses to start and says why, or it serves and answers writes with a clear error.
  auto code = p.wait(std::chrono::seconds(30));
  ASSERT_TRUE(code.has_value()) << "db-api kept running on a read-only database: " << p.log();
  EXPECT_EQ(*code, 2) << p.log();
  std::string log = p.log();
  EXPECT_NE(log.find(db_file), std::string::npos) << log;
  EXPECT_TRUE(says_why(log)) << log;

  ASSERT_EQ(::chmod(sub.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(db_file.c_str(), 0644), 0);
  FileCheck check = check_file(db_file);
  EXPECT_EQ(check.integrity, "ok");
  EXPECT_EQ(check.keys.size(), 5u);
}

}  // namespace
}  // namespace parley::test
