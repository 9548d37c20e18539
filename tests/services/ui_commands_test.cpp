// The command lines: `parley ui` refuses to start without SESSION_KEY; `parley serve` keeps its
// generated session key in the data directory (0600) and reuses it.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>

#include "services/serve/serve_command.hpp"
#include "services/ui/session.hpp"
#include "support/temp_dir.hpp"

namespace parley::test {
namespace {

// Runs a shell command; returns (exit status, stdout+stderr).
std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return {-1, ""};
  std::array<char, 4096> buf{};
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(UiCommand, RefusesToStartWithoutASessionKey) {
  auto [rc, out] = run("env -u SESSION_KEY -u SESSION_KEYS PARLEY_SERVICE_TOKEN=t " PARLEY_BINARY
                       " ui --port 0 --db-api http://127.0.0.1:1 --lm-api http://127.0.0.1:1");
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("SESSION_KEY is not set"), std::string::npos) << out;
  auto [rc2, out2] = run("env -u SESSION_KEYS SESSION_KEY=short PARLEY_SERVICE_TOKEN=t " PARLEY_BINARY
                         " ui --port 0 --db-api http://127.0.0.1:1 --lm-api http://127.0.0.1:1");
  EXPECT_EQ(rc2, 2);
  EXPECT_NE(out2.find("at least 16 bytes"), std::string::npos) << out2;
}

TEST(ServeCommand, SessionSecretIsCreatedOnceWithMode0600) {
  TempDir dir("parley-serve-key");
  std::string data = dir.file("data");
  auto first = services::serve::load_or_create_session_secret(data);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->size(), 64u);
  EXPECT_TRUE(services::ui::SessionKeys::parse(*first).ok());
  struct stat st{};
  ASSERT_EQ(::stat((data + "/session.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto second = services::serve::load_or_create_session_secret(data);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first) << "kept across restarts, so sessions survive them";
}

TEST(ServeCommand, UnwritableDataDirIsAClearError) {
  auto r = services::serve::load_or_create_session_secret("/proc/parley-no-such-dir");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("session.key"), std::string::npos);
}

}  // namespace
}  // namespace parley::test
