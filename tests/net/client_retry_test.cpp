// Retries of idempotent requests when a pooled connection turns out dead, against a raw server
// that drops chosen requests without answering (what a server does when it closes an idle
// keep-alive connection just as the client reuses it).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <set>
#include <thread>

#include "net/blocking.hpp"
#include "net/client.hpp"

namespace parley::net {
namespace {

class FlakyServer {
 public:
  explicit FlakyServer(std::set<int> drop) : drop_(std::move(drop)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~FlakyServer() {
    stop_ = true;
    acceptor_.join();
    for (auto& t : workers_) t.join();
    ::close(listen_fd_);
  }
  uint16_t port() const { return port_; }
  int requests() {
    std::lock_guard lock(mu_);
    return count_;
  }
  int connections() {
    std::lock_guard lock(mu_);
    return connections_;
  }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      {
        std::lock_guard lock(mu_);
        ++connections_;
      }
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }
  void serve(int fd) {
    std::string buf;
    while (!stop_) {
      size_t end;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
        pollfd p{fd, POLLIN, 0};
        if (stop_) break;
        if (::poll(&p, 1, 50) <= 0) continue;
        char tmp[4096];
        ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0) {
          ::close(fd);
          return;
        }
        buf.append(tmp, static_cast<size_t>(n));
      }
      if (stop_) break;
      size_t body = 0;
      size_t cl = buf.find("Content-Length: ");
      if (cl != std::string::npos && cl < end) body = std::stoul(buf.substr(cl + 16));
      while (buf.size() < end + 4 + body) {
        char tmp[4096];
        ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0) break;
        buf.append(tmp, static_cast<size_t>(n));
      }
      buf.erase(0, end + 4 + body);
      int number;
      {
        std::lock_guard lock(mu_);
        number = ++count_;
      }
      if (drop_.count(number)) break;  // close without an answer
      std::string res = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(std::to_string(number).size()) +
                        "\r\n\r\n" + std::to_string(number);
      ::send(fd, res.data(), res.size(), MSG_NOSIGNAL);
    }
    ::close(fd);
  }

  std::set<int> drop_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  int count_ = 0;
  int connections_ = 0;
};

struct ClientRetry : ::testing::Test {
  EventLoop loop{2};
  void SetUp() override { loop.start(); }
  void TearDown() override { loop.stop(); }
};

TEST_F(ClientRetry, IdempotentRequestIsRetriedOnAFreshConnection) {
  FlakyServer server({2});
  HttpClient client(loop);
  std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/x";
  EXPECT_EQ(run_blocking(loop, client.request(ClientRequest{.url = url})).body, "1");
  // Request 2 goes out on the pooled connection and is dropped; the client retries: request 3.
  EXPECT_EQ(run_blocking(loop, client.request(ClientRequest{.method = Method::put, .url = url, .body = "v"})).body, "3");
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(client.connections_opened(), 2u);
}

TEST_F(ClientRetry, NonIdempotentRequestIsNotRetriedUnlessMarked) {
  FlakyServer server({2, 4});
  HttpClient client(loop);
  std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/x";
  EXPECT_EQ(run_blocking(loop, client.request(ClientRequest{.url = url})).body, "1");
  try {
    run_blocking(loop, client.request(ClientRequest{.method = Method::post, .url = url, .body = "once"}));
    FAIL() << "a dropped POST must not be retried";
  } catch (const ClientError& e) {
    EXPECT_EQ(e.kind(), ClientError::Kind::closed) << e.what();
  }
  EXPECT_EQ(server.requests(), 2);
  EXPECT_EQ(run_blocking(loop, client.request(ClientRequest{.url = url})).body, "3");
  ClientRequest marked{.method = Method::post, .url = url, .body = "key-1"};
  marked.idempotent = true;
  EXPECT_EQ(run_blocking(loop, client.request(marked)).body, "5");
}

TEST_F(ClientRetry, GivesUpAfterTheRetryBudget) {
  FlakyServer server({1, 2, 3, 4, 5});
  ClientOptions o;
  o.max_retries = 2;
  HttpClient client(loop, o);
  std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/x";
  EXPECT_THROW(run_blocking(loop, client.request(ClientRequest{.url = url})), ClientError);
  EXPECT_EQ(server.requests(), 3);  // one try and two retries
}

}  // namespace
}  // namespace parley::net
