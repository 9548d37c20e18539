// Packed weights (packed.hpp): for every packable type,
//  1. the scalar reference on the packed layout equals the scalar matmul on the original blocks within
//     1e-5 of sum |w||x| per output (it unpacks every weight, so this checks the layout);
//  2. the AVX-512 kernel equals the original scalar matmul within 2e-5 of sum |w||x| (float order),
//     for 1..3 tokens (generation), token counts around the 8-token tile and 64-token chunk, row ranges
//     that end inside a panel, and rows that are not a multiple of 16 (padded panel);
//  3. cells outside the row range are left untouched;
//  4. generation's two-stream walk (pairs of panels from the two halves of a range) covers every panel.
#include "llm/quant/packed.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "llm/quant/blocks.hpp"
#include "llm/quant/kernels.hpp"
#include "llm/quant/test_util.hpp"

namespace parley::llm::quant {
namespace {

class IsaGuard {
 public:
  IsaGuard() : saved_(active_isa()) {}
  ~IsaGuard() { set_isa(saved_); }

 private:
  Isa saved_;
};

struct Case {
  int64_t rows, k, n, r0, r1;
};

void check(TensorType t, const Case& c, uint32_t seed) {
  IsaGuard guard;
  const auto wf = test::random_data(c.rows * c.k, seed);
  const auto xf = test::random_data(c.n * c.k, seed + 7);
  const auto wq = test::quantize_matrix(t, wf, c.rows, c.k);
  std::vector<uint8_t> xq(activation_bytes(t, c.k, c.n));
  quantize_activations(t, xf.data(), c.k, c.n, xq.data());
  const PackedWeight p = pack_weight(t, wq.data(), c.rows, c.k);
  ASSERT_EQ(p.panels, (c.rows + 15) / 16);

  const int64_t ldy = c.rows + 5;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> ref(static_cast<size_t>(c.n * ldy), nan);
  set_isa(Isa::Scalar);
  matmul(t, wq.data(), c.k, c.r0, c.r1, xq.data(), c.n, ref.data(), ldy);
  // sum |w x| per output, from the dequantized weights and the activations as quantized.
  std::vector<float> w(static_cast<size_t>(c.rows * c.k));
  for (int64_t r = 0; r < c.rows; ++r)
    dequantize_row(t, wq.data() + row_bytes(t, c.k) * r, w.data() + r * c.k, c.k);
  const auto* xb = reinterpret_cast<const BlockQ8A*>(xq.data());
  auto mag = [&](int64_t j, int64_t i) {
    double m = 0;
    for (int64_t e = 0; e < c.k; ++e)
      m += std::fabs(static_cast<double>(w[i * c.k + e]) * xb[(j * c.k + e) / 32].d *
                     xb[(j * c.k + e) / 32].qs[e % 32]);
    return m;
  };

  for (Isa isa : {Isa::Scalar, Isa::Avx512}) {
    if (set_isa(isa) != isa) continue;
    std::vector<float> y(static_cast<size_t>(c.n * ldy), nan);
    matmul_packed(p, c.r0, c.r1, xq.data(), c.n, y.data(), ldy);
    const double tol = isa == Isa::Scalar ? 1e-5 : 2e-5;
    for (int64_t j = 0; j < c.n; ++j)
      for (int64_t i = 0; i < ldy; ++i) {
        const float got = y[j * ldy + i];
        if (i < c.r0 || i >= c.r1) {
          ASSERT_TRUE(std::isnan(got)) << "wrote outside the range: row " << i;
          continue;
        }
        const float want = ref[j * ldy + i];
        ASSERT_NEAR(got, want, tol * mag(j, i) + 1e-30)
            << type_info(t).name << " " << isa_name(isa) << " rows " << c.rows << " k " << c.k << " n " << c.n
            << " token " << j << " row " << i;
      }
  }
}

const TensorType kTypes[] = {TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0,
                             TensorType::Q5_1, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};
bool kquant(TensorType t) { return t == TensorType::Q4_K || t == TensorType::Q5_K || t == TensorType::Q6_K; }

TEST(Packed, GenerationShapes) {
  uint32_t seed = 1;
  for (TensorType t : kTypes)
    for (int64_t n : {1, 2, 3}) {
      check(t, {64, 256, n, 0, 64}, seed++);
      check(t, {48, kquant(t) ? 768 : 896, n, 16, 40}, seed++);  // range ends inside a panel
      check(t, {37, kquant(t) ? 512 : 64, n, 0, 37}, seed++);    // padded last panel
    }
}

// Generation walks a thread's panels as two streams (the halves side by side, an odd last panel alone):
// even and odd panel counts, ranges starting past panel 0 and ending inside a panel.
TEST(Packed, GenerationTwoStreams) {
  uint32_t seed = 50;
  for (TensorType t : kTypes)
    for (int64_t n : {1, 3}) {
      const int64_t k = kquant(t) ? 256 : 96;
      check(t, {128, k, n, 0, 128}, seed++);   // 8 panels: 4 pairs
      check(t, {100, k, n, 16, 100}, seed++);  // 6 panels from 1, last one partial
      check(t, {80, k, n, 32, 75}, seed++);    // 3 panels: 1 pair + 1 partial alone
    }
}

TEST(Packed, PromptShapes) {
  uint32_t seed = 100;
  for (TensorType t : kTypes)
    for (int64_t n : {4, 7, 8, 9, 17, 70}) check(t, {40, kquant(t) ? 256 : 160, n, 0, 40}, seed++);
}

TEST(Packed, LayoutKeepsTheOriginalSize) {
  for (TensorType t : kTypes) {
    const int64_t k = kquant(t) ? 1024 : 896;
    const PackedWeight p =
        pack_weight(t, test::quantize_matrix(t, test::random_data(32 * k, 3), 32, k).data(), 32, k);
    // K-quants: 6-bit scale and min as bytes (+ 4 bytes per 256 of each row).
    const size_t extra = kquant(t) && t != TensorType::Q6_K ? 16 * 4 * static_cast<size_t>(k / 256) : 0;
    EXPECT_EQ(p.panel_bytes, (16 * row_bytes(t, k) + extra + 63) / 64 * 64) << type_info(t).name;
  }
}

TEST(Packed, RejectsOtherTypes) {
  EXPECT_FALSE(packable(TensorType::F16));
  std::vector<uint8_t> w(row_bytes(TensorType::F16, 256));
  EXPECT_THROW(pack_weight(TensorType::F16, w.data(), 1, 256), std::invalid_argument);
}

}  // namespace
}  // namespace parley::llm::quant
