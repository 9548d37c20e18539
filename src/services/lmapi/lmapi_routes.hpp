// lm-api: the OpenAI protocol over the in-process engine (llm::LocalGenerator).
//
//   POST /v1/chat/completions, POST /v1/completions   (JSON, or SSE with "stream": true)
//   GET  /v1/models
//   GET  /metrics                                      (Prometheus; engine gauges refreshed per scrape)
// With an API key, every route but /healthz and /readyz needs "Authorization: Bearer KEY" (401).
//
// Metrics (documented in docs/api.md):
//   parley_lm_requests_total{endpoint,status}      requests answered
//   parley_lm_requests_running / _waiting           sequences decoding / queued in the engine
//   parley_lm_prompt_tokens_total                   prompt tokens evaluated (cache hits excluded)
//   parley_lm_generated_tokens_total                tokens sampled
//   parley_lm_prefix_cache_hit_tokens_total         prompt tokens reused from the KV cache
//   parley_lm_preemptions_total                     sequences preempted for KV memory
//   parley_lm_kv_cache_usage_ratio                  used / total KV blocks
//   parley_lm_time_to_first_token_seconds           histogram, request received -> first text
//   parley_lm_inter_token_latency_seconds           histogram, between streamed pieces
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "net/router.hpp"

namespace parley {
class Metrics;
}
namespace parley::llm {
class LocalGenerator;
}

namespace parley::services::lmapi {

class LmApi {
 public:
  // `api_key` empty: no authentication. `metrics` must outlive this.
  LmApi(llm::LocalGenerator& generator, std::string api_key, Metrics& metrics);
  ~LmApi();

  void add_routes(net::Router& router);
  boost::asio::awaitable<Status> readiness();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace parley::services::lmapi
