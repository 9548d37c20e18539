// matmul against references, for every type and ISA:
//  1. the scalar matmul equals a double-precision dot of dequantize_row(W) with the activations as the
//     kernels see them (Q8A blocks dequantized), within 1e-5 of sum |w||x| per output;
//  2. every SIMD path equals the scalar reference within 2e-5 of sum |w||x| (float summation order);
//  3. the full pipeline (quantized activations) approximates the exact f32 product within the format's
//     error (checked loosely: 13% of the output RMS, the 4-bit weight error plus the 8-bit activations').
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "llm/quant/blocks.hpp"
#include "llm/quant/kernels.hpp"
#include "llm/quant/test_util.hpp"

namespace parley::llm::quant {
namespace {

bool is_float(TensorType t) { return t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16; }

// The activations as the kernels see them: f32, or Q8A blocks turned back to f32.
std::vector<float> effective_activations(TensorType t, const std::vector<uint8_t>& xq, int64_t k, int64_t n) {
  std::vector<float> x(static_cast<size_t>(k * n));
  if (is_float(t)) {
    std::memcpy(x.data(), xq.data(), x.size() * 4);
  } else {
    const auto* b = reinterpret_cast<const BlockQ8A*>(xq.data());
    for (int64_t i = 0; i < k * n; ++i) x[i] = b[i / 32].d * b[i / 32].qs[i % 32];
  }
  return x;
}

struct Case {
  int64_t rows, k, n;
};

using test::IsaGuard;

void check_type(TensorType t, const Case& c, uint32_t seed) {
  const auto wf = test::random_data(c.rows * c.k, seed);
  const auto xf = test::random_data(c.n * c.k, seed + 1);
  const auto wq = test::quantize_matrix(t, wf, c.rows, c.k);
  std::vector<uint8_t> xq(activation_bytes(t, c.k, c.n));
  set_isa(Isa::Scalar);
  quantize_activations(t, xf.data(), c.k, c.n, xq.data());
  // The activation quantizer of every ISA writes the same bytes.
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (set_isa(isa) != isa) continue;
    std::vector<uint8_t> xq2(xq.size());
    quantize_activations(t, xf.data(), c.k, c.n, xq2.data());
    ASSERT_EQ(0, std::memcmp(xq.data(), xq2.data(), xq.size())) << type_info(t).name << " " << isa_name(isa);
  }
  const auto xe = effective_activations(t, xq, c.k, c.n);
  std::vector<float> w(static_cast<size_t>(c.rows * c.k));
  for (int64_t r = 0; r < c.rows; ++r) dequantize_row(t, wq.data() + row_bytes(t, c.k) * r, w.data() + r * c.k, c.k);

  // Odd row window [r0, r1) and an output stride larger than the row count; untouched cells stay NaN.
  const int64_t r0 = c.rows > 3 ? 1 : 0, r1 = c.rows, ldy = c.rows + 3;
  std::vector<double> ref(static_cast<size_t>(c.n * ldy)), mag(ref.size());
  for (int64_t j = 0; j < c.n; ++j)
    for (int64_t i = r0; i < r1; ++i) {
      double s = 0, m = 0;
      for (int64_t e = 0; e < c.k; ++e) {
        s += static_cast<double>(w[i * c.k + e]) * xe[j * c.k + e];
        m += std::fabs(static_cast<double>(w[i * c.k + e]) * xe[j * c.k + e]);
      }
      ref[j * ldy + i] = s, mag[j * ldy + i] = m;
    }

  std::vector<float> y_scalar;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (set_isa(isa) != isa) continue;
    std::vector<float> y(static_cast<size_t>(c.n * ldy), NAN);
    matmul(t, wq.data(), c.k, r0, r1, xq.data(), c.n, y.data(), ldy);
    for (int64_t j = 0; j < c.n; ++j)
      for (int64_t i = 0; i < ldy; ++i) {
        const size_t at = static_cast<size_t>(j * ldy + i);
        if (i < r0 || i >= r1) {
          ASSERT_TRUE(std::isnan(y[at])) << "wrote outside rows " << i;
          continue;
        }
        const double tol = (isa == Isa::Scalar ? 1e-5 : 2e-5) * mag[at] + 1e-6;
        const double want = isa == Isa::Scalar ? ref[at] : y_scalar[at];
        ASSERT_NEAR(y[at], want, tol) << type_info(t).name << " " << isa_name(isa) << " rows " << c.rows
                                      << " k " << c.k << " n " << c.n << " at row " << i << " token " << j;
      }
    if (isa == Isa::Scalar) y_scalar = y;
  }
}

}  // namespace

TEST(QuantMatmul, EveryIsaMatchesReference) {
  IsaGuard guard;
  std::printf("  detected ISA: %s\n", isa_name(detected_isa()));
  uint32_t seed = 100;
  for (TensorType t : test::all_types()) {
    const int64_t bs = type_info(t).block_size == 1 ? 32 : type_info(t).block_size;
    for (Case c : {Case{1, bs, 1}, Case{5, bs * 2, 3}, Case{19, bs * 3, 9}, Case{37, bs * 5, 8}, Case{33, bs, 5},
                   Case{70, bs * 4, 17}, Case{16, bs * 2, 64},
                   Case{300, bs, 20} /* > one 256-row block of the tiled kernel */})
      check_type(t, c, seed++);
    for (int64_t n = 1; n <= 9; ++n) check_type(t, Case{23, bs * 2, n}, seed++);
  }
}

// Quantized product vs the exact f32 product: the total error stays within the format's precision.
TEST(QuantMatmul, ApproximatesExactProduct) {
  const int64_t rows = 16, k = 512, n = 4;
  const auto wf = test::random_data(rows * k, 3);
  const auto xf = test::random_data(n * k, 4);
  std::vector<double> exact(static_cast<size_t>(rows * n));
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < rows; ++i) {
      double s = 0;
      for (int64_t e = 0; e < k; ++e) s += static_cast<double>(wf[i * k + e]) * xf[j * k + e];
      exact[j * rows + i] = s;
    }
  double exact_rms = 0;
  for (double v : exact) exact_rms += v * v;
  exact_rms = std::sqrt(exact_rms / exact.size());
  for (TensorType t : test::all_types()) {
    const auto wq = test::quantize_matrix(t, wf, rows, k);
    std::vector<uint8_t> xq(activation_bytes(t, k, n));
    quantize_activations(t, xf.data(), k, n, xq.data());
    std::vector<float> y(static_cast<size_t>(rows * n));
    matmul(t, wq.data(), k, 0, rows, xq.data(), n, y.data(), rows);
    double err = 0;
    for (size_t i = 0; i < y.size(); ++i) err += (y[i] - exact[i]) * (y[i] - exact[i]);
    err = std::sqrt(err / y.size()) / exact_rms;
    EXPECT_LT(err, 0.13) << type_info(t).name;
  }
}

}  // namespace parley::llm::quant

namespace parley::llm::quant {

// The activation buffer is per-token contiguous: quantizing token ranges separately (as the forward pass
// does over its threads) writes exactly the bytes of one call, and matmul gives the same result.
TEST(QuantMatmul, ActivationTokenRangesCompose) {
  const int64_t k = 512, n = 21, rows = 12;
  const auto xf = test::random_data(n * k, 11);
  const auto wf = test::random_data(rows * k, 12);
  for (TensorType t : test::all_types()) {
    ASSERT_EQ(activation_bytes(t, k, n), static_cast<size_t>(n) * activation_bytes(t, k, 1));
    std::vector<uint8_t> whole(activation_bytes(t, k, n)), parts(whole.size());
    quantize_activations(t, xf.data(), k, n, whole.data());
    const size_t per = activation_bytes(t, k, 1);
    for (int64_t t0 : {0, 5, 13}) {
      const int64_t t1 = t0 == 0 ? 5 : t0 == 5 ? 13 : n;
      quantize_activations(t, xf.data() + t0 * k, k, t1 - t0, parts.data() + per * t0);
    }
    EXPECT_EQ(0, std::memcmp(whole.data(), parts.data(), whole.size())) << type_info(t).name;
    const auto wq = test::quantize_matrix(t, wf, rows, k);
    std::vector<float> y1(static_cast<size_t>(n * rows)), y2(y1.size());
    matmul(t, wq.data(), k, 0, rows, whole.data(), n, y1.data(), rows);
    matmul(t, wq.data(), k, 0, rows, parts.data(), n, y2.data(), rows);
    EXPECT_EQ(y1, y2) << type_info(t).name;
  }
}

}  // namespace parley::llm::quant
