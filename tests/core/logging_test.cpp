#include "core/logging.hpp"

#include <gtest/gtest.h>

namespace parley {
namespace {

TEST(Logging, AccessLineIsLogfmt) {
  std::string line = format_access_line({.method = "GET",
                                         .path = "/v1/chats/abc",
                                         .status = 200,
                                         .duration_us = 1234,
                                         .request_id = "rid-1",
                                         .remote = "127.0.0.1",
                                         .bytes = 17});
  EXPECT_EQ(line,
            "access method=GET path=/v1/chats/abc status=200 duration_ms=1.234 request_id=rid-1 "
            "remote=127.0.0.1 bytes=17");
}

TEST(Logging, AccessLineQuotesAndEscapesHostileValues) {
  std::string line = format_access_line({.method = "GET", .path = "/a b\"c\n", .status = 404, .request_id = ""});
  EXPECT_NE(line.find(R"(path="/a b\"c?")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"(request_id="")"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(Logging, SetupIsRepeatableAndLogs) {
  setup_logging({.level = "info", .access_log = true, .async = true});
  setup_logging({.level = "warn", .access_log = false, .async = false});
  EXPECT_FALSE(access_log_enabled());
  log_access({.method = "GET", .path = "/", .status = 200});  // disabled: a no-op
  set_access_log_enabled(true);
  EXPECT_TRUE(access_log_enabled());
  flush_logs();
}

}  // namespace
}  // namespace parley
