#include "llm/sample/sampler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>

namespace parley::llm::sample {
namespace {

constexpr int32_t kQwenVocab = 151936;

std::vector<float> random_logits(size_t n, uint32_t seed, float scale = 3.0f) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(g);
  return v;
}

// Reference: every token sorted by logit (descending, ties by id), probabilities by softmax.
std::vector<Candidate> sorted_all(const std::vector<float>& logits) {
  std::vector<Candidate> c;
  for (size_t i = 0; i < logits.size(); ++i) c.push_back({logits[i], static_cast<TokenId>(i)});
  std::sort(c.begin(), c.end(),
            [](auto& a, auto& b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); });
  return c;
}

std::set<TokenId> ids_of(const std::vector<Candidate>& c) {
  std::set<TokenId> s;
  for (auto& x : c) s.insert(x.id);
  return s;
}

SamplingParams greedy() {
  SamplingParams p;
  p.temperature = 0;
  return p;
}

TEST(Rng, SameSeedSameSequence) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    differs |= x != c.next();
  }
  EXPECT_TRUE(differs);
  Rng u(7);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const double x = u.uniform();
    ASSERT_GE(x, 0.0);
    ASSERT_LT(x, 1.0);
    sum += x;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.01);
}

TEST(Sampler, GreedyTakesTheFirstMaximum) {
  Sampler s(greedy(), 5);
  EXPECT_EQ(s.sample(std::vector<float>{0.1f, 3.0f, -1.0f, 3.0f, 2.0f}), 1);
  EXPECT_THROW(s.sample(std::vector<float>{1.0f}), std::invalid_argument);
}

TEST(Sampler, TopKOneIsGreedyAtAnyTemperature) {
  const auto logits = random_logits(1000, 1);
  const TokenId best = static_cast<TokenId>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  SamplingParams p;
  p.temperature = 5.0f;
  p.top_k = 1;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  Sampler s(p, 1000);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(s.sample(logits), best);
}

TEST(CandidateSet, TopKEqualsFullSortReference) {
  const auto logits = random_logits(kQwenVocab, 2);
  const auto ref = sorted_all(logits);
  for (size_t k : {1u, 2u, 40u, 1000u}) {
    CandidateSet c;
    c.assign(logits);
    c.top_k(k);
    ASSERT_EQ(c.items.size(), k);
    for (size_t i = 0; i < k; ++i) EXPECT_EQ(c.items[i].id, ref[i].id);
    EXPECT_TRUE(c.sorted);
  }
}

TEST(CandidateSet, TopPEqualsFullSortReference) {
  for (float scale : {0.5f, 3.0f, 10.0f}) {
    const auto logits = random_logits(kQwenVocab, 3, scale);
    const auto ref = sorted_all(logits);
    double sum = 0;
    for (auto& c : ref) sum += std::exp(static_cast<double>(c.logit - ref[0].logit));
    for (float p : {0.1f, 0.5f, 0.9f, 0.95f, 0.999f}) {
      size_t n = 0;
      for (double cum = 0; n < ref.size();) {
        cum += std::exp(static_cast<double>(ref[n].logit - ref[0].logit)) / sum;
        ++n;
        if (cum >= p) break;
      }
      CandidateSet c;
      c.assign(logits);
      c.top_p(p);
      // The boundary token may differ by one through summation order; the sets must agree otherwise.
      ASSERT_NEAR(static_cast<double>(c.items.size()), static_cast<double>(n), 1.0)
          << "scale " << scale << " p " << p;
      const std::vector<Candidate> prefix(ref.begin(),
                                          ref.begin() + static_cast<std::ptrdiff_t>(c.items.size()));
      ASSERT_EQ(ids_of(c.items), ids_of(prefix)) << "scale " << scale << " p " << p;
    }
  }
}

TEST(CandidateSet, HeapTopKEqualsNthElementTopK) {
  auto logits = random_logits(kQwenVocab, 9);
  logits[5] = NAN;
  logits[6] = -INFINITY;
  logits[100] = logits[200] = 50.0f;  // a tie at the top: lower id first
  for (size_t k : {1u, 3u, 40u, 5000u}) {
    CandidateSet a, b;
    a.assign_top_k(logits, k);
    b.assign(logits);
    b.top_k(k);
    ASSERT_EQ(a.items.size(), k);
    for (size_t i = 0; i < k; ++i) ASSERT_EQ(a.items[i].id, b.items[i].id) << k << " " << i;
    EXPECT_EQ(a.items[0].id, 100);
  }
}

TEST(CandidateSet, MinPKeepsTokensAboveTheRelativeThreshold) {
  const auto logits = random_logits(kQwenVocab, 4);
  const float max = *std::max_element(logits.begin(), logits.end());
  for (float p : {0.01f, 0.05f, 0.5f}) {
    CandidateSet c;
    c.assign(logits);
    c.min_p(p);
    std::set<TokenId> expect;
    for (size_t i = 0; i < logits.size(); ++i) {
      if (std::exp(logits[i] - max) >= p) expect.insert(static_cast<TokenId>(i));
    }
    EXPECT_EQ(ids_of(c.items), expect) << p;
  }
}

TEST(CandidateSet, NanAndMinusInfinityAreNeverCandidates) {
  CandidateSet c;
  c.assign(std::vector<float>{NAN, -INFINITY, 1.0f, 0.5f});
  EXPECT_EQ(ids_of(c.items), (std::set<TokenId>{2, 3}));
}

// Draw frequencies follow softmax(logit / T) over what the filters keep.
TEST(Sampler, DrawFrequenciesMatchTheDistribution) {
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
  struct Case {
    float temperature, top_p, min_p;
    int top_k;
    std::vector<double> expect;
  };
  const double z2 = std::sqrt(0.5) + std::sqrt(0.3) + std::sqrt(0.15) + std::sqrt(0.05);
  const std::vector<Case> cases = {
      {1.0f, 1.0f, 0.0f, 0, {0.5, 0.3, 0.15, 0.05}},
      {1.0f, 0.75f, 0.0f, 0, {0.5 / 0.8, 0.3 / 0.8, 0, 0}},              // top-p: two tokens reach 0.75
      {1.0f, 0.85f, 0.0f, 0, {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}},  // three reach 0.85
      {1.0f, 1.0f, 0.0f, 2, {0.5 / 0.8, 0.3 / 0.8, 0, 0}},               // top-k 2
      {1.0f, 1.0f, 0.2f, 0, {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}},   // min-p: 0.05 < 0.2 * 0.5
      {2.0f,
       1.0f,
       0.0f,
       0,
       {std::sqrt(0.5) / z2, std::sqrt(0.3) / z2, std::sqrt(0.15) / z2, std::sqrt(0.05) / z2}},
  };
  for (const Case& c : cases) {
    SamplingParams p;
    p.temperature = c.temperature;
    p.top_k = c.top_k;
    p.top_p = c.top_p;
    p.min_p = c.min_p;
    p.seed = 1234;
    Sampler s(p, 4);
    std::vector<int> hits(4);
    const int n = 40000;
    for (int i = 0; i < n; ++i) ++hits[static_cast<size_t>(s.sample(logits))];
    for (size_t t = 0; t < 4; ++t) {
      EXPECT_NEAR(hits[t] / static_cast<double>(n), c.expect[t], 0.01)
          << "token " << t << " T " << c.temperature << " top_p " << c.top_p << " top_k " << c.top_k;
    }
  }
}

TEST(Sampler, SameSeedSameTokensDifferentSeedDifferentTokens) {
  const auto logits = random_logits(kQwenVocab, 5, 1.0f);
  auto run = [&](uint64_t seed) {
    SamplingParams p;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 0.95f;
    p.min_p = 0;
    p.seed = seed;
    Sampler s(p, kQwenVocab);
    std::vector<TokenId> out;
    for (int i = 0; i < 50; ++i) out.push_back(s.sample(logits));
    s.reset();
    EXPECT_EQ(s.sample(logits), out[0]);  // reset reseeds
    return out;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

TEST(Sampler, PenaltiesChangeExactlyTheSeenTokens) {
  SamplingParams p = greedy();
  p.repeat_penalty = 2.0f;
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.25f;
  p.penalty_last_n = 3;
  Sampler s(p, 6);
  s.accept(std::vector<TokenId>{0, 1, 1, 2});  // the window keeps the last 3: 1, 1, 2
  std::vector<float> l = {4.0f, 4.0f, -1.0f, 4.0f, 1.0f, 1.0f};
  s.penalize(l);
  EXPECT_FLOAT_EQ(l[0], 4.0f);                         // left the window
  EXPECT_FLOAT_EQ(l[1], 4.0f / 2 - 2 * 0.25f - 0.5f);  // twice
  EXPECT_FLOAT_EQ(l[2], -1.0f * 2 - 0.25f - 0.5f);     // negative: multiplied
  EXPECT_FLOAT_EQ(l[3], 4.0f);
  // Greedy sees penalized logits.
  EXPECT_EQ(s.sample(std::vector<float>{0.0f, 3.0f, 2.9f, 0.0f, 0.0f, 0.0f}), 2);

  SamplingParams off = greedy();
  off.repeat_penalty = 2.0f;
  off.penalty_last_n = 0;  // no window: no penalties
  Sampler none(off, 2);
  none.accept(0);
  EXPECT_EQ(none.sample(std::vector<float>{1.0f, 0.9f}), 0);
}

// Prints the cost per token of each configuration next to one full sort of the vocabulary (the
// yardstick). Printed, not asserted: performance lives in benchmarks, not in timed tests.
TEST(Sampler, CostPerTokenOnAQwenSizedVocabulary) {
  const auto logits = random_logits(kQwenVocab, 6, 2.0f);
  const auto ms_per = [](int n, auto&& fn) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) fn();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / n;
  };
  std::vector<Candidate> all;
  const double sort_ms = ms_per(10, [&] {
    all.clear();
    for (size_t i = 0; i < logits.size(); ++i) all.push_back({logits[i], static_cast<TokenId>(i)});
    std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.logit > b.logit; });
  });
  std::printf("full sort of %d logits: %.3f ms\n", kQwenVocab, sort_ms);

  SamplingParams defaults;
  SamplingParams nucleus;
  nucleus.top_k = 0;
  nucleus.min_p = 0;
  nucleus.top_p = 0.95f;
  SamplingParams minp = nucleus;
  minp.top_p = 1.0f;
  minp.min_p = 0.05f;
  SamplingParams penal = defaults;
  penal.repeat_penalty = 1.1f;
  penal.frequency_penalty = 0.1f;
  penal.penalty_last_n = 256;
  const std::pair<const char*, SamplingParams> setups[] = {
      {"greedy", greedy()},
      {"defaults (top_k 40, top_p .95, min_p .05)", defaults},
      {"top_p .95 alone", nucleus},
      {"min_p .05 alone", minp},
      {"defaults + penalties over 256", penal}};
  for (const auto& [name, params] : setups) {
    Sampler s(params, kQwenVocab);
    for (int i = 0; i < 256; ++i) s.accept(i * 7);
    const double ms = ms_per(20, [&] { s.accept(s.sample(logits)); });
    std::printf("sample, vocab %d, %s: %.3f ms/token (full sort %.3f ms)\n", kQwenVocab, name, ms, sort_ms);
  }
}

}  // namespace
}  // namespace parley::llm::sample
