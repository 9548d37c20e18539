// Helpers for fault tests with real `parley` processes (PARLEY_BINARY):
//
//   TestHttp http;                                         // an EventLoop + HttpClient, blocking calls
//   ServiceProcess db("db-api", {"--database", "sqlite:" + dir.file("c.db")}, {{"PARLEY_SERVICE_TOKEN", t}},
//   dir); db.wait_ready(http);                                   // polls /readyz until 200 (throws after 30
//   s) auto r = http.get(db.url("/healthz")); db.process().stop(SIGKILL); db.restart(); db.wait_ready(http);
//   // same port, same arguments
//
//   TcpClient c(port);                                      // raw blocking socket (CLOEXEC, so children
//   c.send("GET / HTTP/1.1\r\n...");                        // started later do not inherit it)
//
//   vm_rss_kib(pid)                                         // resident memory from /proc/PID/status
//
// Every wait polls with a deadline of tens of seconds: the machine may be slow and loaded.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "net/client.hpp"
#include "net/event_loop.hpp"
#include "support/async_runner.hpp"
#include "support/child_process.hpp"
#include "support/free_port.hpp"
#include "support/temp_dir.hpp"

namespace parley::test {

using Env = std::map<std::string, std::optional<std::string>>;
using Clock = std::chrono::steady_clock;

// An EventLoop with an HttpClient, and blocking request helpers for test threads.
class TestHttp {
 public:
  explicit TestHttp(net::ClientOptions options = quick_options(), int threads = 1) : loop_(threads) {
    loop_.start();
    client_ = std::make_unique<net::HttpClient>(loop_, options);
  }
  ~TestHttp() {
    client_.reset();
    loop_.stop();
  }
  // Short timeouts, one retry: a dead service is noticed in seconds, not minutes.
  static net::ClientOptions quick_options() {
    net::ClientOptions o;
    o.connect_timeout = std::chrono::seconds(5);
    o.read_timeout = std::chrono::seconds(30);
    o.max_retries = 0;
    return o;
  }

  // ClientError (refused, timeout, closed...) is rethrown with the URL in its message.
  net::ClientResponse request(net::ClientRequest r) {
    std::string url = r.url;
    try {
      return run_on(loop_.context(), client_->request(std::move(r)));
    } catch (const net::ClientError& e) {
      throw net::ClientError(e.kind(), url + ": " + e.what());
    }
  }
  net::ClientResponse get(const std::string& url, net::Headers headers = {}) {
    net::ClientRequest r{.method = net::Method::get, .url = url};
    r.headers = std::move(headers);
    return request(std::move(r));
  }
  std::unique_ptr<net::ResponseBody> stream(net::ClientRequest r) {
    std::string url = r.url;
    try {
      return run_on(loop_.context(), client_->stream(std::move(r)));
    } catch (const net::ClientError& e) {
      throw net::ClientError(e.kind(), url + " (stream): " + e.what());
    }
  }
  // The next piece of a streamed body (nullopt at its end); throws ClientError.
  std::optional<std::string> read_some(net::ResponseBody& body) {
    return run_on(loop_.context(), body.read_some());
  }

  net::HttpClient& client() { return *client_; }
  net::EventLoop& loop() { return loop_; }

 private:
  net::EventLoop loop_;
  std::unique_ptr<net::HttpClient> client_;
};

// One `parley <role> --port P ...` process; restart() runs it again with the same port and arguments.
class ServiceProcess {
 public:
  ServiceProcess(std::string role, std::vector<std::string> args, Env env, const TempDir& dir,
                 std::function<void()> in_child = {}, uint16_t port = 0)
      : role_(std::move(role)),
        args_(std::move(args)),
        env_(std::move(env)),
        log_dir_(dir.path().string()),
        in_child_(std::move(in_child)),
        port_(port ? port : free_port()) {
    start();
  }

  void start() {
    std::vector<std::string> argv = {PARLEY_BINARY, role_, "--port", std::to_string(port_)};
    argv.insert(argv.end(), args_.begin(), args_.end());
    process_ = std::make_unique<ChildProcess>(
        argv, env_, log_dir_ + "/" + role_ + "-" + std::to_string(++starts_) + ".log", in_child_);
  }
  void restart() {
    process_.reset();  // kills it if it still runs
    start();
  }

  // Polls `path` until it answers 200; throws (with the log) when the process exits or after `timeout`.
  void wait_ready(TestHttp& http, const std::string& path = "/readyz",
                  std::chrono::seconds timeout = std::chrono::seconds(45)) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (auto code = process_->poll())
        throw std::runtime_error(role_ + " exited with " + std::to_string(*code) + ": " + process_->log());
      try {
        if (http.get(url(path)).status == 200) return;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error(role_ + " not ready in " + std::to_string(timeout.count()) +
                             " s: " + process_->log());
  }

  uint16_t port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string url(const std::string& path) const { return base_url() + path; }
  ChildProcess& process() { return *process_; }
  pid_t pid() const { return process_->pid(); }
  std::string log() const { return process_->log(); }

 private:
  std::string role_;
  std::vector<std::string> args_;
  Env env_;
  std::string log_dir_;
  std::function<void()> in_child_;
  uint16_t port_;
  int starts_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// A blocking loopback TCP client for raw HTTP bytes. The socket is CLOEXEC.
class TcpClient {
 public:
  // Throws when the connection is refused. rcvbuf > 0 sets SO_RCVBUF before connecting.
  explicit TcpClient(uint16_t port, int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
      throw std::runtime_error("connect failed");
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~TcpClient() { close(); }
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd() const { return fd_; }

  bool send(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // Reads what arrives within timeout_ms into buffer(); false on EOF, error or timeout.
  bool fill(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char tmp[16384];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  // Reads until `needle` is in the buffer; false on EOF or after timeout_ms.
  bool read_until(const std::string& needle, int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (buf_.find(needle) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0 || !fill(static_cast<int>(left))) return buf_.find(needle) != std::string::npos;
    }
    return true;
  }
  // True when the peer closed (EOF or reset) within timeout_ms; bytes that arrive are kept.
  bool closed_by_peer(int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) {
        char tmp[16384];
        ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
        if (n <= 0) return true;
        buf_.append(tmp, static_cast<size_t>(n));
      }
    }
    return false;
  }
  std::string& buffer() { return buf_; }

 private:
  int fd_ = -1;
  std::string buf_;
};

// Whether a new TCP connection to the port is accepted (connect succeeds and is not reset at once).
inline bool accepts_connections(uint16_t port) {
  try {
    TcpClient c(port);
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    return c.read_until("\r\n\r\n", 5000);
  } catch (const std::exception&) {
    return false;
  }
}

// Polls until the port refuses connections; false after timeout.
inline bool wait_refusing(uint16_t port, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::close(fd);
    if (rc != 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// VmRSS of a process in KiB (0 if it cannot be read).
inline long vm_rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// Polls `cond` every 20 ms until it holds or `timeout` passes.
inline bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

}  // namespace parley::test
