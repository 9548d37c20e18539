#include "net/request.hpp"

#include <stdexcept>

namespace parley::net {

std::string_view Request::path() const {
  std::string_view t = target();
  size_t q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
}

std::string_view Request::query_string() const {
  std::string_view t = target();
  size_t q = t.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view qs = t.substr(q + 1);
  size_t hash = qs.find('#');
  return hash == std::string_view::npos ? qs : qs.substr(0, hash);
}

std::optional<std::string> Request::query(std::string_view name) const {
  std::string_view qs = query_string();
  while (!qs.empty()) {
    size_t amp = qs.find('&');
    std::string_view pair = qs.substr(0, amp);
    qs = amp == std::string_view::npos ? std::string_view{} : qs.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    bool plain = key.find_first_of("%+") == std::string_view::npos;
    if (plain ? key == name : percent_decode(key, true) == name) return percent_decode(value, true);
  }
  return std::nullopt;
}

std::string_view Request::header(std::string_view name) const {
  for (const auto& [n, v] : headers_)
    if (iequals(view(n), name)) return view(v);
  return {};
}

bool Request::has_header(std::string_view name) const {
  for (const auto& h : headers_)
    if (iequals(view(h.first), name)) return true;
  return false;
}

std::pair<std::string_view, std::string_view> Request::header_at(size_t i) const {
  return {view(headers_.at(i).first), view(headers_.at(i).second)};
}

std::string_view Request::bearer_token() const {
  std::string_view auth = header("Authorization");
  if (auth.size() < 7 || !iequals(auth.substr(0, 7), "Bearer ")) return {};
  auth.remove_prefix(7);
  while (!auth.empty() && auth.front() == ' ') auth.remove_prefix(1);
  while (!auth.empty() && auth.back() == ' ') auth.remove_suffix(1);
  return auth;
}

std::string_view Request::param(std::string_view name) const {
  for (const auto& [n, v] : params_)
    if (n == name) return std::string_view(params_storage_).substr(v.off, v.len);
  return {};
}

bool Request::secure() const { return tls_ || iequals(header("X-Forwarded-Proto"), "https"); }

ResponseStream& Request::stream() const {
  if (stream_ == nullptr) throw std::logic_error("Request::stream(): this request has no response stream");
  return *stream_;
}

void Request::clear() {
  method_ = Method::get;
  version_ = 11;
  keep_alive_ = true;
  tls_ = false;
  head_.clear();
  method_span_ = target_span_ = Span{};
  headers_.clear();
  params_storage_.clear();
  params_.clear();
  body_.clear();
  request_id_.clear();
  stream_ = nullptr;
}

Request::Span Request::append(std::string_view s) {
  Span span{static_cast<uint32_t>(head_.size()), static_cast<uint32_t>(s.size())};
  head_.append(s);
  return span;
}

void Request::set_method(std::string_view name) {
  method_ = parse_method(name);
  method_span_ = append(name);
}

void Request::set_target(std::string_view target) { target_span_ = append(target); }

void Request::add_header(std::string_view name, std::string_view value) {
  Span n = append(name);
  Span v = append(value);
  headers_.emplace_back(n, v);
}

void Request::set_param(std::string_view name, std::string_view raw_value) {
  Span span{static_cast<uint32_t>(params_storage_.size()), 0};
  if (raw_value.find('%') == std::string_view::npos) {
    params_storage_.append(raw_value);
  } else {
    params_storage_.append(percent_decode(raw_value));
  }
  span.len = static_cast<uint32_t>(params_storage_.size() - span.off);
  params_.emplace_back(name, span);
}

void Request::clear_params() {
  params_storage_.clear();
  params_.clear();
}

}  // namespace parley::net
