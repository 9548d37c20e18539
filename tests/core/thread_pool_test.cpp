#include "core/thread_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace parley {

TEST(ThreadPool, RunsEveryThreadOncePerRegion) {
  ThreadPool pool(3);
  for (int round = 0; round < 1000; ++round) {
    std::vector<std::atomic<int>> hits(3);
    pool.run([&](int ith, int nth) {
      ASSERT_EQ(nth, 3);
      hits[ith].fetch_add(1);
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
}

TEST(ThreadPool, ParallelForCoversRangeExactlyOnce) {
  ThreadPool pool(2);
  for (int64_t n : {0, 1, 2, 3, 7, 1000}) {
    std::vector<int> seen(n, 0);
    pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) seen[i]++;
    });
    for (int v : seen) ASSERT_EQ(v, 1);
  }
}

TEST(ThreadPool, WorkersWakeAfterSleeping) {
  ThreadPool pool(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let workers fall asleep
  std::atomic<int> n{0};
  pool.run([&](int, int) { n.fetch_add(1); });
  EXPECT_EQ(n.load(), 2);
}

TEST(ThreadPool, RunChunksRunsEveryChunkOnce) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 5, 64}) {
      for (int round = 0; round < 200; ++round) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::atomic<int> bad_thread{0};
        pool.run_chunks(n, [&](int64_t c, int thread) {
          if (thread < 0 || thread >= threads) bad_thread.fetch_add(1);
          hits[static_cast<size_t>(c)].fetch_add(1);
        });
        ASSERT_EQ(bad_thread.load(), 0);
        for (auto& h : hits) ASSERT_EQ(h.load(), 1) << "threads " << threads << " chunks " << n;
      }
    }
  }
}

// Regions of both kinds back to back, with work of uneven length, so that workers are often late for
// a region whose chunks the caller already took: no chunk or share may run twice or be skipped.
TEST(ThreadPool, LateWorkersNeverRunAnotherRegionsWork) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  int64_t expected = 0;
  for (int round = 0; round < 5000; ++round) {
    const int64_t n = round % 7;
    pool.run_chunks(n, [&](int64_t c, int) {
      volatile int sink = 0;
      for (int i = 0; i < (c % 3) * 200; ++i) sink = sink + i;
      total.fetch_add(c + 1);
    });
    expected += n * (n + 1) / 2;
    pool.run([&](int ith, int) { total.fetch_add(100 + ith); });
    expected += 100 + 101;
    ASSERT_EQ(total.load(), expected) << "round " << round;
  }
}

TEST(ThreadPool, ChunksFinishWhileAWorkerSleeps) {
  ThreadPool pool(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the worker fall asleep
  std::vector<std::atomic<int>> hits(16);
  pool.run_chunks(16, [&](int64_t c, int) { hits[static_cast<size_t>(c)].fetch_add(1); });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

}  // namespace parley
