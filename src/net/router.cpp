#include "net/router.hpp"

#include <array>
#include <stdexcept>

namespace parley::net {
namespace {

constexpr size_t kMaxSegments = 32;

// Splits "/a/b/c" into {"a","b","c"}; "/" into {""}. Returns false beyond kMaxSegments.
bool split_path(std::string_view path, std::array<std::string_view, kMaxSegments>& out, size_t& n) {
  n = 0;
  if (path.empty() || path.front() != '/') return false;
  path.remove_prefix(1);
  for (;;) {
    if (n == kMaxSegments) return false;
    size_t slash = path.find('/');
    out[n++] = path.substr(0, slash);
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

}  // namespace

Router& Router::add(Method method, std::string_view pattern, Handler handler) {
  if (pattern.empty() || pattern.front() != '/') throw std::invalid_argument("route pattern must start with '/'");
  if (has(method, pattern)) throw std::invalid_argument("duplicate route " + std::string(pattern));
  auto route = std::make_unique<Route>();
  route->method = method;
  route->pattern = std::string(pattern);
  route->handler = std::move(handler);
  route->index = routes_.size();
  std::array<std::string_view, kMaxSegments> segs;
  size_t n = 0;
  if (!split_path(pattern, segs, n)) throw std::invalid_argument("route pattern too long");
  for (size_t i = 0; i < n; ++i) {
    std::string_view s = segs[i];
    if (s.size() >= 2 && s.front() == '{' && s.back() == '}') {
      std::string_view name = s.substr(1, s.size() - 2);
      bool rest = !name.empty() && name.back() == '*';
      if (rest) name.remove_suffix(1);
      if (name.empty()) throw std::invalid_argument("empty parameter name in " + std::string(pattern));
      if (rest && i + 1 != n) throw std::invalid_argument("{name*} must be the last segment");
      route->segments.push_back({rest ? Route::Segment::rest : Route::Segment::param, std::string(name)});
    } else {
      if (s.find_first_of("{}") != std::string_view::npos)
        throw std::invalid_argument("malformed segment in " + std::string(pattern));
      route->segments.push_back({Route::Segment::literal, std::string(s)});
    }
  }
  routes_.push_back(std::move(route));
  return *this;
}

bool Router::has(Method method, std::string_view pattern) const {
  for (const auto& r : routes_)
    if (r->method == method && r->pattern == pattern) return true;
  return false;
}

Router::Match Router::match(Method method, std::string_view path, Request* req) const {
  Match m;
  std::array<std::string_view, kMaxSegments> segs;
  size_t n = 0;
  if (!split_path(path, segs, n)) return m;
  Method wanted = method;
  uint64_t best_score = 0;
  const Route* best = nullptr;
  const Route* best_get = nullptr;  // HEAD falls back to GET
  uint64_t best_get_score = 0;
  for (const auto& rp : routes_) {
    const Route& r = *rp;
    // Score: 2 bits per segment, literal 3 > param 2 > rest 1, most significant first.
    uint64_t score = 0;
    size_t i = 0;
    bool ok = true;
    for (const auto& seg : r.segments) {
      if (seg.kind == Route::Segment::rest) {
        score = (score << 2) | 1;
        i = n;
        break;
      }
      if (i >= n) {
        ok = false;
        break;
      }
      if (seg.kind == Route::Segment::literal) {
        if (segs[i] != seg.text) {
          ok = false;
          break;
        }
        score = (score << 2) | 3;
      } else {
        if (segs[i].empty()) {
          ok = false;
          break;
        }
        score = (score << 2) | 2;
      }
      ++i;
    }
    if (!ok || i != n) continue;
    score <<= 2 * (kMaxSegments - r.segments.size());  // align patterns of different lengths
    m.allowed |= 1u << static_cast<unsigned>(r.method);
    if (r.method == wanted && score > best_score) {
      best_score = score;
      best = &r;
    }
    if (r.method == Method::get && score > best_get_score) {
      best_get_score = score;
      best_get = &r;
    }
  }
  if (m.allowed & (1u << static_cast<unsigned>(Method::get))) m.allowed |= 1u << static_cast<unsigned>(Method::head);
  if (best == nullptr && method == Method::head) best = best_get;
  m.route = best;
  if (best != nullptr && req != nullptr) {
    req->clear_params();
    size_t i = 0;
    for (const auto& seg : best->segments) {
      if (seg.kind == Route::Segment::param) {
        req->set_param(seg.text, segs[i]);
      } else if (seg.kind == Route::Segment::rest) {
        // Everything from this segment on, slashes included.
        std::string_view rest = i < n ? path.substr(static_cast<size_t>(segs[i].data() - path.data())) : "";
        req->set_param(seg.text, rest);
        break;
      }
      ++i;
    }
  }
  return m;
}

std::string Router::allow_header(uint32_t allowed) {
  std::string out;
  for (int i = 0; i < kMethodCount; ++i) {
    if (!(allowed & (1u << i)) || static_cast<Method>(i) == Method::other) continue;
    if (!out.empty()) out.append(", ");
    out.append(method_name(static_cast<Method>(i)));
  }
  return out;
}

}  // namespace parley::net
