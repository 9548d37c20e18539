// Sampler: logits of one position -> the next token.
//
// Order (as the reference engine's default chain): penalties over the recent-token window ->
// top-k -> top-p -> min-p -> temperature -> a draw from the seeded RNG. temperature <= 0 is greedy
// (argmax after penalties; ties go to the lowest id). top-p and min-p look at the probabilities
// before temperature.
//
// Cost per token for a vocabulary of V: O(V) to copy and penalize the logits (penalties touch only
// the window's distinct tokens); top-k is one pass with a k-element heap (nth_element for large k);
// top-p without top-k is a quickselect on probability mass (expected O(V)); min-p is one O(V)
// pass. No full sort of the vocabulary. Not thread-safe: one Sampler per sequence.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <unordered_map>
#include <vector>

#include "llm/sample/rng.hpp"
#include "llm/tokenizer/vocab.hpp"

namespace parley::llm::sample {

using tokenizer::TokenId;

struct SamplingParams {
  float temperature = 0.8f;        // <= 0: greedy
  int32_t top_k = 40;              // <= 0 or >= vocab: off
  float top_p = 0.95f;             // >= 1: off
  float min_p = 0.05f;             // <= 0: off; keeps tokens with p >= min_p * p(most likely)
  float repeat_penalty = 1.0f;     // 1: off; seen tokens' logits: positive / penalty, negative * penalty
  float presence_penalty = 0.0f;   // subtracted once from every token seen in the window
  float frequency_penalty = 0.0f;  // subtracted once per occurrence in the window
  int32_t penalty_last_n = 64;     // window of recent accepted tokens; 0: no penalties; -1: all
  uint64_t seed = 0;
};

struct Candidate {
  float logit;
  TokenId id;
  float weight = 0;  // scratch: exp(logit - max) (/ temperature) while a step needs it
};

// The tokens still in the running, with the truncation steps. Each step keeps at least one token.
struct CandidateSet {
  std::vector<Candidate> items;
  bool sorted = false;  // items by logit descending (ties: lower id first)

  void assign(std::span<const float> logits);  // all tokens except NaN / -inf logits
  // Same as assign + top_k(k) in one pass (a bounded heap: O(V) + O(k log k) typically).
  void assign_top_k(std::span<const float> logits, size_t k);
  void top_k(size_t k);  // the k largest logits (k = 0: all); leaves the set sorted
  void top_p(float p);   // the smallest most-likely prefix whose probability reaches p
  void min_p(float p);   // tokens with probability >= p * the largest probability
  // A draw from softmax(logit / temperature) over the set (temperature > 0).
  TokenId draw(float temperature, Rng& rng);
};

class Sampler {
 public:
  Sampler(const SamplingParams& params, int32_t vocab_size);

  // The next token from logits [vocab_size] (not modified). Does not accept it: call accept().
  TokenId sample(std::span<const float> logits);
  // Records a token for the penalty window (prompt tokens too, if they should count).
  void accept(TokenId id);
  void accept(std::span<const TokenId> ids);
  // Applies the repetition / presence / frequency penalties of the current window in place.
  void penalize(std::span<float> logits) const;
  // Forgets the window and reseeds the RNG with params().seed.
  void reset();

  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  int32_t vocab_size_;
  Rng rng_;
  std::vector<float> work_;  // [vocab] penalized logits
  CandidateSet cands_;
  std::deque<TokenId> window_;                   // the last penalty_last_n accepted tokens
  std::unordered_map<TokenId, int32_t> counts_;  // occurrences in window_
};

}  // namespace parley::llm::sample
