// PostgresServer: a throwaway PostgreSQL for tests. initdb into a temp dir, then `postgres` on a free
// port on 127.0.0.1 (Unix socket in the same temp dir), trust authentication for user "parley".
//
//   auto& pg = parley::test::shared_postgres();        // one per test process, started on first use
//   std::string url = pg.create_database("t1");        // postgresql://parley@127.0.0.1:PORT/t1
//   pg.stop(); pg.start();                             // a server restart, same port and data
//   pg.stop(SIGQUIT); pg.start();                      // a crash (immediate shutdown) and recovery
//   pg.durable_commits = true;                         // before a crash test: synchronous_commit=on,
//                                                      // so that an acknowledged commit survives it
//
// Binaries: $PARLEY_PG_BIN, else /usr/lib/postgresql/15/bin (Debian's postgresql-15).
// Root: postgres refuses to run as root. When the tests run as root (as in CI containers here),
// initdb and postgres are run as the `postgres` system user if it exists, else `nobody`: the child
// drops privileges itself (setgroups/setgid/setuid before exec), and the temp dir is chown'ed to
// that user. Nothing else is needed (no sudo, no setpriv). As a normal user they run as that user.
// Cost: initdb ~0.7 s, start ~0.3 s (fsync off: a test server keeps nothing).
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/free_port.hpp"
#include "support/temp_dir.hpp"

namespace parley::test {

class PostgresServer {
 public:
  PostgresServer() : dir_("parley-pg") {
    const char* bin = std::getenv("PARLEY_PG_BIN");
    bin_ = bin && *bin ? bin : "/usr/lib/postgresql/15/bin";
    if (::access((bin_ + "/postgres").c_str(), X_OK) != 0)
      throw std::runtime_error("PostgreSQL binaries not found in " + bin_ + " (install postgresql-15)");
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (!pw) pw = ::getpwnam("nobody");
      if (!pw) throw std::runtime_error("running as root and neither user postgres nor nobody exists");
      uid_ = pw->pw_uid;
      gid_ = pw->pw_gid;
      if (::chown(dir_.path().c_str(), uid_, gid_) != 0) throw std::runtime_error("chown of the temp dir failed");
    }
    data_ = dir_.file("data");
    int rc = run_and_wait({bin_ + "/initdb", "-D", data_, "-U", "parley", "-A", "trust", "-E", "UTF8",
                           "--locale=C", "--no-sync", "--no-instructions"},
                          dir_.file("initdb.log"));
    if (rc != 0) throw std::runtime_error("initdb failed, see " + dir_.file("initdb.log") + ": " + log("initdb.log"));
    port_ = free_port();
    start();
  }

  ~PostgresServer() { stop(); }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  uint16_t port() const { return port_; }
  std::string url(const std::string& database = "postgres") const {
    return "postgresql://parley@127.0.0.1:" + std::to_string(port_) + "/" + database;
  }
  bool running() const { return pid_ > 0; }

  // synchronous_commit for the next start(): off (default: fast, a crash may lose the last
  // acknowledged commits) or on (what a crash test of acknowledged writes needs; fsync stays off,
  // the operating system does not crash here).
  bool durable_commits = false;

  // Starts the server (same port, same data) and waits until it accepts connections.
  void start() {
    if (pid_ > 0) return;
    pid_ = spawn({bin_ + "/postgres", "-D", data_, "-p", std::to_string(port_), "-k", dir_.path().string(),
                  "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c",
                  durable_commits ? "synchronous_commit=on" : "synchronous_commit=off",
                  "-c", "full_page_writes=off", "-c", "max_connections=300", "-c", "shared_buffers=64MB"},
                 dir_.file("postgres.log"));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (PQping(url().c_str()) != PQPING_OK) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("postgres exited at start: " + log("postgres.log"));
      }
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("postgres did not start in 30 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // Fast shutdown (SIGINT: clients are disconnected), or SIGQUIT (immediate: a crash, recovery
  // at the next start); waits for the exit.
  void stop(int signo = SIGINT) {
    if (pid_ <= 0) return;
    ::kill(pid_, signo);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // Creates a database and returns its URL.
  std::string create_database(const std::string& name) {
    execute(url(), "CREATE DATABASE \"" + name + "\"");
    return url(name);
  }

  // Runs one SQL statement (throws on error). Returns the first value of the first row, if any.
  static std::string execute(const std::string& conninfo, const std::string& sql) {
    PGconn* conn = PQconnectdb(conninfo.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string message = PQerrorMessage(conn);
      PQfinish(conn);
      throw std::runtime_error("connect: " + message);
    }
    PGresult* r = PQexec(conn, sql.c_str());
    auto status = PQresultStatus(r);
    std::string value;
    std::string error = PQresultErrorMessage(r);
    if (status == PGRES_TUPLES_OK && PQntuples(r) > 0) value = PQgetvalue(r, 0, 0);
    PQclear(r);
    PQfinish(conn);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw std::runtime_error(sql + ": " + error);
    return value;
  }

 private:
  std::string log(const std::string& name) const {
    std::ifstream in(dir_.file(name));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // fork + drop privileges (when root) + exec, output to log_path.
  pid_t spawn(const std::vector<std::string>& args, const std::string& log_path) const {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) throw std::runtime_error("cannot open " + log_path);
    if (uid_ != 0 && ::fchown(log_fd, uid_, gid_) != 0) {
      ::close(log_fd);
      throw std::runtime_error("cannot chown " + log_path);
    }
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      // Child: only async-signal-safe calls until exec.
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      int devnull = ::open("/dev/null", O_RDONLY);
      if (devnull >= 0) ::dup2(devnull, 0);
      ::setpgid(0, 0);  // own process group: a Ctrl-C of the test does not race our shutdown
      if (uid_ != 0) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(gid_) != 0 || ::setuid(uid_) != 0) ::_exit(126);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(log_fd);
    return pid;
  }

  int run_and_wait(const std::vector<std::string>& args, const std::string& log_path) const {
    pid_t pid = spawn(args, log_path);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  TempDir dir_;
  std::string bin_;
  std::string data_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// One server per test process, started on first use, stopped at exit.
inline PostgresServer& shared_postgres() {
  static PostgresServer server;
  return server;
}

}  // namespace parley::test
