// The fuzz target's checks (tests/fuzz/gguf_fuzz_check.hpp) on the committed seed corpus, on every
// crash input kept in tests/fuzz/regressions/gguf_fuzz/, and on deterministic mutations of the seeds
// (every byte set to 0x00 and 0xff), so sanitizer builds of the unit tests cover them without clang.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz/gguf_fuzz_check.hpp"

namespace {

namespace fs = std::filesystem;

std::vector<std::vector<uint8_t>> read_dir(const fs::path& dir) {
  std::vector<std::vector<uint8_t>> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream f(e.path(), std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  return out;
}

const fs::path kFuzzDir = fs::path(PARLEY_SOURCE_DIR) / "tests" / "fuzz";

TEST(GgufFuzzCorpus, SeedsParse) {
  auto seeds = read_dir(kFuzzDir / "corpus" / "gguf_fuzz");
  ASSERT_GE(seeds.size(), 4u);
  for (const auto& s : seeds) EXPECT_TRUE(parley::fuzz::check_gguf_input(s.data(), s.size()));
}

TEST(GgufFuzzCorpus, RegressionInputsDoNotCrash) {
  for (const auto& s : read_dir(kFuzzDir / "regressions" / "gguf_fuzz"))
    parley::fuzz::check_gguf_input(s.data(), s.size());
}

TEST(GgufFuzzCorpus, EveryByteOfEverySeedCorrupted) {
  int parsed = 0, rejected = 0;
  for (auto s : read_dir(kFuzzDir / "corpus" / "gguf_fuzz")) {
    for (size_t i = 0; i < s.size(); ++i) {
      const uint8_t orig = s[i];
      for (uint8_t v : {uint8_t{0x00}, uint8_t{0xff}, static_cast<uint8_t>(orig + 1)}) {
        s[i] = v;
        (parley::fuzz::check_gguf_input(s.data(), s.size()) ? parsed : rejected)++;
      }
      s[i] = orig;
    }
  }
  EXPECT_GT(parsed, 0);  // many bytes are tensor data or string contents
  EXPECT_GT(rejected, 0);
}

}  // namespace
