// quantize_row -> dequantize_row stays within each format's error bound, measured as the RMS of the
// error over the RMS of the data (random normal-ish data with per-32 varying scale and outliers).
#include <gtest/gtest.h>

#include <map>

#include "llm/quant/kernels.hpp"
#include "llm/quant/test_util.hpp"

namespace parley::llm::quant {

// Bounds: about 1.2x what each format gives on this data (relative RMS error of the round trip).
TEST(QuantRoundTrip, ErrorWithinFormatBound) {
  const std::map<TensorType, double> bound = {
      {TensorType::F32, 0.0},      {TensorType::F16, 3e-4},    {TensorType::BF16, 2.5e-3},
      {TensorType::Q8_0, 0.008},   {TensorType::Q6_K, 0.026},  {TensorType::Q5_0, 0.068},
      {TensorType::Q5_1, 0.05},    {TensorType::Q5_K, 0.05},   {TensorType::Q4_0, 0.135},
      {TensorType::Q4_1, 0.105},   {TensorType::Q4_K, 0.098}};
  const int64_t n = 256 * 16;
  const auto x = test::random_data(n, 7);
  for (TensorType t : test::all_types()) {
    std::vector<uint8_t> q(row_bytes(t, n));
    std::vector<float> y(static_cast<size_t>(n));
    quantize_row(t, x.data(), q.data(), n);
    dequantize_row(t, q.data(), y.data(), n);
    std::vector<float> err(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) err[i] = y[i] - x[i];
    const double rel = test::rms(err.data(), n) / test::rms(x.data(), n);
    EXPECT_LE(rel, bound.at(t)) << type_info(t).name;
    std::printf("  %-5s relative RMS error %.5f (bound %.4f)\n", std::string(type_info(t).name).c_str(), rel, bound.at(t));
  }
}

// A constant-zero row and a row with one nonzero value survive every format without NaN.
TEST(QuantRoundTrip, DegenerateRows) {
  const int64_t n = 256;
  for (TensorType t : test::all_types()) {
    for (int variant = 0; variant < 2; ++variant) {
      std::vector<float> x(n, 0.0f);
      if (variant) x[37] = -3.5f;
      std::vector<uint8_t> q(row_bytes(t, n));
      std::vector<float> y(n);
      quantize_row(t, x.data(), q.data(), n);
      dequantize_row(t, q.data(), y.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(y[i], x[i], 0.02) << type_info(t).name << " " << i;
    }
  }
}

TEST(QuantRoundTrip, RowBytes) {
  EXPECT_EQ(row_bytes(TensorType::Q8_0, 896), 28u * 34);
  EXPECT_EQ(row_bytes(TensorType::Q5_1, 896), 28u * 24);
  EXPECT_EQ(row_bytes(TensorType::Q4_K, 4864), 19u * 144);
  EXPECT_EQ(row_bytes(TensorType::Q6_K, 4864), 19u * 210);
  EXPECT_EQ(row_bytes(TensorType::F16, 896), 1792u);
}

}  // namespace parley::llm::quant
