// What a load test measured: per-endpoint request outcomes and latencies, generation timings
// (time to first token, inter-token latency, tokens), and a per-second timeline for plots.
//
//   Recorder rec(Clock::now());
//   rec.request("GET /v1/chats/{id}", start, end, std::nullopt, 200);
//   rec.generation({.start = s, .first_token = f, .end = e, .completion_tokens = 128, .turn = 1});
//   Summary s = rec.summarize(elapsed_s, slo);       // percentiles, rates, goodput
//
// Not thread-safe: a load test runs every simulated user on one event-loop thread. Latencies are
// kept as raw samples (8 bytes each; 5,000 req/s for 10 minutes is 24 MB), so percentiles are exact.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace parley::tools::loadtest {

using Clock = std::chrono::steady_clock;

// Why a request failed: an HTTP error status, no answer in time, a stream that ended without its
// end marker (or with an error event), or no connection at all.
enum class ErrorKind : uint8_t { status, timeout, broken_stream, connect };
inline constexpr int kErrorKinds = 4;
std::string_view error_kind_name(ErrorKind k);

struct Percentiles {
  uint64_t count = 0;
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
};
// Nearest-rank percentiles of `values` (sorted in place).
Percentiles percentiles(std::vector<double>& values);

struct EndpointTotals {
  uint64_t requests = 0;  // finished, successful or not (cut-short streams excluded)
  uint64_t ok = 0;
  std::array<uint64_t, kErrorKinds> errors{};
  std::map<int, uint64_t> statuses;  // every status received
  std::vector<double> latency_s;     // of successful requests: start -> last byte
};

// One streamed generation (lm or chat scenario).
struct GenerationSample {
  Clock::time_point start, first_token, end;
  bool got_first_token = false;
  std::vector<double> inter_token_s;  // gaps between streamed pieces after the first
  uint64_t prompt_tokens = 0, completion_tokens = 0, cached_tokens = 0;  // usage (0 when unknown)
  uint64_t pieces = 0;                                                   // streamed text pieces received
  int turn = 1;  // 1-based turn of a multi-turn conversation
};

struct Slo {
  double ttft_s = 0;     // 0: no objective
  double latency_s = 0;  // whole request (or stream), 0: no objective
};

struct GenerationSummary {
  uint64_t count = 0;
  Percentiles ttft_s, itl_s, e2e_s, per_stream_tokens_per_s;
  uint64_t prompt_tokens = 0, completion_tokens = 0, cached_tokens = 0, pieces = 0;
  double output_tokens_per_s = 0;  // aggregate: completion tokens / elapsed
  uint64_t good = 0;               // generations meeting every objective given
  double goodput_per_s = 0;
  std::map<int, Percentiles> ttft_by_turn;
};

struct TimelinePoint {
  double t_s = 0;  // end of the one-second bucket, seconds since the start
  uint64_t requests = 0, errors = 0, tokens = 0;
  double p50_s = 0, p90_s = 0, p99_s = 0;  // latency of requests finished in the bucket
  double ttft_p50_s = 0;
};

struct Summary {
  double elapsed_s = 0;
  EndpointTotals overall;
  Percentiles overall_latency;
  std::map<std::string, std::pair<EndpointTotals, Percentiles>> endpoints;
  std::optional<GenerationSummary> generation;
  uint64_t good_requests = 0;  // non-generation requests meeting the latency objective
  std::vector<TimelinePoint> timeline;
  Percentiles request_latency;  // of the endpoints that are not streamed generations
  uint64_t cut_short = 0;       // streams still running when the run ended (not errors)
};

class Recorder {
 public:
  explicit Recorder(Clock::time_point start) : start_(start) {}
  Clock::time_point start() const { return start_; }

  // A finished request. `error` empty: success (latency recorded). `status` 0 when none arrived.
  void request(std::string_view endpoint, Clock::time_point begin, Clock::time_point end,
               std::optional<ErrorKind> error, int status);
  void generation(GenerationSample sample);
  void cut_short() { ++cut_short_; }
  // Declares `endpoint` a streamed generation: its latency is the whole stream, so it is kept out
  // of Summary::request_latency (what a latency objective for pages and API calls is about).
  void mark_stream(std::string_view endpoint) { streams_.emplace(endpoint); }

  uint64_t requests() const { return total_requests_; }
  uint64_t errors() const { return total_errors_; }
  uint64_t tokens() const { return total_tokens_; }
  // Latency percentiles of the requests finished since the previous call (the progress line).
  Percentiles take_recent();

  Summary summarize(double elapsed_s, const Slo& slo) const;

 private:
  struct Bucket {
    uint64_t requests = 0, errors = 0, tokens = 0;
    std::vector<double> latency_s, ttft_s;
  };
  Bucket& bucket(Clock::time_point t);

  Clock::time_point start_;
  std::map<std::string, EndpointTotals, std::less<>> endpoints_;
  std::vector<GenerationSample> generations_;
  std::vector<Bucket> buckets_;
  std::vector<double> recent_;
  std::set<std::string, std::less<>> streams_;
  uint64_t total_requests_ = 0, total_errors_ = 0, total_tokens_ = 0, cut_short_ = 0;
};

}  // namespace parley::tools::loadtest
