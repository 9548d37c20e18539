// The forward pass's attention kernels (ops.hpp): the AVX2 versions equal the scalar reference within
// float-summation tolerance (1e-5 of the sum of |terms| per output) on head sizes that take the vector
// paths (64, 128, 256) and those that do not (40, 12), query groups around the 8-head register tile
// (1, 7, 8, 9), cache runs of 1..16 slots and a row stride wider than a head; softmax and SwiGLU
// (polynomial exp) within 2e-6 relative of the std::exp reference, overflowing tails included.
#include "llm/model/ops.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "llm/quant/fp16.hpp"

namespace parley::llm::ops {
namespace {

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

std::vector<uint16_t> random_f16(size_t n, uint32_t seed) {
  std::vector<uint16_t> v(n);
  const auto f = random_floats(n, seed);
  for (size_t i = 0; i < n; ++i) v[i] = quant::fp32_to_fp16(f[i]);
  return v;
}

struct Shape {
  int64_t hd, group, n_pos;
};
const Shape kShapes[] = {{64, 1, 1},  {64, 7, 16},  {64, 8, 5},  {64, 9, 16},
                         {128, 7, 3}, {256, 2, 16}, {40, 7, 16}, {12, 3, 4}};

TEST(AttentionKernels, ScoresMatchScalar) {
  const AttentionKernels* fast = attention_kernels_avx2();
  if (!fast) GTEST_SKIP() << "no AVX2/F16C/FMA";
  const AttentionKernels& ref = attention_kernels_scalar();
  uint32_t seed = 1;
  for (const Shape& sh : kShapes) {
    const int64_t stride = sh.hd * 3 + 8, s_stride = sh.n_pos + 3;
    const auto q = random_floats(static_cast<size_t>(sh.group * sh.hd), seed++);
    const auto k = random_f16(static_cast<size_t>(sh.n_pos * stride), seed++);
    std::vector<float> want(static_cast<size_t>(sh.group * s_stride), -1.0f), got = want;
    ref.scores_f16(q.data(), sh.group, sh.hd, k.data(), stride, sh.n_pos, 0.125f, want.data(), s_stride);
    fast->scores_f16(q.data(), sh.group, sh.hd, k.data(), stride, sh.n_pos, 0.125f, got.data(), s_stride);
    for (int64_t g = 0; g < sh.group; ++g)
      for (int64_t j = 0; j < s_stride; ++j) {
        const size_t at = static_cast<size_t>(g * s_stride + j);
        if (j >= sh.n_pos) {
          ASSERT_EQ(got[at], -1.0f) << "wrote past n_pos";
          continue;
        }
        double mag = 0;
        for (int64_t i = 0; i < sh.hd; ++i)
          mag += std::fabs(q[static_cast<size_t>(g * sh.hd + i)] *
                           quant::fp16_to_fp32(k[static_cast<size_t>(j * stride + i)]));
        ASSERT_NEAR(got[at], want[at], 1e-5 * 0.125 * mag)
            << "hd " << sh.hd << " group " << sh.group << " g " << g << " j " << j;
      }
  }
}

TEST(AttentionKernels, MixMatchesScalar) {
  const AttentionKernels* fast = attention_kernels_avx2();
  if (!fast) GTEST_SKIP() << "no AVX2/F16C/FMA";
  const AttentionKernels& ref = attention_kernels_scalar();
  uint32_t seed = 100;
  for (const Shape& sh : kShapes) {
    const int64_t stride = sh.hd * 3 + 8, p_stride = sh.n_pos + 5;
    const auto p = random_floats(static_cast<size_t>(sh.group * p_stride), seed++);
    const auto v = random_f16(static_cast<size_t>(sh.n_pos * stride), seed++);
    const auto out0 = random_floats(static_cast<size_t>(sh.group * sh.hd), seed++);  // accumulates onto out
    std::vector<float> want = out0, got = out0;
    ref.mix_f16(p.data(), p_stride, sh.group, sh.hd, v.data(), stride, sh.n_pos, want.data());
    fast->mix_f16(p.data(), p_stride, sh.group, sh.hd, v.data(), stride, sh.n_pos, got.data());
    for (int64_t g = 0; g < sh.group; ++g)
      for (int64_t i = 0; i < sh.hd; ++i) {
        double mag = std::fabs(out0[static_cast<size_t>(g * sh.hd + i)]);
        for (int64_t j = 0; j < sh.n_pos; ++j)
          mag += std::fabs(p[static_cast<size_t>(g * p_stride + j)] *
                           quant::fp16_to_fp32(v[static_cast<size_t>(j * stride + i)]));
        const size_t at = static_cast<size_t>(g * sh.hd + i);
        ASSERT_NEAR(got[at], want[at], 1e-5 * mag)
            << "hd " << sh.hd << " group " << sh.group << " g " << g << " i " << i;
      }
  }
}

TEST(VectorKernels, SoftmaxMatchesScalar) {
  const AttentionKernels* fast = attention_kernels_avx2();
  if (!fast) GTEST_SKIP() << "no AVX2/F16C/FMA";
  uint32_t seed = 300;
  for (int64_t n : {1, 7, 8, 9, 100, 1000}) {
    auto x = random_floats(static_cast<size_t>(n), seed++);
    for (auto& v : x) v *= 12.0f;  // scores spread over e^-80 .. 1
    auto want = x, got = x;
    softmax(want.data(), n);
    fast->softmax(got.data(), n);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_NEAR(got[i], want[i], 2e-6 * want[i] + 1e-37) << "n " << n << " i " << i;
  }
}

TEST(VectorKernels, SwigluMatchesScalar) {
  const AttentionKernels* fast = attention_kernels_avx2();
  if (!fast) GTEST_SKIP() << "no AVX2/F16C/FMA";
  for (int64_t n : {1, 8, 13, 4864}) {
    auto gate = random_floats(static_cast<size_t>(n), 400 + static_cast<uint32_t>(n));
    const auto up = random_floats(static_cast<size_t>(n), 500 + static_cast<uint32_t>(n));
    for (size_t i = 0; i < gate.size(); ++i)
      gate[i] *= (i % 5 == 0) ? 40.0f : 3.0f;        // tails: silu ~ 0 and ~ g
    if (n > 8) gate[3] = -100.0f, gate[4] = 100.0f;  // e^100 overflows in the reference
    std::vector<float> want(gate.size()), got(gate.size());
    swiglu(gate.data(), up.data(), want.data(), n);
    fast->swiglu(gate.data(), up.data(), got.data(), n);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_NEAR(got[i], want[i], 2e-6 * std::fabs(want[i]) + 1e-30) << "n " << n << " gate " << gate[i];
  }
}

}  // namespace
}  // namespace parley::llm::ops
