// EndpointSet: the lm-api replicas an OpenAiGenerator may send to, and the choice among them.
//
// Sources (LM_API_URL, comma-separated), each one of:
//   http://lm-api-0:8082            one endpoint (a replica, or a load-balanced Service)
//   dns+http://lm-api-replicas:8082 every address the name resolves to is one endpoint, on that
//                                   port and path: a Kubernetes headless Service, a DNS round robin
// DNS sources are resolved on first use, again every `refresh_every` (default 10 s), and at the
// next use after a connection to one of their endpoints failed, so replicas that scale out or in
// (or move) are picked up. A failed or empty resolution keeps the previous addresses. Endpoints
// keep their state (outstanding requests, down-until) across refreshes while their address stays.
//
// Choice (pick_endpoint): rendezvous hashing of the affinity key (the chat id) over the healthy
// endpoints' URLs, so a chat stays on the replica holding its prefix, and only the chats of a
// replica that leaves (or joins) move; the least busy healthy endpoint instead when the hashed one
// is clearly busier (busy_margin more outstanding requests), or when there is no key. Affinity off:
// any healthy endpoint, chosen by PickOptions::rotation (random per request, like a Service). The hash is
// FNV-1a: the same on every UI replica, whatever the standard library.
//
// Thread-safety: all members may be called from any thread.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace parley::services {

struct LmEndpoint {
  explicit LmEndpoint(std::string b) : base(std::move(b)) {}
  const std::string base;              // "http://10.1.2.3:8082/v1"
  std::atomic<int> outstanding{0};     // requests from this client not yet finished
  std::atomic<int64_t> down_until{0};  // steady-clock ns; 0 = healthy
  bool healthy() const;
};

using LmEndpoints = std::vector<std::shared_ptr<LmEndpoint>>;  // sorted by base, no duplicates

// Resolves a host name to its addresses as text ("10.1.2.3", "fd00::5"), in any order. Throws on
// failure (or returns nothing). The default, system_host_resolver(), asks getaddrinfo via Asio.
using HostResolver =
    std::function<boost::asio::awaitable<std::vector<std::string>>(std::string host, std::string port)>;
HostResolver system_host_resolver();

struct PickOptions {
  bool affinity = true;
  int busy_margin = 2;
  size_t rotation = 0;  // affinity off: the healthy endpoint number `rotation` mod their count
                        // (a random number per request: a Service's balancing)
};

// The index in `endpoints` for a request with this key (see the header comment). When every
// endpoint is down: the one that went down first. Precondition: endpoints not empty.
size_t pick_endpoint(const LmEndpoints& endpoints, const std::string& affinity_key,
                     const PickOptions& options);

class EndpointSet {
 public:
  // Throws std::invalid_argument for an empty list or a malformed URL.
  EndpointSet(const std::vector<std::string>& urls, HostResolver resolver,
              std::chrono::milliseconds refresh_every = std::chrono::seconds(10));

  // The endpoints now, re-resolving DNS sources first when due. Empty only if no DNS name has
  // ever resolved and there is no static URL.
  boost::asio::awaitable<std::shared_ptr<const LmEndpoints>> current();
  // Re-resolves every DNS source now.
  boost::asio::awaitable<void> refresh();
  // What current() returned last, without resolving.
  std::shared_ptr<const LmEndpoints> snapshot() const;
  // A connection to it failed: skip it for `down_for`, and re-resolve DNS sources at the next use.
  void mark_down(LmEndpoint& endpoint, std::chrono::milliseconds down_for);
  bool has_dns() const { return has_dns_; }
  // Resolutions done so far (tests, logs).
  uint64_t resolutions() const { return resolutions_.load(); }

 private:
  struct Source {
    bool dns = false;
    std::string url;                       // static: the base URL
    std::string scheme, host, port, path;  // dns: "http", "lm-api-replicas", "8082", "/v1"
    std::vector<std::string> addresses;    // dns: the last successful resolution, sorted
  };
  void rebuild_locked();

  HostResolver resolver_;
  const std::chrono::milliseconds refresh_every_;
  bool has_dns_ = false;
  std::atomic<uint64_t> resolutions_{0};
  mutable std::mutex mu_;
  std::vector<Source> sources_;
  std::shared_ptr<const LmEndpoints> current_;
  int64_t next_refresh_ = 0;  // steady-clock ns
  bool refreshing_ = false;
};

// "http://h:1/v1/" -> "http://h:1/v1"; "http://h:1" -> "http://h:1/v1".
std::string openai_base_url(std::string url);

}  // namespace parley::services
