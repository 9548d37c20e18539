// ThreadPool: a fixed set of compute threads that run one parallel region at a time.
// The engine's scheduler thread owns it (docs/architecture.md): it calls run(), takes part as
// thread 0, and returns when every thread has finished its share. Workers spin briefly between
// regions (a decode step issues hundreds of regions per token) and then sleep.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace parley {

class ThreadPool {
 public:
  // n_threads includes the calling thread; 0 means the number of physical cores.
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(ith, nth) on every thread (ith in [0, nth)), the caller being ith 0; blocks until all
  // are done. Not reentrant: one region at a time, from one owning thread.
  void run(const std::function<void(int ith, int nth)>& fn);

  // Splits [0, n) into contiguous chunks, one per thread: fn(begin, end, ith).
  void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end, int ith)>& fn);

  static int physical_cores();

 private:
  void worker(int ith);

  int n_threads_;
  std::vector<std::thread> threads_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> remaining_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<int> sleepers_{0};
};

}  // namespace parley
