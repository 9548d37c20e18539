// ThreadPool: a fixed set of compute threads that run one parallel region at a time.
// The engine's scheduler thread owns it (docs/architecture.md): it calls run(), takes part as
// thread 0, and returns when every share is done. Workers spin briefly between regions (a decode
// step issues hundreds of regions per token) and then sleep.
// Every region is a set of chunks taken first come, first served (run_chunks; run() is one chunk per
// thread): the caller never waits for a worker that has not started (on a busy machine a descheduled
// worker would otherwise stall every region for a time slice), only for chunks being worked on.
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

  // Runs fn(ith, nth) for every share ith in [0, nth), nth = size(), each share once, on whichever
  // thread takes it first (shares run on one thread at a time, so per-share scratch indexed by ith
  // is safe); blocks until all are done. Not reentrant: one region at a time, from one owning thread.
  void run(const std::function<void(int ith, int nth)>& fn);

  // Splits [0, n) into contiguous chunks, one per share: fn(begin, end, ith).
  void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end, int ith)>& fn);

  // Runs fn(chunk, thread) once for every chunk in [0, n_chunks), each on whichever thread claims it
  // first (the caller is thread 0 and takes part; chunks are claimed in increasing order); blocks until
  // every chunk is done. A worker that wakes after every chunk was claimed does nothing.
  void run_chunks(int64_t n_chunks, const std::function<void(int64_t chunk, int thread)>& fn);

  static int physical_cores();

 private:
  void worker(int ith);
  // Claims and runs chunks of region `region` until none is left or another region has begun.
  void work_chunks(uint64_t ticket, int thread);

  int n_threads_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> generation_{0};  // bumped per region and at shutdown: wakes the workers
  // The current region: ticket_ = (region number << 32) | next unclaimed chunk. A claim is a CAS on the
  // ticket, so a worker late for a region can never claim a chunk of another one.
  const std::function<void(int64_t, int)>* job_ = nullptr;
  std::atomic<int64_t> n_chunks_{0};
  uint32_t region_ = 0;
  std::atomic<uint64_t> ticket_{0};
  std::atomic<int64_t> chunks_done_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<int> sleepers_{0};
};

}  // namespace parley
