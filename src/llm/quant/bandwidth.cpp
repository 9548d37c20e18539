// Read-bandwidth probe: each thread sums its slice of a buffer several times larger than the LLC.
#include "llm/quant/bandwidth.hpp"

#include "llm/quant/kernels.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

namespace parley::llm::quant {
namespace detail {
uint64_t sum_words_avx512(const uint64_t* p, size_t n);
}
namespace {

// Sums 64-bit words with 8 independent accumulators (the compiler vectorizes it with the baseline ISA);
// the result is returned so the loads cannot be optimized away.
uint64_t sum_words(const uint64_t* p, size_t n) {
  uint64_t a[8] = {};
  for (size_t i = 0; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) a[j] += p[i + j];
  uint64_t s = 0;
  for (uint64_t v : a) s += v;
  return s;
}

}  // namespace

double measure_read_bandwidth_gbs(int threads) {
  threads = std::max(1, threads);
  constexpr size_t kBytes = size_t{1} << 30;  // 1 GiB: far beyond any last-level cache
  const size_t words = kBytes / 8;
  std::unique_ptr<uint64_t[]> buf(new uint64_t[words]);
  // Touch every page from the thread that will read it (first-touch placement), in parallel.
  const size_t per = words / static_cast<size_t>(threads) / 8 * 8;
  auto run = [&](auto&& fn) {
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) ts.emplace_back(fn, t);
    for (auto& t : ts) t.join();
  };
  run([&](int t) { std::memset(buf.get() + per * t, 1, per * 8); });
  // Each thread times every 32 MB chunk of its slice separately over several passes and keeps its
  // fastest chunk: a chunk that ran without being preempted shows the memory speed even on a busy
  // machine. The result is the sum of the threads' best rates (they run concurrently).
  constexpr size_t kChunkWords = (size_t{32} << 20) / 8;
  const bool wide = detected_isa() >= Isa::Avx512;
  std::vector<double> best(static_cast<size_t>(threads), 0.0);
  std::vector<uint64_t> sink(static_cast<size_t>(threads));
  run([&](int t) {
    const uint64_t* base = buf.get() + per * t;
    for (int pass = 0; pass < 4; ++pass)
      for (size_t off = 0; off + kChunkWords <= per; off += kChunkWords) {
        const auto t0 = std::chrono::steady_clock::now();
        sink[static_cast<size_t>(t)] += wide ? detail::sum_words_avx512(base + off, kChunkWords) : sum_words(base + off, kChunkWords);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        best[static_cast<size_t>(t)] = std::max(best[static_cast<size_t>(t)], static_cast<double>(kChunkWords * 8) / s / 1e9);
      }
  });
  volatile uint64_t keep = 0;
  for (uint64_t v : sink) keep = keep + v;
  (void)keep;
  double total = 0;
  for (double b : best) total += b;
  return total;
}

}  // namespace parley::llm::quant
