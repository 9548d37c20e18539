// Matmul microbenchmarks: every weight type at n_tokens = 1 (generation) and 64 (prompt chunk) on the
// qwen2.5-0.5b shapes rows x k = 896x896, 4864x896, 896x4864, scalar reference vs the dispatched ISA.
// The weights are replicated into ~512 MB of copies used round-robin, so they stream from memory as in a
// real forward pass instead of sitting in cache. Counters: bytes_per_second = weight bytes read,
// GFLOPS = 2*rows*k*n_tokens per second, tok/s = n_tokens per second (single thread).
// PARLEY_BENCH_HOT=1 keeps one cache-resident copy instead (compute-bound figures).
// Run: build/quant/bench/parley_microbench --benchmark_filter='matmul/q8_0' --benchmark_min_time=0.3
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "llm/quant/bandwidth.hpp"
#include "llm/quant/kernels.hpp"
#include "llm/quant/packed.hpp"

namespace q = parley::llm::quant;
using parley::llm::TensorType;

namespace {

struct Weights {
  std::vector<std::unique_ptr<uint8_t[]>> copies;
  size_t bytes = 0;
};

// Random weights quantized once, then copied until ~512 MB (at least 2 copies).
const Weights& weights(TensorType t, int64_t rows, int64_t k) {
  static std::vector<std::pair<std::string, std::unique_ptr<Weights>>> cache;
  const std::string key = std::to_string(static_cast<int>(t)) + "/" + std::to_string(rows) + "x" + std::to_string(k);
  for (auto& [name, w] : cache)
    if (name == key) return *w;
  auto w = std::make_unique<Weights>();
  const size_t rb = q::row_bytes(t, k);
  w->bytes = rb * static_cast<size_t>(rows);
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  std::vector<float> row(static_cast<size_t>(k));
  auto first = std::make_unique<uint8_t[]>(w->bytes);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : row) v = nd(rng);
    q::quantize_row(t, row.data(), first.get() + rb * r, k);
  }
  // PARLEY_BENCH_HOT=1: one copy, so the weights stay in cache (measures compute alone).
  const bool hot = std::getenv("PARLEY_BENCH_HOT") != nullptr;
  const size_t n_copies = hot ? 1 : std::max<size_t>(2, (size_t{512} << 20) / w->bytes);
  for (size_t c = 1; c < n_copies; ++c) {
    auto copy = std::make_unique<uint8_t[]>(w->bytes);
    std::memcpy(copy.get(), first.get(), w->bytes);
    w->copies.push_back(std::move(copy));
  }
  w->copies.push_back(std::move(first));
  cache.emplace_back(key, std::move(w));
  return *cache.back().second;
}

// A persistent second thread (spinning on an atomic generation counter) so 2-thread iterations cost no
// thread start-up: each iteration both threads run matmul on their half of the rows.
class Helper {
 public:
  explicit Helper(std::function<void()> work) : work_(std::move(work)), thread_([this] { loop(); }) {}
  ~Helper() {
    stop_.store(true);
    generation_.fetch_add(1);
    thread_.join();
  }
  void start() { generation_.fetch_add(1, std::memory_order_release); }
  void wait() {
    while (done_.load(std::memory_order_acquire) != generation_.load(std::memory_order_relaxed)) std::this_thread::yield();
  }

 private:
  void loop() {
    uint64_t seen = 0;
    for (;;) {
      uint64_t g;
      while ((g = generation_.load(std::memory_order_acquire)) == seen) std::this_thread::yield();
      if (stop_.load()) return;
      work_();
      seen = g;
      done_.store(g, std::memory_order_release);
    }
  }
  std::function<void()> work_;
  std::atomic<uint64_t> generation_{0}, done_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

void bm_matmul(benchmark::State& state, TensorType t, int64_t rows, int64_t k, int64_t n, q::Isa isa, int threads) {
  const q::Isa saved = q::active_isa();
  q::set_isa(isa);
  const Weights& w = weights(t, rows, k);
  std::mt19937 rng(2);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n * k));
  for (auto& v : x) v = nd(rng);
  std::vector<uint8_t> xq(q::activation_bytes(t, k, n));
  q::quantize_activations(t, x.data(), k, n, xq.data());
  std::vector<float> y(static_cast<size_t>(n * rows));
  size_t c = 0;
  const uint8_t* W = nullptr;
  const int64_t half = rows / 2 / 4 * 4;
  std::unique_ptr<Helper> helper;
  if (threads == 2)
    helper = std::make_unique<Helper>([&] { q::matmul(t, W, k, half, rows, xq.data(), n, y.data(), rows); });
  for (auto _ : state) {
    W = w.copies[c].get();
    c = (c + 1) % w.copies.size();
    if (threads == 1) {
      q::matmul(t, W, k, 0, rows, xq.data(), n, y.data(), rows);
    } else {
      helper->start();
      q::matmul(t, W, k, 0, half, xq.data(), n, y.data(), rows);
      helper->wait();
    }
    benchmark::DoNotOptimize(y.data());
  }
  helper.reset();
  const double iters = static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(iters * static_cast<double>(w.bytes)));
  state.counters["GFLOPS"] = benchmark::Counter(iters * 2.0 * rows * k * n / 1e9, benchmark::Counter::kIsRate);
  state.counters["tok/s"] = benchmark::Counter(iters * static_cast<double>(n), benchmark::Counter::kIsRate);
  q::set_isa(saved);
}

// The same product on packed weights (quant/packed.hpp), one thread; copies packed as above.
void bm_packed(benchmark::State& state, TensorType t, int64_t rows, int64_t k, int64_t n) {
  const Weights& w = weights(t, rows, k);
  std::vector<q::PackedWeight> packed;
  for (auto& c : w.copies) packed.push_back(q::pack_weight(t, c.get(), rows, k));
  std::mt19937 rng(2);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n * k));
  for (auto& v : x) v = nd(rng);
  std::vector<uint8_t> xq(q::activation_bytes(t, k, n));
  q::quantize_activations(t, x.data(), k, n, xq.data());
  std::vector<float> y(static_cast<size_t>(n * rows));
  size_t c = 0;
  for (auto _ : state) {
    q::matmul_packed(packed[c], 0, rows, xq.data(), n, y.data(), rows);
    c = (c + 1) % packed.size();
    benchmark::DoNotOptimize(y.data());
  }
  const double iters = static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(iters * static_cast<double>(w.bytes)));
  state.counters["GFLOPS"] = benchmark::Counter(iters * 2.0 * rows * k * n / 1e9, benchmark::Counter::kIsRate);
  state.counters["tok/s"] = benchmark::Counter(iters * static_cast<double>(n), benchmark::Counter::kIsRate);
}

void bm_quantize_activations(benchmark::State& state, TensorType t, int64_t k, int64_t n) {
  std::vector<float> x(static_cast<size_t>(n * k), 0.5f);
  std::vector<uint8_t> xq(q::activation_bytes(t, k, n));
  for (auto _ : state) {
    q::quantize_activations(t, x.data(), k, n, xq.data());
    benchmark::DoNotOptimize(xq.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * n * k * 4);
}

void bm_bandwidth(benchmark::State& state) {
  double gbs = 0;
  for (auto _ : state) gbs = q::measure_read_bandwidth_gbs(static_cast<int>(state.range(0)));
  state.counters["GB/s"] = gbs;
}

int register_all() {
  const TensorType types[] = {TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0,
                              TensorType::Q5_1, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K,
                              TensorType::F16,  TensorType::BF16, TensorType::F32};
  const std::pair<int64_t, int64_t> shapes[] = {{896, 896}, {4864, 896}, {896, 4864}};
  for (TensorType t : types)
    for (auto [rows, k] : shapes) {
      if (k % parley::llm::type_info(t).block_size != 0) continue;
      for (int64_t n : {1, 64})
        for (q::Isa isa : {q::Isa::Scalar, q::detected_isa()}) {
          if (isa == q::Isa::Scalar && (n > 1 || rows > 896)) continue;  // the reference is slow: one point each
          for (int threads : {1, 2}) {
            if (threads == 2 && (isa == q::Isa::Scalar)) continue;
            const std::string name = "matmul/" + std::string(parley::llm::type_info(t).name) + "/" + std::to_string(rows) +
                                     "x" + std::to_string(k) + "/n" + std::to_string(n) + "/" + q::isa_name(isa) +
                                     "/t" + std::to_string(threads);
            benchmark::RegisterBenchmark(name.c_str(), bm_matmul, t, rows, k, n, isa, threads)
                ->UseRealTime()
                ->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
          }
        }
    }
  for (TensorType t : types) {
    if (!q::packable(t)) continue;
    for (auto [rows, k] : shapes)
      for (int64_t n : {1, 64})
        benchmark::RegisterBenchmark(("packed/" + std::string(parley::llm::type_info(t).name) + "/" + std::to_string(rows) +
                                      "x" + std::to_string(k) + "/n" + std::to_string(n) + "/t1").c_str(),
                                     bm_packed, t, rows, k, n)
            ->UseRealTime();
  }
  for (int64_t n : {1, 64, 512})
    benchmark::RegisterBenchmark(("quantize_activations/q8_0/k4864/n" + std::to_string(n)).c_str(), bm_quantize_activations,
                                 TensorType::Q8_0, 4864, n);
  benchmark::RegisterBenchmark("read_bandwidth", bm_bandwidth)->Arg(1)->Arg(2)->Iterations(1)->UseRealTime();
  return 0;
}

const int registered = register_all();

}  // namespace
