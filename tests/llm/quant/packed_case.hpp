// One packed-matmul test case: random weights (rows x k in type t) quantized and packed, n tokens of
// activations quantized for t, the scalar matmul on the original blocks over rows [r0, r1) as the
// reference (stride ldy, NaN elsewhere) and sum |w x| per output for the tolerances.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "llm/quant/blocks.hpp"
#include "llm/quant/kernels.hpp"
#include "llm/quant/packed.hpp"
#include "llm/quant/test_util.hpp"

namespace parley::llm::quant::test {

// Rows x k weights, n tokens, the output rows [r0, r1) (r0 a multiple of 16).
struct PackedShape {
  int64_t rows, k, n, r0, r1;
};

struct PackedCase {
  TensorType t;
  int64_t rows, k, n, r0, r1, ldy;
  std::vector<uint8_t> wq, xq;
  PackedWeight p;
  std::vector<float> ref;  // [n][ldy]
  std::vector<float> w;    // dequantized weights [rows][k]

  PackedCase(TensorType type, const PackedShape& s, int64_t ldy_, uint32_t seed)
      : t(type), rows(s.rows), k(s.k), n(s.n), r0(s.r0), r1(s.r1), ldy(ldy_) {
    IsaGuard guard;
    wq = quantize_matrix(t, random_data(rows * k, seed), rows, k);
    const auto xf = random_data(n * k, seed + 7);
    xq.resize(activation_bytes(t, k, n));
    quantize_activations(t, xf.data(), k, n, xq.data());
    p = pack_weight(t, wq.data(), rows, k);
    ref.assign(static_cast<size_t>(n * ldy), std::numeric_limits<float>::quiet_NaN());
    set_isa(Isa::Scalar);
    matmul(t, wq.data(), k, r0, r1, xq.data(), n, ref.data(), ldy);
    w.resize(static_cast<size_t>(rows * k));
    for (int64_t r = 0; r < rows; ++r) dequantize_row(t, wq.data() + row_bytes(t, k) * r, w.data() + r * k, k);
  }

  // Y [n][ldy] (NaN outside [r0, r1)) from matmul_packed under isa; empty if the CPU lacks it.
  std::vector<float> run(Isa isa) const {
    IsaGuard guard;
    if (set_isa(isa) != isa) return {};
    std::vector<float> y(static_cast<size_t>(n * ldy), std::numeric_limits<float>::quiet_NaN());
    matmul_packed(p, r0, r1, xq.data(), n, y.data(), ldy);
    return y;
  }

  // y (from run) is NaN outside [r0, r1) and within tol * sum |w x| of want (ref, or another run) inside.
  void expect_near(const std::vector<float>& y, const std::vector<float>& want, double tol, const char* what) const {
    ASSERT_EQ(y.size(), static_cast<size_t>(n * ldy));
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < ldy; ++i) {
        const float got = y[static_cast<size_t>(j * ldy + i)];
        if (i < r0 || i >= r1) {
          ASSERT_TRUE(std::isnan(got)) << what << ": wrote outside the range, token " << j << " row " << i;
          continue;
        }
        ASSERT_NEAR(got, want[static_cast<size_t>(j * ldy + i)], tol * mag(j, i) + 1e-30)
            << type_info(t).name << " " << what << ", rows " << rows << " k " << k << " n " << n << " token " << j
            << " row " << i;
      }
  }

  // sum |w x| of output (token j, row i).
  double mag(int64_t j, int64_t i) const {
    return abs_dot(&w[static_cast<size_t>(i * k)], reinterpret_cast<const BlockQ8A*>(xq.data()) + j * k / 32, k);
  }
};

}  // namespace parley::llm::quant::test
