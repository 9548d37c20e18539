// Test helper: a blocking TCP client that speaks raw HTTP/1.1 bytes, to test the server without
// trusting our own client (limits, malformed requests, keep-alive on one socket).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace parley::net::test {

struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;  // de-chunked
  std::string header(const std::string& name) const {
    std::string lower_head;
    for (char c : head) lower_head.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    std::string key = "\r\n";
    for (char c : name) key.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    key += ": ";
    size_t p = lower_head.find(key);
    if (p == std::string::npos) return {};
    size_t start = p + key.size();
    size_t end = head.find("\r\n", start);
    return head.substr(start, end - start);
  }
};

class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
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
  ~RawConnection() { close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd() const { return fd_; }

  // Sends everything; false when the peer has closed.
  bool send(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads more bytes into buf_ (waits up to timeout_ms); false on EOF, error or timeout.
  bool fill(int timeout_ms = 5000) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char tmp[16384];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  // True when the peer closed the connection (EOF) within timeout_ms.
  bool closed_by_peer(int timeout_ms = 2000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) {
        char tmp[4096];
        ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
        if (n <= 0) return true;
        buf_.append(tmp, static_cast<size_t>(n));
      }
    }
    return false;
  }

  // Reads one response (Content-Length, chunked, or until close). Throws on timeout.
  RawResponse read_response(int timeout_ms = 5000, bool head_request = false) {
    RawResponse r;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill(timeout_ms)) throw std::runtime_error("no response head; got: " + buf_);
    r.head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    r.status = std::stoi(r.head.substr(9, 3));
    if (head_request || r.status == 204 || r.status == 304 || (r.status >= 100 && r.status < 200)) return r;
    std::string cl = r.header("Content-Length");
    if (!cl.empty()) {
      size_t len = std::stoul(cl);
      while (buf_.size() < len)
        if (!fill(timeout_ms)) throw std::runtime_error("short body");
      r.body = buf_.substr(0, len);
      buf_.erase(0, len);
    } else if (r.header("Transfer-Encoding") == "chunked") {
      for (;;) {
        size_t le;
        while ((le = buf_.find("\r\n")) == std::string::npos)
          if (!fill(timeout_ms)) throw std::runtime_error("short chunk header");
        size_t size = std::stoul(buf_.substr(0, le), nullptr, 16);
        while (buf_.size() < le + 2 + size + 2)
          if (!fill(timeout_ms)) throw std::runtime_error("short chunk");
        r.body += buf_.substr(le + 2, size);
        buf_.erase(0, le + 2 + size + 2);
        if (size == 0) break;
      }
    } else {
      while (fill(timeout_ms)) {
      }
      r.body = buf_;
      buf_.clear();
    }
    return r;
  }

  std::string& buffer() { return buf_; }

 private:
  int fd_ = -1;
  std::string buf_;
};

// One request on a new connection.
inline RawResponse raw_request(uint16_t port, const std::string& request) {
  RawConnection c(port);
  c.send(request);
  return c.read_response();
}

}  // namespace parley::net::test
