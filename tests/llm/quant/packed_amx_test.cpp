// AMX-INT8 path of matmul_packed (packed_amx.cpp: full 16-token tiles, the rest on AVX-512), for every
// packable type:
//  1. equals the scalar matmul on the original blocks within 2e-5 of sum |w||x| per output (the same
//     bound as the AVX-512 kernel), and the AVX-512 kernel within 1e-6 of sum |w||x| (same integer dots,
//     same scale math; only float contraction may differ), for 16, 17, 31, 64, 100 and 144 tokens (one
//     tile, a tile + tails of 1 and 15 tokens, 4 tiles, 6 tiles + a 4-token tail, a whole 128-token chunk
//     + one tile), rows that are not a multiple of 16, ranges starting past panel 0 and ending inside a
//     panel, k of several blocks / super-blocks;
//  2. leaves the cells outside the row range untouched;
//  3. gives the same bits when two threads run it at once (each thread configures its own tiles);
//  4. Isa::Amx is named "amx" and set_isa clamps to the detected ISA.
// Skipped where the CPU or the kernel offers no AMX.
#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

#include "llm/quant/blocks.hpp"
#include "llm/quant/kernels.hpp"
#include "llm/quant/packed.hpp"
#include "llm/quant/packed_case.hpp"
#include "llm/quant/test_util.hpp"

namespace parley::llm::quant {
namespace {

using test::IsaGuard;

using Case = test::PackedShape;

void check(TensorType t, const Case& c, uint32_t seed) {
  const test::PackedCase pc(t, c, c.rows + 3, seed);
  const std::vector<float> vnni = pc.run(Isa::Avx512);
  const std::vector<float> amx = pc.run(Isa::Amx);
  ASSERT_FALSE(amx.empty() || vnni.empty());
  pc.expect_near(amx, pc.ref, 2e-5, "amx vs scalar");
  pc.expect_near(amx, vnni, 1e-6, "amx vs avx512");
}

bool have_amx() { return detected_isa() >= Isa::Amx; }

TEST(PackedAmx, AllTypesTokenCounts) {
  if (!have_amx()) GTEST_SKIP() << "no AMX-INT8 on this CPU / kernel";
  uint32_t seed = 300;
  for (TensorType t : test::packed_types())
    for (int64_t n : {16, 17, 31, 64, 100, 144}) {
      const int64_t k = test::is_kquant(t) ? 512 : 160;  // 2 super-blocks / 5 blocks
      check(t, {40, k, n, 0, 40}, seed++);  // last panel padded (40 = 2.5 panels)
    }
}

TEST(PackedAmx, RowRangesAndLongK) {
  if (!have_amx()) GTEST_SKIP() << "no AMX-INT8 on this CPU / kernel";
  uint32_t seed = 400;
  for (TensorType t : test::packed_types()) {
    check(t, {48, test::is_kquant(t) ? 768 : 896, 33, 16, 40}, seed++);  // range from panel 1, ends inside a panel
    check(t, {37, test::is_kquant(t) ? 1024 : 288, 48, 0, 37}, seed++);  // 3 tiles in one chunk, padded panel
  }
}

// Two threads at once, each on its own row range (as the engine's thread pool calls it): each thread
// loads its own tile configuration; the result equals one thread doing all rows.
TEST(PackedAmx, ConcurrentThreads) {
  if (!have_amx()) GTEST_SKIP() << "no AMX-INT8 on this CPU / kernel";
  IsaGuard guard;
  ASSERT_EQ(set_isa(Isa::Amx), Isa::Amx);
  for (TensorType t : {TensorType::Q4_K, TensorType::Q6_K, TensorType::Q8_0}) {
    const int64_t rows = 96, k = test::is_kquant(t) ? 512 : 256, n = 48;
    const auto wq = test::quantize_matrix(t, test::random_data(rows * k, 11), rows, k);
    const auto xf = test::random_data(n * k, 12);
    std::vector<uint8_t> xq(activation_bytes(t, k, n));
    quantize_activations(t, xf.data(), k, n, xq.data());
    const PackedWeight p = pack_weight(t, wq.data(), rows, k);
    std::vector<float> one(static_cast<size_t>(n * rows)), two(static_cast<size_t>(n * rows));
    matmul_packed(p, 0, rows, xq.data(), n, one.data(), rows);
    for (int rep = 0; rep < 20; ++rep) {
      std::fill(two.begin(), two.end(), 0.0f);
      std::thread a([&] { matmul_packed(p, 0, 48, xq.data(), n, two.data(), rows); });
      std::thread b([&] { matmul_packed(p, 48, rows, xq.data(), n, two.data(), rows); });
      a.join();
      b.join();
      ASSERT_EQ(0, std::memcmp(one.data(), two.data(), one.size() * sizeof(float)))
          << type_info(t).name << " repetition " << rep;
    }
  }
}

TEST(PackedAmx, IsaSelection) {
  IsaGuard guard;
  EXPECT_STREQ(isa_name(Isa::Amx), "amx");
  EXPECT_EQ(set_isa(Isa::Amx), have_amx() ? Isa::Amx : detected_isa());
  EXPECT_EQ(active_isa(), have_amx() ? Isa::Amx : detected_isa());
}

}  // namespace
}  // namespace parley::llm::quant
