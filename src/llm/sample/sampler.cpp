#include "llm/sample/sampler.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <stdexcept>
#include <string>

namespace parley::llm::sample {

namespace {

bool descending(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

float max_logit(const std::vector<Candidate>& c) {
  float m = -INFINITY;
  for (const Candidate& x : c) m = std::max(m, x.logit);
  return m;
}

}  // namespace

void CandidateSet::assign(std::span<const float> logits) {
  items.clear();
  items.reserve(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) {
    const float l = logits[i];
    if (!std::isnan(l) && l != -INFINITY) items.push_back({l, static_cast<TokenId>(i), 0.0f});
  }
  sorted = false;
}

void CandidateSet::assign_top_k(std::span<const float> logits, size_t k) {
  // One pass with a min-heap of the k best so far: most tokens cost one comparison with its top.
  items.clear();
  const auto worse = [](const Candidate& a, const Candidate& b) {
    return descending(a, b);
  };  // heap top = worst
  for (size_t i = 0; i < logits.size(); ++i) {
    const float l = logits[i];
    if (std::isnan(l) || l == -INFINITY) continue;
    const Candidate c{l, static_cast<TokenId>(i), 0.0f};
    if (items.size() < k) {
      items.push_back(c);
      std::push_heap(items.begin(), items.end(), worse);
    } else if (descending(c, items.front())) {
      std::pop_heap(items.begin(), items.end(), worse);
      items.back() = c;
      std::push_heap(items.begin(), items.end(), worse);
    }
  }
  std::sort_heap(items.begin(), items.end(), worse);  // ascending by `worse` = best first
  sorted = true;
}

void CandidateSet::top_k(size_t k) {
  if (k == 0) return;
  if (k < items.size()) {
    std::nth_element(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(k), items.end(), descending);
    items.resize(k);
  }
  if (!sorted) std::sort(items.begin(), items.end(), descending);
  sorted = true;
}

void CandidateSet::top_p(float p) {
  if (p >= 1.0f || items.size() <= 1) return;
  const float m = max_logit(items);
  // Unnormalized probabilities, computed once: [n] floats.
  double sum = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    items[i].weight = std::exp(items[i].logit - m);
    sum += items[i].weight;
  }
  const double target = static_cast<double>(p) * sum;
  // Quickselect on the probability mass: [0, lo) is known to lie inside the nucleus (mass `acc`),
  // and the nucleus ends within (lo, hi]. Each round splits [lo, hi) at its middle with nth_element
  // and keeps the half that holds the end. Expected O(n) in total; only the last <= 64 get sorted.
  size_t lo = 0, hi = items.size();
  double acc = 0;
  auto at = [&](size_t i) { return items.begin() + static_cast<std::ptrdiff_t>(i); };
  if (!sorted) {
    while (hi - lo > 64) {
      const size_t mid = lo + (hi - lo) / 2;
      std::nth_element(at(lo), at(mid), at(hi), descending);
      double mass = 0;
      for (size_t i = lo; i < mid; ++i) mass += items[i].weight;
      if (acc + mass >= target) {
        hi = mid;
      } else {
        acc += mass;
        lo = mid;
      }
    }
    std::sort(at(lo), at(hi), descending);
  }
  for (size_t i = lo; i < hi; ++i) {
    acc += items[i].weight;
    if (acc >= target) {
      hi = i + 1;
      break;
    }
  }
  items.resize(hi);  // rounding may leave acc just short of target: then [0, hi) is kept
  // Sorted only if it was sorted before (the quickselect blocks are ordered, their insides not).
}

void CandidateSet::min_p(float p) {
  if (p <= 0.0f || items.size() <= 1) return;
  const float threshold = max_logit(items) + std::log(p);
  // remove_if keeps the order (a sorted set stays sorted); the best token always survives.
  items.erase(
      std::remove_if(items.begin(), items.end(), [&](const Candidate& c) { return c.logit < threshold; }),
      items.end());
}

TokenId CandidateSet::draw(float temperature, Rng& rng) {
  assert(!items.empty() && temperature > 0);
  const float m = max_logit(items);
  const float inv_t = 1.0f / temperature;
  double sum = 0;
  for (Candidate& c : items) {
    c.weight = std::exp((c.logit - m) * inv_t);
    sum += c.weight;
  }
  const double r = rng.uniform() * sum;
  double cum = 0;
  for (const Candidate& c : items) {
    cum += c.weight;
    if (r < cum) return c.id;
  }
  return items.back().id;  // r within rounding of sum
}

Sampler::Sampler(const SamplingParams& params, int32_t vocab_size)
    : params_(params), vocab_size_(vocab_size), rng_(params.seed) {
  if (vocab_size <= 0) throw std::invalid_argument("Sampler: vocab_size must be positive");
  work_.resize(static_cast<size_t>(vocab_size));
  cands_.items.reserve(static_cast<size_t>(vocab_size));
}

void Sampler::reset() {
  window_.clear();
  counts_.clear();
  rng_.reseed(params_.seed);
}

void Sampler::accept(TokenId id) {
  if (params_.penalty_last_n == 0) return;
  window_.push_back(id);
  ++counts_[id];
  if (params_.penalty_last_n > 0 && window_.size() > static_cast<size_t>(params_.penalty_last_n)) {
    const TokenId old = window_.front();
    window_.pop_front();
    if (--counts_[old] == 0) counts_.erase(old);
  }
}

void Sampler::accept(std::span<const TokenId> ids) {
  for (TokenId id : ids) accept(id);
}

void Sampler::penalize(std::span<float> logits) const {
  const float rep = params_.repeat_penalty;
  const float pres = params_.presence_penalty;
  const float freq = params_.frequency_penalty;
  if (rep == 1.0f && pres == 0.0f && freq == 0.0f) return;
  for (const auto& [id, count] : counts_) {
    if (id < 0 || static_cast<size_t>(id) >= logits.size()) continue;
    float& l = logits[static_cast<size_t>(id)];
    l = l > 0 ? l / rep : l * rep;
    l -= static_cast<float>(count) * freq + pres;
  }
}

TokenId Sampler::sample(std::span<const float> logits) {
  if (logits.size() != static_cast<size_t>(vocab_size_)) {
    throw std::invalid_argument("Sampler: logits size " + std::to_string(logits.size()) + " != vocab size " +
                                std::to_string(vocab_size_));
  }
  std::copy(logits.begin(), logits.end(), work_.begin());
  penalize(work_);
  const auto argmax = [&] {
    return static_cast<TokenId>(std::max_element(work_.begin(), work_.end()) - work_.begin());
  };
  if (params_.temperature <= 0.0f) return argmax();  // greedy: the first maximum

  const auto k = static_cast<size_t>(std::max(params_.top_k, 0));
  if (k > 0 && k <= work_.size() / 16) {
    cands_.assign_top_k(work_, k);
  } else {
    cands_.assign(work_);
    cands_.top_k(k);
  }
  if (cands_.items.empty()) return argmax();
  cands_.top_p(params_.top_p);
  cands_.min_p(params_.min_p);
  return cands_.draw(params_.temperature, rng_);
}

}  // namespace parley::llm::sample
