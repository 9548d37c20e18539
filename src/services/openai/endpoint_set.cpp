#include "services/openai/endpoint_set.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>
#include <stdexcept>

namespace parley::services {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

int64_t now_ns() { return Clock::now().time_since_epoch().count(); }

// FNV-1a, 64 bits: stable across processes and standard libraries (every UI replica must agree).
uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

bool LmEndpoint::healthy() const { return down_until.load() <= now_ns(); }

std::string openai_base_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.size() < 3 || url.compare(url.size() - 3, 3, "/v1") != 0) url += "/v1";
  return url;
}

HostResolver system_host_resolver() {
  return [](std::string host, std::string port) -> asio::awaitable<std::vector<std::string>> {
    asio::ip::tcp::resolver resolver(co_await asio::this_coro::executor);
    auto results = co_await resolver.async_resolve(host, port, asio::use_awaitable);
    std::vector<std::string> out;
    for (const auto& entry : results) out.push_back(entry.endpoint().address().to_string());
    co_return out;
  };
}

size_t pick_endpoint(const LmEndpoints& eps, const std::string& key, const PickOptions& options) {
  const size_t n = eps.size();
  size_t least = n;
  for (size_t i = 0; i < n; ++i) {
    if (!eps[i]->healthy()) continue;
    if (least == n || eps[i]->outstanding.load() < eps[least]->outstanding.load()) least = i;
  }
  if (least == n) {
    // Everything looks down: try the one that went down first.
    least = 0;
    for (size_t i = 1; i < n; ++i)
      if (eps[i]->down_until.load() < eps[least]->down_until.load()) least = i;
    return least;
  }
  if (!options.affinity) {
    // No affinity: spread regardless of load and chat, as a Service's balancing does (the
    // baseline affinity is measured against): the healthy endpoint number `rotation` mod count.
    size_t healthy = 0;
    for (const auto& e : eps) healthy += e->healthy() ? 1 : 0;
    size_t want = options.rotation % healthy;
    for (size_t i = 0; i < n; ++i)
      if (eps[i]->healthy() && want-- == 0) return i;
  }
  if (key.empty() || n == 1) return least;
  // Rendezvous hashing: the healthy endpoint with the highest hash of (key, endpoint URL).
  const uint64_t kh = fnv1a(key);
  size_t best = n;
  uint64_t best_score = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!eps[i]->healthy()) continue;
    const uint64_t score = mix(kh ^ mix(fnv1a(eps[i]->base)));
    if (best == n || score > best_score) best = i, best_score = score;
  }
  if (eps[best]->outstanding.load() > eps[least]->outstanding.load() + options.busy_margin) return least;
  return best;
}

EndpointSet::EndpointSet(const std::vector<std::string>& urls, HostResolver resolver,
                         std::chrono::milliseconds refresh_every)
    : resolver_(std::move(resolver)),
      refresh_every_(refresh_every),
      current_(std::make_shared<LmEndpoints>()) {
  if (urls.empty()) throw std::invalid_argument("no language-model endpoint configured (LM_API_URL)");
  for (const auto& url : urls) {
    Source s;
    if (url.rfind("dns+", 0) == 0) {
      const std::string rest = url.substr(4);  // parse_uri returns a view: keep the text alive
      auto parsed = boost::urls::parse_uri(rest);
      if (!parsed || parsed->scheme() != "http" || parsed->encoded_host().empty())
        throw std::invalid_argument("bad language-model URL (want dns+http://name:port[/v1]): " + url);
      s.dns = true;
      s.scheme = parsed->scheme();
      s.host = parsed->encoded_host();
      if (s.host.size() >= 2 && s.host.front() == '[') s.host = s.host.substr(1, s.host.size() - 2);
      s.port = parsed->has_port() ? std::string(parsed->port()) : "80";
      s.path = parsed->encoded_path();
      has_dns_ = true;
    } else {
      s.url = openai_base_url(url);
    }
    sources_.push_back(std::move(s));
  }
  if (!resolver_) resolver_ = system_host_resolver();
  rebuild_locked();
}

void EndpointSet::rebuild_locked() {
  std::vector<std::string> bases;
  for (const auto& s : sources_) {
    if (!s.dns) {
      bases.push_back(s.url);
      continue;
    }
    for (const auto& a : s.addresses) {
      const std::string host = a.find(':') != std::string::npos ? "[" + a + "]" : a;
      bases.push_back(openai_base_url(s.scheme + "://" + host + ":" + s.port + s.path));
    }
  }
  std::sort(bases.begin(), bases.end());
  bases.erase(std::unique(bases.begin(), bases.end()), bases.end());
  auto next = std::make_shared<LmEndpoints>();
  bool changed = bases.size() != current_->size();
  for (const auto& b : bases) {
    auto old = std::find_if(current_->begin(), current_->end(), [&](const auto& e) { return e->base == b; });
    if (old != current_->end()) {
      next->push_back(*old);  // keeps its outstanding count and health
    } else {
      next->push_back(std::make_shared<LmEndpoint>(b));
      changed = true;
    }
  }
  if (changed && has_dns_) spdlog::info("language-model endpoints now: {}", join(bases));
  current_ = std::move(next);
}

asio::awaitable<std::shared_ptr<const LmEndpoints>> EndpointSet::current() {
  {
    std::lock_guard lock(mu_);
    const bool empty = current_->empty();
    if (!has_dns_ || (!empty && (now_ns() < next_refresh_ || refreshing_))) co_return current_;
    refreshing_ = true;
  }
  co_await refresh();
  co_return snapshot();
}

asio::awaitable<void> EndpointSet::refresh() {
  std::vector<std::pair<size_t, std::pair<std::string, std::string>>> names;
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < sources_.size(); ++i)
      if (sources_[i].dns) names.push_back({i, {sources_[i].host, sources_[i].port}});
  }
  std::vector<std::pair<size_t, std::vector<std::string>>> found;
  for (const auto& [index, name] : names) {
    std::vector<std::string> addresses;
    try {
      addresses = co_await resolver_(name.first, name.second);
    } catch (const std::exception& e) {
      spdlog::warn("resolving language-model name {} failed ({}); keeping its previous addresses", name.first,
                   e.what());
      continue;
    }
    std::sort(addresses.begin(), addresses.end());
    addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
    if (addresses.empty()) {
      spdlog::warn("language-model name {} resolved to no address; keeping its previous addresses",
                   name.first);
      continue;
    }
    found.push_back({index, std::move(addresses)});
  }
  std::lock_guard lock(mu_);
  for (auto& [index, addresses] : found) sources_[index].addresses = std::move(addresses);
  rebuild_locked();
  refreshing_ = false;
  next_refresh_ = now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(refresh_every_).count();
  resolutions_.fetch_add(1);
}

std::shared_ptr<const LmEndpoints> EndpointSet::snapshot() const {
  std::lock_guard lock(mu_);
  return current_;
}

void EndpointSet::mark_down(LmEndpoint& endpoint, std::chrono::milliseconds down_for) {
  endpoint.down_until.store((Clock::now() + down_for).time_since_epoch().count());
  std::lock_guard lock(mu_);
  next_refresh_ = 0;
}

}  // namespace parley::services
