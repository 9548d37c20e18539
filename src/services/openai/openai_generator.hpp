// OpenAiGenerator: the Generator seam (llm/generator.hpp) as a client of OpenAI-compatible servers:
// Parley's lm-api, or llama.cpp server, vLLM, TGI, Ollama. Streams /v1/chat/completions (or
// /v1/completions for a raw prompt) over SSE.
//
// Several endpoints (lm-api replicas) may be given, as URLs or as a DNS name whose addresses are
// the replicas ("dns+http://lm-api-replicas:8082", re-resolved every 10 s: endpoint_set.hpp). Each
// chat sticks to one replica, the one that already holds its prefix in its KV cache: rendezvous
// hashing of the affinity key (the chat id) over the healthy endpoints. It goes elsewhere when that
// replica is unhealthy (a connection failure marks it down for a few seconds and re-resolves the
// names) or clearly busier than the least busy one (outstanding requests from this client), and
// then to the least busy one. Without an affinity key: least busy. A request whose connection
// fails before any answer is sent once more, to another replica if there is a healthy one.
//
// Errors: unavailable when the server is busy (503/429) or unreachable; invalid_argument for its
// 400s (e.g. the context limit), with the server's message.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "llm/generator.hpp"
#include "net/client.hpp"
#include "services/openai/endpoint_set.hpp"

namespace parley::services {

struct OpenAiGeneratorOptions {
  std::vector<std::string> endpoints;  // "http://lm-api:8082", ".../v1", "dns+http://lm-api-replicas:8082"
  std::string api_key;                 // sent as Bearer when not empty
  std::string model;                   // the "model" field (some servers need one); "" = "default"
  bool affinity = true;                // route chats to the replica holding their prefix
  int busy_margin = 2;                 // "clearly busier": this many more outstanding requests
  std::chrono::milliseconds down_for = std::chrono::seconds(5);
  std::chrono::milliseconds refresh_every = std::chrono::seconds(10);  // re-resolve dns+ names
  HostResolver resolver;  // empty: the system's (getaddrinfo); tests feed their own
};

class OpenAiGenerator : public llm::Generator {
 public:
  OpenAiGenerator(net::HttpClient& client, OpenAiGeneratorOptions options);
  ~OpenAiGenerator() override;

  boost::asio::awaitable<Result<std::unique_ptr<llm::TextStream>>> generate(
      llm::GenerationInput input) override;
  boost::asio::awaitable<Status> ready() override;
  std::string model_name() const override;

  // The endpoint index (in endpoint_urls()) a request with this affinity key would use now.
  size_t pick(const std::string& affinity_key) const;
  size_t endpoint_count() const;
  std::vector<std::string> endpoint_urls() const;    // the current set, sorted: ".../v1" base URLs
  boost::asio::awaitable<void> refresh_endpoints();  // re-resolve dns+ names now
  const EndpointSet& endpoint_set() const { return set_; }

 private:
  net::HttpClient& client_;
  OpenAiGeneratorOptions options_;
  EndpointSet set_;
  std::atomic<uint64_t> requests_{0};  // affinity off: scrambled into a random choice per request
};

}  // namespace parley::services
