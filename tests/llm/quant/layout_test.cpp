// Hand-built blocks following ggml's documented layouts (not made by our quantizer): dequantize_row
// must give the values worked out by hand, so a misread bit position or scale packing shows up here even
// if quantizer and dequantizer agreed with each other.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "llm/quant/blocks.hpp"
#include "llm/quant/kernels.hpp"

namespace parley::llm::quant {

TEST(QuantLayout, Q4KScalePackingAndNibbles) {
  BlockQ4_K b{};
  b.d = 0x3c00;     // 1.0
  b.dmin = 0x3800;  // 0.5
  // Sub-block 5: scale 53 = 0b11'0101, min 42 = 0b10'1010 (6-bit values of sub-blocks 4..7 keep their
  // low 4 bits in scales[j+4] and their top 2 bits in the top of scales[j-4] / scales[j]).
  b.scales[9] = 0xa5;
  b.scales[1] = 0xc0;
  b.scales[5] = 0x80;
  // Sub-block 1: scale 7, min 3 (plain 6-bit bytes for sub-blocks 0..3).
  b.scales[1] |= 7;
  b.scales[5] |= 3;
  b.qs[64 + 3] = 0x70;  // sub-block 5 = high nibbles of qs[64..95]: element 163 has q = 7
  b.qs[2] = 0x90;       // sub-block 1 = high nibbles of qs[0..31]: element 34 has q = 9
  std::vector<float> y(256);
  dequantize_row(TensorType::Q4_K, &b, y.data(), 256);
  EXPECT_FLOAT_EQ(y[163], 53.0f * 7 - 0.5f * 42);
  EXPECT_FLOAT_EQ(y[160], -0.5f * 42);
  EXPECT_FLOAT_EQ(y[34], 7.0f * 9 - 0.5f * 3);
  EXPECT_FLOAT_EQ(y[2], 0.0f);  // sub-block 0: scale 0, min 0
}

TEST(QuantLayout, Q5KHighBits) {
  BlockQ5_K b{};
  b.d = 0x3c00, b.dmin = 0;
  b.scales[3] = 1;                      // sub-block 3: scale 1
  b.qh[10] = 1 << 3;                    // bit 3 of qh[l] is bit 4 of element l of sub-block 3
  b.qs[32 + 10] = 0x20;                 // sub-block 3 = high nibbles of qs[32..63]
  std::vector<float> y(256);
  dequantize_row(TensorType::Q5_K, &b, y.data(), 256);
  EXPECT_FLOAT_EQ(y[3 * 32 + 10], 2.0f + 16.0f);
  EXPECT_FLOAT_EQ(y[3 * 32 + 11], 0.0f);
}

TEST(QuantLayout, Q6KPositions) {
  BlockQ6_K b{};
  b.d = 0x3c00;
  b.scales[14] = -3;
  // Element 229 = half 1, quarter 3, l = 5: high nibble of ql[64 + 32 + 5], bits 6-7 of qh[32 + 5].
  b.ql[64 + 32 + 5] = 0x90;
  b.qh[32 + 5] = 2 << 6;
  std::vector<float> y(256);
  dequantize_row(TensorType::Q6_K, &b, y.data(), 256);
  EXPECT_FLOAT_EQ(y[229], -3.0f * ((9 | (2 << 4)) - 32));
  EXPECT_FLOAT_EQ(y[0], 0.0f);  // scale 0
}

TEST(QuantLayout, LegacyBlocks) {
  BlockQ5_0 b5{};
  b5.d = 0x4000;                                // 2.0
  const uint32_t qh = 1u << 20;                 // element 20 (= high nibble of qs[4]) gets bit 4
  std::memcpy(b5.qh, &qh, 4);
  b5.qs[4] = 0x30;
  std::vector<float> y(32);
  dequantize_row(TensorType::Q5_0, &b5, y.data(), 32);
  EXPECT_FLOAT_EQ(y[20], 2.0f * ((3 | 16) - 16));
  EXPECT_FLOAT_EQ(y[4], 2.0f * (0 - 16));

  BlockQ4_1 b41{};
  b41.d = 0x3c00, b41.m = 0xbc00;  // 1.0, -1.0
  b41.qs[15] = 0xf1;
  dequantize_row(TensorType::Q4_1, &b41, y.data(), 32);
  EXPECT_FLOAT_EQ(y[15], 0.0f);
  EXPECT_FLOAT_EQ(y[31], 14.0f);

  BlockQ8_0 b8{};
  b8.d = 0x3800;  // 0.5
  b8.qs[31] = -128;
  dequantize_row(TensorType::Q8_0, &b8, y.data(), 32);
  EXPECT_FLOAT_EQ(y[31], -64.0f);
}

}  // namespace parley::llm::quant
