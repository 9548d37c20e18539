// The tiled attention kernel (tiled_attention.hpp): the scalar reference equals a plain double-precision
// softmax attention, and the AVX2 and AVX-512 versions equal the scalar reference, on random caches laid out
// in shuffled blocks of 8, 16 or 32 slots with a slot stride wider than a head. Cases: head sizes 64,
// 128 and 40 (no whole vector), query groups 1/4/7, tiles of 1..20 tokens, first positions 0 (the
// first token sees only slot 0), 15/16/17 (around a block edge) and 1500, scores spread wide enough
// that the running max grows from block to block (rescaling) or is set by the first slot.
#include "llm/model/tiled_attention.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

#include "llm/quant/fp16.hpp"
#include "llm/quant/kernels.hpp"

namespace parley::llm::ops {
namespace {

struct Case {
  int64_t hd, group, n_q, pos0, block_tokens;
  float q_gain;  // scales q: larger = peakier softmax
  bool rising;   // K drifts along q's direction with the slot index: the max grows every block
};

// A random cache of one KV head (head 1 of 2 in each slot, kv_dim = 2 * hd + 8) and a query tile.
struct Fixture {
  Case c;
  int64_t stride, n_slots, n_blocks, q_stride;
  std::vector<uint16_t> k, v;  // [n_blocks][block_tokens][stride], blocks in shuffled order
  std::vector<const uint16_t*> kp, vp;
  std::vector<float> q;

  explicit Fixture(const Case& cs, uint32_t seed) : c(cs) {
    stride = 2 * c.hd + 8;
    n_slots = c.pos0 + c.n_q;
    n_blocks = (n_slots + c.block_tokens - 1) / c.block_tokens;
    q_stride = c.group * c.hd + 3;  // rows of a wider activation matrix
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    q.resize(static_cast<size_t>(c.n_q * q_stride));
    for (auto& x : q) x = nd(rng) * c.q_gain;
    const size_t block_elems = static_cast<size_t>(c.block_tokens * stride);
    k.resize(block_elems * n_blocks);
    v.resize(block_elems * n_blocks);
    for (size_t i = 0; i < k.size(); ++i) {
      k[i] = quant::fp32_to_fp16(nd(rng));
      v[i] = quant::fp32_to_fp16(nd(rng));
    }
    std::vector<int64_t> order(static_cast<size_t>(n_blocks));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    if (c.rising)  // slot j's K gets + j/n_slots * 4 * sign(first query head): its score grows with j
      for (int64_t j = 0; j < n_slots; ++j)
        for (int64_t i = 0; i < c.hd; ++i) {
          uint16_t& x = k[order[j / c.block_tokens] * block_elems + (j % c.block_tokens) * stride + c.hd + i];
          x = quant::fp32_to_fp16(quant::fp16_to_fp32(x) + 4.0f * j / n_slots * (q[i] > 0 ? 1.0f : -1.0f));
        }
    for (int64_t b = 0; b < n_blocks; ++b) {
      kp.push_back(k.data() + order[b] * block_elems + c.hd);  // head 1
      vp.push_back(v.data() + order[b] * block_elems + c.hd);
    }
  }
  KvHeadView view() const { return {kp.data(), vp.data(), c.block_tokens, stride}; }
  float k_at(int64_t j, int64_t i) const {
    return quant::fp16_to_fp32(kp[j / c.block_tokens][(j % c.block_tokens) * stride + i]);
  }
  float v_at(int64_t j, int64_t i) const {
    return quant::fp16_to_fp32(vp[j / c.block_tokens][(j % c.block_tokens) * stride + i]);
  }
  int64_t out_stride() const { return q_stride + 5; }
  // Runs `kern`; the output matrix starts filled with a sentinel that must survive between rows.
  std::vector<float> run(const TiledAttention& kern, float scale) const {
    std::vector<float> out(static_cast<size_t>(c.n_q * out_stride()), -7.0f);
    std::vector<float> scratch(static_cast<size_t>(kern.scratch_floats(c.n_q, c.group, c.hd)));
    const QueryTile tile{q.data(), q_stride, out.data(), out_stride(), c.n_q, c.pos0, c.group, c.hd, scale};
    kern.run(tile, view(), scratch.data());
    return out;
  }
  // Plain softmax attention in double precision.
  std::vector<double> reference(float scale) const {
    std::vector<double> out(static_cast<size_t>(c.n_q * c.group * c.hd), 0.0);
    for (int64_t t = 0; t < c.n_q; ++t)
      for (int64_t g = 0; g < c.group; ++g) {
        const float* qr = q.data() + t * q_stride + g * c.hd;
        const int64_t n_pos = c.pos0 + t + 1;
        std::vector<double> s(static_cast<size_t>(n_pos));
        for (int64_t j = 0; j < n_pos; ++j) {
          double dot = 0;
          for (int64_t i = 0; i < c.hd; ++i) dot += static_cast<double>(qr[i]) * k_at(j, i);
          s[j] = dot * scale;
        }
        const double mx = *std::max_element(s.begin(), s.end());
        double sum = 0;
        for (auto& x : s) sum += (x = std::exp(x - mx));
        double* o = out.data() + (t * c.group + g) * c.hd;
        for (int64_t j = 0; j < n_pos; ++j)
          for (int64_t i = 0; i < c.hd; ++i) o[i] += s[j] / sum * v_at(j, i);
      }
    return out;
  }
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (int64_t hd : {64, 128, 40})
    for (int64_t group : {1, 4, 7})
      for (int64_t n_q : {1, 5, 16, 20})
        for (int64_t pos0 : {0, 15, 16, 17, 300})
          out.push_back({hd, group, n_q, pos0, 16, 1.0f, false});
  // Other block sizes (runs of <= 16 slots inside a block), peaky and rising scores, a long context.
  out.push_back({64, 7, 16, 37, 8, 1.0f, false});
  out.push_back({64, 7, 13, 70, 32, 1.0f, false});
  out.push_back({64, 7, 16, 100, 16, 4.0f, false});
  out.push_back({64, 4, 9, 200, 16, 2.0f, true});
  out.push_back({128, 7, 3, 45, 16, 3.0f, true});
  out.push_back({64, 7, 16, 1500, 16, 1.0f, false});
  out.push_back({64, 1, 1, 0, 16, 1.0f, false});
  return out;
}

// |got - want| <= tol * 4 (|v| <~ 4) per output value, sentinel intact between rows; returns the
// largest difference.
double expect_close(const Fixture& f, const std::vector<float>& got, const std::vector<double>& want, double tol,
                  const char* what) {
  const Case& c = f.c;
  double worst = 0;
  for (int64_t t = 0; t < c.n_q; ++t) {
    for (int64_t x = c.group * c.hd; x < f.out_stride(); ++x)
      EXPECT_EQ(got[static_cast<size_t>(t * f.out_stride() + x)], -7.0f) << what << ": wrote between rows";
    for (int64_t r = 0; r < c.group * c.hd; ++r) {
      const float g = got[static_cast<size_t>(t * f.out_stride() + r)];
      const double w = want[static_cast<size_t>(t * c.group * c.hd + r)];
      worst = std::max(worst, std::fabs(g - w));
      EXPECT_NEAR(g, w, tol * 4.0) << what << " hd " << c.hd << " group " << c.group << " n_q " << c.n_q
                                   << " pos0 " << c.pos0 << " block " << c.block_tokens << " token " << t
                                   << " value " << r;
    }
  }
  return worst;
}

std::vector<double> as_rows(const Fixture& f, const std::vector<float>& out) {
  std::vector<double> rows;
  for (int64_t t = 0; t < f.c.n_q; ++t)
    for (int64_t r = 0; r < f.c.group * f.c.hd; ++r) rows.push_back(out[static_cast<size_t>(t * f.out_stride() + r)]);
  return rows;
}

TEST(TiledAttention, ScalarMatchesPlainSoftmax) {
  uint32_t seed = 1;
  double worst = 0;
  for (const Case& c : cases()) {
    const Fixture f(c, seed++);
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.hd));
    worst = std::max(worst, expect_close(f, f.run(tiled_attention_scalar(), scale), f.reference(scale), 1e-5, "scalar"));
    if (HasFailure()) return;
  }
  RecordProperty("max_abs_error", std::to_string(worst));
}

struct Vector {
  const char* name;
  const TiledAttention* kernel;
};
std::vector<Vector> vector_kernels() { return {{"avx2", tiled_attention_avx2()}, {"avx512", tiled_attention_avx512()}}; }

TEST(TiledAttention, VectorKernelsMatchScalar) {
  for (const Vector& vk : vector_kernels()) {
    if (!vk.kernel) {
      std::printf("no %s on this CPU: not tested\n", vk.name);
      continue;
    }
    uint32_t seed = 1000;
    double worst = 0;
    for (const Case& c : cases()) {
      const Fixture f(c, seed++);
      const float scale = 1.0f / std::sqrt(static_cast<float>(c.hd));
      const auto want = f.run(tiled_attention_scalar(), scale);
      worst = std::max(worst, expect_close(f, f.run(*vk.kernel, scale), as_rows(f, want), 1e-5, vk.name));
      if (HasFailure()) return;
    }
    RecordProperty(std::string("max_abs_error_") + vk.name, std::to_string(worst));
  }
}

// Every vector instruction set has a tiled kernel: Isa::Amx (AMX tiles for the matmul) once had no
// case here, so prompts silently fell back to the per-token attention path.
TEST(TiledAttention, EveryVectorIsaHasAKernel) {
  const quant::Isa saved = quant::active_isa();
  for (quant::Isa isa : {quant::Isa::Avx2, quant::Isa::Avx512, quant::Isa::Amx}) {
    if (quant::set_isa(isa) != isa) continue;  // not on this CPU
    EXPECT_NE(tiled_attention(), nullptr) << quant::isa_name(isa);
  }
  quant::set_isa(saved);
}

// A row's result does not depend on the tile it is computed in (each lane of the vector kernel
// follows the same steps), so cutting a prompt chunk into tiles differently gives the same bits.
TEST(TiledAttention, VectorRowsIndependentOfTiling) {
  const Case whole{64, 7, 20, 33, 16, 2.0f, false};
  const Fixture f(whole, 77);
  const float scale = 0.125f;
  for (const Vector& vk : vector_kernels()) {
    if (!vk.kernel) continue;
    const auto all = f.run(*vk.kernel, scale);
    for (int64_t t = 0; t < whole.n_q; ++t) {  // each token alone as a tile of one
      std::vector<float> out(static_cast<size_t>(whole.group * whole.hd));
      std::vector<float> scratch(static_cast<size_t>(vk.kernel->scratch_floats(1, whole.group, whole.hd)));
      const QueryTile one{f.q.data() + t * f.q_stride, f.q_stride, out.data(), 0, 1, whole.pos0 + t,
                          whole.group, whole.hd, scale};
      vk.kernel->run(one, f.view(), scratch.data());
      for (int64_t r = 0; r < whole.group * whole.hd; ++r)
        ASSERT_EQ(out[static_cast<size_t>(r)], all[static_cast<size_t>(t * f.out_stride() + r)])
            << vk.name << " token " << t;
    }
  }
}

}  // namespace
}  // namespace parley::llm::ops
