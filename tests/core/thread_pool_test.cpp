#include "core/thread_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
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

}  // namespace parley
