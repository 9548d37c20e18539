// Read-bandwidth probe: each thread sums its slice of a buffer several times larger than the LLC.
#include "llm/quant/bandwidth.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

namespace parley::llm::quant {
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
  double best = 0;
  std::vector<uint64_t> sink(static_cast<size_t>(threads));
  for (int pass = 0; pass < 4; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    run([&](int t) { sink[static_cast<size_t>(t)] += sum_words(buf.get() + per * t, per); });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(per * 8 * static_cast<size_t>(threads)) / s / 1e9);
  }
  volatile uint64_t keep = 0;
  for (uint64_t v : sink) keep = keep + v;
  (void)keep;
  return best;
}

}  // namespace parley::llm::quant
