// Engine: continuous batching over one model.
//
// One scheduler thread owns the batch loop (docs/architecture.md):
//   take new requests and cancellations -> build the step's batch (one token of every decoding
//   sequence, then chunks of pending prompts up to the step budget) -> run the forward pass ->
//   sample -> hand out tokens.
// Callers on any thread submit() a request and get a Sequence handle; tokens arrive on the handle
// (poll() plus an optional notify callback, so an event loop can wake a coroutine). Cancelling is a
// message to the loop: the sequence leaves the batch at the next step and frees its KV blocks.
//
// KV memory is one shared pool of blocks (KvCache). A prompt that begins with tokens a finished
// sequence left in the pool (the earlier turns of the same chat) reuses those blocks and starts
// after them. When the pool runs out, idle cached prefixes are evicted first, then the most
// recently started sequence is preempted (its blocks freed; it resumes later by recomputing).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/result.hpp"
#include "llm/model/model.hpp"
#include <span>

namespace parley::llm {

struct EngineOptions {
  int threads = 0;               // compute threads (0: physical cores)
  int64_t ctx = 4096;            // maximum tokens of one sequence (prompt + generated)
  int slots = 8;                 // sequences decoding together
  int queue = 64;                // requests allowed to wait beyond the slots
  int64_t kv_tokens = 0;         // pool size in tokens (0: ctx * slots)
  int64_t step_tokens = 512;     // most tokens one forward pass carries (decode + prompt chunks)
  bool prefix_cache = true;
};

enum class FinishReason { none, stop, length, cancelled, error };
const char* finish_reason_name(FinishReason r);  // "stop", "length", "cancelled", "error"

// Picks the next token from the logits [n_vocab] (which it may modify) given the tokens generated
// so far. Called on the scheduler thread only. Empty: greedy.
using TokenSampler = std::function<int32_t(std::span<float> logits, std::span<const int32_t> generated)>;

struct GenerationRequest {
  std::vector<int32_t> prompt;
  TokenSampler sampler;
  int64_t max_tokens = 256;
  std::vector<int32_t> stop_tokens;  // end of generation (EOS, end of turn)
};

// The caller's view of one generation. Thread-safe.
class Sequence {
 public:
  // Moves newly generated tokens into `out`; returns the finish reason once finished (after the
  // last tokens have been handed out), FinishReason::none while it runs.
  FinishReason poll(std::vector<int32_t>& out);
  // Called (on the scheduler thread) whenever tokens or the finish become available. Set it
  // before submitting, or right after (it is called at least once more if anything is pending).
  void set_notify(std::function<void()> fn);
  void cancel();
  bool finished() const;

  int64_t prompt_tokens() const { return prompt_tokens_; }
  int64_t cached_tokens() const { return cached_tokens_.load(); }  // prompt tokens reused from the cache
  const std::string& error_message() const { return error_; }

 private:
  friend class Engine;
  void push(int32_t token);
  void finish(FinishReason r, std::string error = {});
  void notify();

  mutable std::mutex mu_;
  std::vector<int32_t> pending_;
  FinishReason finish_ = FinishReason::none;
  std::function<void()> notify_;
  std::atomic<bool> cancel_{false};
  int64_t prompt_tokens_ = 0;
  std::atomic<int64_t> cached_tokens_{0};
  std::string error_;
};

struct EngineStats {
  int64_t running = 0;
  int64_t waiting = 0;
  int64_t kv_blocks_used = 0;
  int64_t kv_blocks_total = 0;
  int64_t prompt_tokens_total = 0;      // prompt tokens evaluated (excluding cache hits)
  int64_t generated_tokens_total = 0;
  int64_t prefix_hit_tokens_total = 0;  // prompt tokens reused from the prefix cache
  int64_t preemptions_total = 0;
  int64_t steps_total = 0;
};

class Engine {
 public:
  Engine(std::shared_ptr<const Model> model, EngineOptions options);
  ~Engine();  // stops the loop; unfinished sequences finish as cancelled
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // invalid_argument when the prompt is empty, holds an unknown token, or prompt + max_tokens
  // exceeds the context (the message states the limit); unavailable when the waiting queue is full.
  Result<std::shared_ptr<Sequence>> submit(GenerationRequest request);

  EngineStats stats() const;
  const Model& model() const { return *model_; }
  const EngineOptions& options() const { return options_; }

 private:
  struct Impl;
  std::shared_ptr<const Model> model_;
  EngineOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::llm
