#include "core/thread_pool.hpp"

#include <fstream>
#include <set>
#include <string>
#include <utility>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace parley {
namespace {
inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}
constexpr int kSpinIterations = 20000;  // ~ tens of microseconds before a worker sleeps
}  // namespace

int ThreadPool::physical_cores() {
  // Count distinct (physical id, core id) pairs; fall back to hardware_concurrency.
  std::ifstream in("/proc/cpuinfo");
  std::set<std::pair<std::string, std::string>> cores;
  std::string line, phys = "0";
  while (std::getline(in, line)) {
    auto value = [&] {
      auto p = line.find(':');
      return p == std::string::npos ? std::string() : line.substr(p + 2);
    };
    if (line.rfind("physical id", 0) == 0) phys = value();
    if (line.rfind("core id", 0) == 0) cores.emplace(phys, value());
  }
  int n = static_cast<int>(cores.size());
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  return n > 0 ? n : 1;
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads > 0 ? n_threads : physical_cores()) {
  for (int i = 1; i < n_threads_; ++i) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::worker(int ith) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen = generation_.load(std::memory_order_acquire);
    int spins = 0;
    while (gen == seen) {
      if (++spins < kSpinIterations) {
        cpu_relax();
        if ((spins & 1023) == 0) std::this_thread::yield();
      } else {
        std::unique_lock lock(mu_);
        sleepers_.fetch_add(1);
        cv_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        sleepers_.fetch_sub(1);
        spins = 0;
      }
      gen = generation_.load(std::memory_order_acquire);
    }
    seen = gen;
    if (stop_.load()) return;
    work_chunks(ticket_.load(std::memory_order_acquire), ith);
  }
}

void ThreadPool::work_chunks(uint64_t t, int thread) {
  const uint64_t region = t >> 32;
  for (;;) {
    if ((t >> 32) != region) return;  // the region is over: another one has begun
    const auto chunk = static_cast<int64_t>(t & 0xffffffffu);
    // n_chunks_ may already belong to a later region (then the claim below fails).
    if (chunk >= n_chunks_.load(std::memory_order_acquire)) return;
    // A successful claim keeps the caller inside run_chunks (it waits for every chunk to be done), so
    // job_ stays valid until chunks_done_ counts this chunk.
    if (ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
      (*job_)(chunk, thread);
      chunks_done_.fetch_add(1, std::memory_order_acq_rel);
      t = ticket_.load(std::memory_order_acquire);
    }
  }
}

void ThreadPool::run_chunks(int64_t n_chunks, const std::function<void(int64_t, int)>& fn) {
  if (n_chunks <= 0) return;
  if (n_threads_ == 1 || n_chunks == 1) {
    for (int64_t c = 0; c < n_chunks; ++c) fn(c, 0);
    return;
  }
  // Close the previous region first. Its ticket can still read "chunk n of region R" (every chunk
  // claimed): a worker late for R that read the NEW n_chunks_ would otherwise pass the bounds check
  // and win the claim on that stale ticket, then run chunk n of R with the new job_ and count it into
  // the new region (found by ThreadSanitizer as a race on job_; in lm-api a caller then waited for
  // ever). After this store no claim on an old ticket can succeed, and a worker that sees the new
  // n_chunks_ (release below) sees this store too.
  const uint64_t next_region = static_cast<uint64_t>(region_ + 1) << 32;
  ticket_.store(next_region | 0xffffffffu, std::memory_order_seq_cst);
  // Publish the region: a worker reads job_ and n_chunks_ only after loading a ticket of this region.
  job_ = &fn;
  n_chunks_.store(n_chunks, std::memory_order_release);
  chunks_done_.store(0, std::memory_order_relaxed);
  const uint64_t ticket = static_cast<uint64_t>(++region_) << 32;
  ticket_.store(ticket, std::memory_order_release);
  {
    // Publishing under the mutex orders the wake-up with a worker that is about to sleep.
    std::lock_guard lock(mu_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  if (sleepers_.load() > 0) cv_.notify_all();
  work_chunks(ticket, 0);
  // Every chunk is claimed: wait for the ones a worker is still running. Spin briefly, then yield:
  // when the machine is oversubscribed the worker needs the core.
  for (int spins = 0; chunks_done_.load(std::memory_order_acquire) != n_chunks; ++spins) {
    if (spins < 2000) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
  const int nth = n_threads_;
  run_chunks(nth, [&](int64_t share, int) { fn(static_cast<int>(share), nth); });
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn) {
  run([&](int ith, int nth) {
    int64_t chunk = (n + nth - 1) / nth;
    int64_t begin = std::min<int64_t>(n, chunk * ith);
    int64_t end = std::min<int64_t>(n, begin + chunk);
    if (begin < end) fn(begin, end, ith);
  });
}

}  // namespace parley
