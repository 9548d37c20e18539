#include "core/log_writer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace parley {
namespace {

using namespace std::chrono_literals;

// A pipe whose read end is drained into a string on demand.
struct Pipe {
  int fds[2];
  Pipe() {
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  }
  ~Pipe() {
    ::close(fds[0]);
    if (fds[1] >= 0) ::close(fds[1]);
  }
  std::string drain() {
    std::string out;
    char buf[65536];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    return out;
  }
};

TEST(LogWriter, WithoutBackgroundEachAppendIsWrittenAtOnce) {
  Pipe p;
  LogWriter w({.fd = p.fds[1], .background = false});
  w.append("one\n");
  EXPECT_EQ(p.drain(), "one\n");
  w.append("two\n");
  EXPECT_EQ(p.drain(), "two\n");
}

TEST(LogWriter, BackgroundBatchesWritesAndKeepsOrderAcrossThreads) {
  Pipe p;
  std::string out;
  {
    LogWriter w({.fd = p.fds[1], .background = true, .interval = 10000ms, .wake_bytes = size_t{1} << 30});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&w, t] {
        for (int i = 0; i < 500; ++i) w.append(fmt::format("t{} line {}\n", t, i));
      });
    for (auto& th : threads) th.join();
    EXPECT_EQ(p.drain(), "") << "nothing is written before the interval, the threshold or a flush";
    w.flush();
    out = p.drain();
  }
  // every line whole, once, and each thread's lines in the order it appended them
  std::vector<int> next(4, 0);
  size_t lines = 0;
  for (size_t pos = 0; pos < out.size();) {
    size_t nl = out.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    std::string line = out.substr(pos, nl - pos);
    int t = line[1] - '0';
    ASSERT_EQ(line, fmt::format("t{} line {}", t, next[t])) << line;
    ++next[t];
    ++lines;
    pos = nl + 1;
  }
  EXPECT_EQ(lines, 2000u);
}

TEST(LogWriter, TheBackgroundThreadWritesWithinTheInterval) {
  Pipe p;
  LogWriter w({.fd = p.fds[1], .background = true, .interval = 5ms});
  w.append("soon\n");
  std::string out;
  for (int i = 0; i < 400 && out.empty(); ++i) {  // up to 2 s on a loaded machine
    std::this_thread::sleep_for(5ms);
    out = p.drain();
  }
  EXPECT_EQ(out, "soon\n");
}

TEST(LogWriter, StoppingWritesWhatIsWaiting) {
  Pipe p;
  {
    LogWriter w({.fd = p.fds[1], .background = true, .interval = 10000ms});
    w.append("last words\n");
  }
  EXPECT_EQ(p.drain(), "last words\n");
}

TEST(LogWriter, AFullBufferDropsLinesAndTheNextWriteSaysHowMany) {
  Pipe p;
  LogWriter w({.fd = p.fds[1], .background = true, .interval = 10000ms, .wake_bytes = 1 << 20, .max_bytes = 1000});
  const std::string line(99, 'x');
  int kept = 0;
  for (int i = 0; i < 25; ++i) kept += w.append(line + "\n") ? 1 : 0;
  EXPECT_EQ(kept, 10);
  EXPECT_EQ(w.dropped(), 15u);
  w.flush();
  std::string out = p.drain();
  EXPECT_NE(out.find(" warning log: 15 line(s) dropped"), std::string::npos) << out.substr(0, 200);
  EXPECT_EQ(out.size() - out.find('\n') - 1, 10 * 100u) << "the warning line, then the ten lines kept";
  w.append("after\n");
  w.flush();
  EXPECT_EQ(p.drain(), "after\n") << "the loss is reported once";
}

TEST(LogWriter, AppendsNeverWaitForABlockedOutput) {
  Pipe p;  // nobody reads until the end: the writer thread blocks in write() once the pipe is full
  LogWriter w({.fd = p.fds[1], .background = true, .interval = 1ms, .wake_bytes = 4096, .max_bytes = 256 << 10});
  const std::string line(1023, 'y');
  for (int i = 0; i < 4096; ++i) w.append(line + "\n");  // 4 MB: far more than pipe and buffer hold
  EXPECT_GT(w.dropped(), 0u);
  std::string out;
  std::thread reader([&] {
    for (int i = 0; i < 20000; ++i) {  // until the last line arrived (at most ~20 s)
      out += p.drain();
      if (out.size() >= 2 && out.compare(out.size() - 2, 2, "z\n") == 0) break;
      std::this_thread::sleep_for(1ms);
    }
  });
  while (!w.append("z\n")) std::this_thread::sleep_for(1ms);  // room once the reader drains
  w.flush();  // the loss report goes out with this batch
  reader.join();
  EXPECT_NE(out.find(" line(s) dropped"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 2), "z\n");
}

}  // namespace
}  // namespace parley
