#include "tools/loadtest/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace parley::tools::loadtest {
namespace {

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void merge_into(EndpointTotals& into, const EndpointTotals& from) {
  into.requests += from.requests;
  into.ok += from.ok;
  for (int i = 0; i < kErrorKinds; ++i) into.errors[i] += from.errors[i];
  for (const auto& [status, n] : from.statuses) into.statuses[status] += n;
  into.latency_s.insert(into.latency_s.end(), from.latency_s.begin(), from.latency_s.end());
}

}  // namespace

std::string_view error_kind_name(ErrorKind k) {
  switch (k) {
    case ErrorKind::status:
      return "status";
    case ErrorKind::timeout:
      return "timeout";
    case ErrorKind::broken_stream:
      return "broken_stream";
    case ErrorKind::connect:
      return "connect";
  }
  return "?";
}

Percentiles percentiles(std::vector<double>& v) {
  Percentiles p;
  p.count = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  auto rank = [&](double q) {
    return v[std::min(v.size() - 1, static_cast<size_t>(std::ceil(q * v.size())) - 1)];
  };
  p.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  p.p50 = rank(0.50);
  p.p90 = rank(0.90);
  p.p99 = rank(0.99);
  p.max = v.back();
  return p;
}

Recorder::Bucket& Recorder::bucket(Clock::time_point t) {
  double s = std::max(0.0, seconds(t - start_));
  size_t i = static_cast<size_t>(s);
  if (buckets_.size() <= i) buckets_.resize(i + 1);
  return buckets_[i];
}

void Recorder::request(std::string_view endpoint, Clock::time_point begin, Clock::time_point end,
                       std::optional<ErrorKind> error, int status) {
  auto it = endpoints_.find(endpoint);
  if (it == endpoints_.end()) it = endpoints_.emplace(std::string(endpoint), EndpointTotals{}).first;
  EndpointTotals& e = it->second;
  Bucket& b = bucket(end);
  ++e.requests;
  ++b.requests;
  ++total_requests_;
  if (status != 0) ++e.statuses[status];
  if (error) {
    ++e.errors[static_cast<int>(*error)];
    ++b.errors;
    ++total_errors_;
    return;
  }
  ++e.ok;
  double latency = seconds(end - begin);
  e.latency_s.push_back(latency);
  b.latency_s.push_back(latency);
  recent_.push_back(latency);
}

void Recorder::generation(GenerationSample sample) {
  uint64_t tokens = sample.completion_tokens ? sample.completion_tokens : sample.pieces;
  Bucket& b = bucket(sample.end);
  b.tokens += tokens;
  total_tokens_ += tokens;
  if (sample.got_first_token)
    bucket(sample.first_token).ttft_s.push_back(seconds(sample.first_token - sample.start));
  generations_.push_back(std::move(sample));
}

Percentiles Recorder::take_recent() {
  Percentiles p = percentiles(recent_);
  recent_.clear();
  return p;
}

Summary Recorder::summarize(double elapsed_s, const Slo& slo) const {
  Summary s;
  s.elapsed_s = elapsed_s;
  s.cut_short = cut_short_;
  for (const auto& [name, totals] : endpoints_) {
    merge_into(s.overall, totals);
    EndpointTotals copy = totals;
    Percentiles p = percentiles(copy.latency_s);
    if (slo.latency_s > 0)
      s.good_requests += static_cast<uint64_t>(
          std::upper_bound(copy.latency_s.begin(), copy.latency_s.end(), slo.latency_s) -
          copy.latency_s.begin());
    else
      s.good_requests += copy.ok;
    s.endpoints.emplace(name, std::make_pair(std::move(copy), p));
  }
  s.overall_latency = percentiles(s.overall.latency_s);
  std::vector<double> plain;
  for (const auto& [name, v] : s.endpoints)
    if (!streams_.count(name)) plain.insert(plain.end(), v.first.latency_s.begin(), v.first.latency_s.end());
  s.request_latency = percentiles(plain);

  if (!generations_.empty()) {
    GenerationSummary g;
    std::vector<double> ttft, itl, e2e, rate;
    std::map<int, std::vector<double>> by_turn;
    for (const auto& x : generations_) {
      ++g.count;
      g.prompt_tokens += x.prompt_tokens;
      g.completion_tokens += x.completion_tokens ? x.completion_tokens : x.pieces;
      g.cached_tokens += x.cached_tokens;
      g.pieces += x.pieces;
      double total = seconds(x.end - x.start);
      e2e.push_back(total);
      itl.insert(itl.end(), x.inter_token_s.begin(), x.inter_token_s.end());
      bool good = x.got_first_token;
      if (x.got_first_token) {
        double t = seconds(x.first_token - x.start);
        ttft.push_back(t);
        by_turn[x.turn].push_back(t);
        if (slo.ttft_s > 0 && t > slo.ttft_s) good = false;
        // Decode speed of this stream: tokens after the first over the time after the first.
        uint64_t n = x.completion_tokens ? x.completion_tokens : x.pieces;
        double decode = seconds(x.end - x.first_token);
        if (n > 1 && decode > 0) rate.push_back(static_cast<double>(n - 1) / decode);
      }
      if (slo.latency_s > 0 && total > slo.latency_s) good = false;
      if (good) ++g.good;
    }
    g.ttft_s = percentiles(ttft);
    g.itl_s = percentiles(itl);
    g.e2e_s = percentiles(e2e);
    g.per_stream_tokens_per_s = percentiles(rate);
    for (auto& [turn, v] : by_turn) g.ttft_by_turn[turn] = percentiles(v);
    if (elapsed_s > 0) {
      g.output_tokens_per_s = static_cast<double>(g.completion_tokens) / elapsed_s;
      g.goodput_per_s = static_cast<double>(g.good) / elapsed_s;
    }
    s.generation = std::move(g);
  }

  for (size_t i = 0; i < buckets_.size(); ++i) {
    Bucket b = buckets_[i];
    TimelinePoint t;
    t.t_s = static_cast<double>(i + 1);
    t.requests = b.requests;
    t.errors = b.errors;
    t.tokens = b.tokens;
    Percentiles p = percentiles(b.latency_s);
    t.p50_s = p.p50;
    t.p90_s = p.p90;
    t.p99_s = p.p99;
    t.ttft_p50_s = percentiles(b.ttft_s).p50;
    s.timeline.push_back(t);
  }
  return s;
}

}  // namespace parley::tools::loadtest
