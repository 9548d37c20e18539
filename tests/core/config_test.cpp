#include "core/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>

namespace parley {
namespace {

TEST(Config, ParsesDurations) {
  EXPECT_EQ(parse_duration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(parse_duration("10s"), std::chrono::milliseconds(10000));
  EXPECT_EQ(parse_duration("2m"), std::chrono::milliseconds(120000));
  EXPECT_EQ(parse_duration("1h"), std::chrono::milliseconds(3600000));
  EXPECT_EQ(parse_duration("3"), std::chrono::milliseconds(3000));
  EXPECT_EQ(parse_duration("1.5s"), std::chrono::milliseconds(1500));
  EXPECT_FALSE(parse_duration("fast"));
  EXPECT_FALSE(parse_duration("10 parsecs"));
  EXPECT_FALSE(parse_duration(""));
}

TEST(Config, ParsesSizes) {
  EXPECT_EQ(parse_size("512"), 512u);
  EXPECT_EQ(parse_size("64KiB"), 65536u);
  EXPECT_EQ(parse_size("1MiB"), 1048576u);
  EXPECT_EQ(parse_size("2g"), 2ull << 30);
  EXPECT_EQ(parse_size("256kb"), 256u * 1024);
  EXPECT_FALSE(parse_size("-1"));
  EXPECT_FALSE(parse_size("12 bananas"));
}

TEST(Config, ParsesBoolsAndInts) {
  EXPECT_EQ(parse_bool("TRUE"), true);
  EXPECT_EQ(parse_bool("off"), false);
  EXPECT_FALSE(parse_bool("maybe"));
  EXPECT_EQ(parse_int(" 42 "), 42);
  EXPECT_FALSE(parse_int("42x"));
  EXPECT_FALSE(parse_int(""));
}

TEST(Config, EnvironmentThenDefault) {
  ::unsetenv("PARLEY_TEST_PORT");
  EXPECT_EQ(env_int("PARLEY_TEST_PORT", 8080), 8080);
  ::setenv("PARLEY_TEST_PORT", "9090", 1);
  EXPECT_EQ(env_int("PARLEY_TEST_PORT", 8080), 9090);
  ::setenv("PARLEY_TEST_PORT", "", 1);  // empty counts as unset
  EXPECT_EQ(env_int("PARLEY_TEST_PORT", 8080), 8080);
  ::setenv("PARLEY_TEST_PORT", "nine", 1);
  EXPECT_THROW(env_int("PARLEY_TEST_PORT", 8080), std::invalid_argument);
  ::unsetenv("PARLEY_TEST_PORT");
}

TEST(Config, FlagBeatsEnvironment) {
  ::setenv("PARLEY_TEST_URL", "http://env", 1);
  EXPECT_EQ(flag_env_default(std::optional<std::string>("http://flag"), "PARLEY_TEST_URL", "http://def"), "http://flag");
  EXPECT_EQ(flag_env_default(std::optional<std::string>(), "PARLEY_TEST_URL", "http://def"), "http://env");
  ::unsetenv("PARLEY_TEST_URL");
  EXPECT_EQ(flag_env_default(std::optional<std::string>(), "PARLEY_TEST_URL", "http://def"), "http://def");
}

TEST(Config, FirstEnvTakesTheFirstSet) {
  ::unsetenv("PARLEY_TEST_A");
  ::setenv("PARLEY_TEST_B", "b", 1);
  EXPECT_EQ(first_env({"PARLEY_TEST_A", "PARLEY_TEST_B"}), "b");
  ::setenv("PARLEY_TEST_A", "a", 1);
  EXPECT_EQ(first_env({"PARLEY_TEST_A", "PARLEY_TEST_B"}), "a");
  ::unsetenv("PARLEY_TEST_A");
  ::unsetenv("PARLEY_TEST_B");
  EXPECT_FALSE(first_env({"PARLEY_TEST_A", "PARLEY_TEST_B"}));
}

TEST(Config, DurationAndSizeFromEnvironment) {
  ::setenv("PARLEY_TEST_D", "750ms", 1);
  EXPECT_EQ(env_duration("PARLEY_TEST_D", std::chrono::seconds(1)), std::chrono::milliseconds(750));
  ::setenv("PARLEY_TEST_D", "soon", 1);
  EXPECT_THROW(env_duration("PARLEY_TEST_D", std::chrono::seconds(1)), std::invalid_argument);
  ::setenv("PARLEY_TEST_D", "4KiB", 1);
  EXPECT_EQ(env_size("PARLEY_TEST_D", 1), 4096u);
  ::unsetenv("PARLEY_TEST_D");
}

}  // namespace
}  // namespace parley
