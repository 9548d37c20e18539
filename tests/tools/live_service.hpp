// A real Parley role started from PARLEY_BINARY on a free 127.0.0.1 port, and its /metrics read
// back as numbers, so tests can check the load tester's counts against the server's own.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "net/blocking.hpp"
#include "net/client.hpp"
#include "support/child_process.hpp"
#include "support/free_port.hpp"
#include "support/temp_dir.hpp"

namespace parley::test {

inline const std::string kToken = "loadtest-test-token";

class LiveService {
 public:
  // `args` after the role, without --port; "{dir}" in an argument becomes a fresh temp directory.
  // Waits up to 30 s for /healthz.
  LiveService(const std::string& role, std::vector<std::string> args) : loop_(1), client_(loop_) {
    loop_.start();
    port_ = free_port();
    std::vector<std::string> argv{PARLEY_BINARY, role, "--port", std::to_string(port_)};
    for (auto& a : args) {
      if (auto at = a.find("{dir}"); at != std::string::npos) a.replace(at, 5, dir_.path().string());
      argv.push_back(a);
    }
    process_ = std::make_unique<ChildProcess>(
        argv, std::map<std::string, std::optional<std::string>>{{"PARLEY_SERVICE_TOKEN", kToken}},
        dir_.file(role + ".log"));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        if (net::run_blocking(loop_, client_.request({.url = url() + "/healthz"})).status == 200) return;
      } catch (const std::exception&) {
      }
      if (process_->poll()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error(role + " did not start: " + process_->log());
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const TempDir& dir() const { return dir_; }

  // Every sample of /metrics: "name{labels}" -> value.
  std::map<std::string, double> metrics() {
    net::ClientRequest r{.url = url() + "/metrics"};
    r.headers = {{"Authorization", "Bearer " + kToken}};
    net::ClientResponse res = net::run_blocking(loop_, client_.request(std::move(r)));
    std::map<std::string, double> out;
    std::istringstream in(res.body);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      auto sp = line.rfind(' ');
      out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
    }
    return out;
  }

 private:
  TempDir dir_{"parley-loadtest"};
  net::EventLoop loop_;
  net::HttpClient client_;
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// Sum of the samples whose key starts with `name{` and contains every one of `labels`.
inline double sum_series(const std::map<std::string, double>& m, const std::string& name,
                         const std::vector<std::string>& labels = {}) {
  double total = 0;
  for (const auto& [key, v] : m) {
    if (key.rfind(name + "{", 0) != 0 && key != name) continue;
    bool all = true;
    for (const auto& l : labels) all = all && key.find(l) != std::string::npos;
    if (all) total += v;
  }
  return total;
}

}  // namespace parley::test
