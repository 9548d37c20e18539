#include "core/signals.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <condition_variable>
#include <mutex>

namespace parley {
namespace {

TEST(ShutdownSignals, DeliversSigtermAndSigintToTheCallback) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> got;
  {
    ShutdownSignals signals([&](int signo) {
      std::lock_guard lock(mu);
      got.push_back(signo);
      cv.notify_all();
    });
    std::raise(SIGTERM);
    std::raise(SIGINT);
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return got.size() == 2; }));
    EXPECT_EQ(signals.count(), 2);
  }
  EXPECT_EQ(got, (std::vector<int>{SIGTERM, SIGINT}));
}

TEST(ShutdownSignals, RestoresThePreviousHandler) {
  struct sigaction before {};
  ::sigaction(SIGTERM, nullptr, &before);
  { ShutdownSignals signals([](int) {}); }
  struct sigaction after {};
  ::sigaction(SIGTERM, nullptr, &after);
  EXPECT_EQ(before.sa_handler, after.sa_handler);
}

TEST(ShutdownSignals, OnlyOneAtATime) {
  ShutdownSignals a([](int) {});
  EXPECT_THROW(ShutdownSignals b([](int) {}), std::logic_error);
}

}  // namespace
}  // namespace parley
