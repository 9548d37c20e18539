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
#include "llm/quant/packed_case.hpp"
#include "llm/quant/test_util.hpp"

namespace parley::llm::quant {
namespace {

using Case = test::PackedShape;

void check(TensorType t, const Case& c, uint32_t seed) {
  const test::PackedCase pc(t, c, c.rows + 5, seed);
  ASSERT_EQ(pc.p.panels, (c.rows + 15) / 16);
  for (Isa isa : {Isa::Scalar, Isa::Avx512}) {
    const std::vector<float> y = pc.run(isa);
    if (y.empty()) continue;
    pc.expect_near(y, pc.ref, isa == Isa::Scalar ? 1e-5 : 2e-5, isa_name(isa));
  }
}

const std::vector<TensorType>& kTypes = test::packed_types();
bool kquant(TensorType t) { return test::is_kquant(t); }

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
