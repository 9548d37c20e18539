// The continuous-batching engine on the real tiny model: exact greedy output, concurrency equal to
// running alone, prefix reuse, cancellation, limits, and preemption when the KV pool is small.
#include "llm/runtime/engine.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace parley::llm {
namespace {

std::shared_ptr<Model> stories() {
  static auto m = Model::load(std::string(PARLEY_SHARED_DIR) + "/models/stories260K.gguf");
  return m;
}

// Waits for the end of a sequence and returns its tokens.
std::vector<int32_t> collect(Sequence& s, FinishReason* why = nullptr) {
  std::vector<int32_t> out;
  FinishReason r;
  while ((r = s.poll(out)) == FinishReason::none) std::this_thread::sleep_for(std::chrono::microseconds(200));
  s.poll(out);
  if (why) *why = r;
  return out;
}

GenerationRequest request(std::vector<int32_t> prompt, int64_t n) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.max_tokens = n;
  return r;
}

const std::vector<int32_t> kOnceUponATime{1, 403, 407, 261, 378};
const std::vector<int32_t> kGolden{432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
                                   410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394,
                                   261, 370, 432, 352, 266, 268, 388, 426, 338, 391, 266, 267, 337, 335, 312, 432,
                                   398, 312, 286, 267, 414, 270, 333, 415, 426, 13,  438, 310, 439, 419, 357, 336};

TEST(Engine, GreedyMatchesGolden) {
  Engine engine(stories(), EngineOptions{.threads = 2, .ctx = 256, .slots = 4});
  auto seq = engine.submit(request(kOnceUponATime, 64));
  ASSERT_TRUE(seq.ok());
  FinishReason why;
  EXPECT_EQ(collect(**seq, &why), kGolden);
  EXPECT_EQ(why, FinishReason::length);
}

std::vector<std::vector<int32_t>> prompts() {
  std::vector<std::vector<int32_t>> p;
  for (int i = 0; i < 8; ++i) {
    std::vector<int32_t> t{1};
    for (int j = 0; j <= i * 3; ++j) t.push_back(static_cast<int32_t>(260 + (i * 37 + j * 11) % 200));
    p.push_back(t);
  }
  return p;
}

TEST(Engine, EightConcurrentStreamsEqualEachAlone) {
  auto ps = prompts();
  std::vector<std::vector<int32_t>> alone;
  {
    Engine engine(stories(), EngineOptions{.threads = 2, .ctx = 256, .slots = 1, .prefix_cache = false});
    for (auto& p : ps) alone.push_back(collect(**engine.submit(request(p, 40))));
  }
  Engine engine(stories(), EngineOptions{.threads = 2, .ctx = 256, .slots = 8, .step_tokens = 16});
  std::vector<std::shared_ptr<Sequence>> seqs;
  for (auto& p : ps) seqs.push_back(*engine.submit(request(p, 40)));
  for (size_t i = 0; i < ps.size(); ++i) EXPECT_EQ(collect(*seqs[i]), alone[i]) << "sequence " << i;
  EXPECT_GT(engine.stats().steps_total, 0);
  EXPECT_LT(engine.stats().steps_total, 8 * 40);  // they really shared steps
}

TEST(Engine, NextTurnReusesCachedPrefix) {
  Engine engine(stories(), EngineOptions{.threads = 1, .ctx = 512, .slots = 2});
  auto first = collect(**engine.submit(request(kOnceUponATime, 30)));
  std::vector<int32_t> turn2 = kOnceUponATime;
  turn2.insert(turn2.end(), first.begin(), first.end());
  turn2.insert(turn2.end(), {13, 403, 407});
  auto seq = *engine.submit(request(turn2, 20));
  auto second = collect(*seq);
  EXPECT_GE(seq->cached_tokens(), static_cast<int64_t>(kOnceUponATime.size() + first.size() - 1));
  EXPECT_EQ(engine.stats().prefix_hit_tokens_total, seq->cached_tokens());

  Engine fresh(stories(), EngineOptions{.threads = 1, .ctx = 512, .slots = 2, .prefix_cache = false});
  EXPECT_EQ(second, collect(**fresh.submit(request(turn2, 20))));
}

TEST(Engine, CancelFreesSlotAndBlocks) {
  Engine engine(stories(), EngineOptions{.threads = 1, .ctx = 2048, .slots = 1, .prefix_cache = false});
  auto long_run = *engine.submit(request(kOnceUponATime, 2000));
  std::vector<int32_t> got;
  while (got.size() < 5) {
    long_run->poll(got);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  long_run->cancel();
  FinishReason why;
  collect(*long_run, &why);
  EXPECT_EQ(why, FinishReason::cancelled);
  // The single slot is free again: the next request runs to the end.
  auto next = *engine.submit(request(kOnceUponATime, 8));
  EXPECT_EQ(collect(*next).size(), 8u);
  for (int i = 0; i < 100 && engine.stats().kv_blocks_used != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(engine.stats().kv_blocks_used, 0);
  EXPECT_EQ(engine.stats().running, 0);
}

TEST(Engine, RejectsWhatCannotFit) {
  Engine engine(stories(), EngineOptions{.threads = 1, .ctx = 64, .slots = 1, .queue = 1});
  auto too_long = engine.submit(request(kOnceUponATime, 60));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(too_long.error().message.find("64"), std::string::npos);
  EXPECT_FALSE(engine.submit(request({}, 4)).ok());
  EXPECT_FALSE(engine.submit(request({1, 99999}, 4)).ok());
  // One running + one waiting fill it; the third is refused as busy.
  auto a = engine.submit(request(kOnceUponATime, 50));
  auto b = engine.submit(request(kOnceUponATime, 50));
  auto c = engine.submit(request(kOnceUponATime, 50));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  // c may be accepted if a was already admitted to its slot; a fourth cannot be.
  auto d = engine.submit(request(kOnceUponATime, 50));
  EXPECT_TRUE(!c.ok() || !d.ok());
  if (!d.ok()) {
    EXPECT_EQ(d.error().code, ErrorCode::unavailable);
  }
  for (auto* r : {&a, &b, &c, &d})
    if (r->ok()) (**r)->cancel();
}

// A pool that holds one full context only: four sequences that each grow long must take turns
// (preemption and resumption); none fails, each produces all its tokens, and each continues the
// text it had begun. Exact equality with running alone is not guaranteed: a resumed sequence
// recomputes its tokens with the prompt kernels (several tokens per matmul), whose float summation
// order differs from decoding's, and on this tiny model a near-tie flips after ~60 tokens with the
// AVX-512 kernels (scalar and AVX2 match exactly). So the first 48 tokens must match.
TEST(Engine, SmallPoolPreemptsAndResumesWithoutFailing) {
  auto ps = prompts();
  ps.resize(4);
  std::vector<std::vector<int32_t>> alone;
  {
    Engine engine(stories(), EngineOptions{.threads = 1, .ctx = 128, .slots = 1, .prefix_cache = false});
    for (auto& p : ps) alone.push_back(collect(**engine.submit(request(p, 100))));
  }
  Engine engine(stories(), EngineOptions{.threads = 1, .ctx = 128, .slots = 4, .kv_tokens = 128});
  std::vector<std::shared_ptr<Sequence>> seqs;
  for (auto& p : ps) seqs.push_back(*engine.submit(request(p, 100)));
  for (size_t i = 0; i < ps.size(); ++i) {
    FinishReason why;
    auto got = collect(*seqs[i], &why);
    size_t same = 0;
    while (same < got.size() && same < alone[i].size() && got[same] == alone[i][same]) ++same;
    EXPECT_GE(same, 48u) << "sequence " << i << " diverges at token " << same;
    EXPECT_EQ(got.size(), 100u);
    EXPECT_EQ(why, FinishReason::length);
  }
  EXPECT_GT(engine.stats().preemptions_total, 0);
}

}  // namespace
}  // namespace parley::llm
