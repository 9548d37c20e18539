// The hand-written pre-tokenizers split 400 random strings exactly as the real regexes do
// (pre_tokenizer_golden.json, made by gen_pre_tokenizer_golden.py with Python's regex module).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "llm/tokenizer/pre_tokenizer.hpp"

namespace parley::llm::tokenizer {
namespace {

TEST(PreTokenizerGolden, MatchesTheReferenceRegexes) {
  std::ifstream in(std::string(PARLEY_SOURCE_DIR) + "/tests/llm/tokenizer/pre_tokenizer_golden.json");
  ASSERT_TRUE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const auto doc = boost::json::parse(ss.str());
  const auto& cases = doc.at("cases").as_array();
  ASSERT_EQ(cases.size(), 400u);
  int mismatches = 0;
  for (const auto& c : cases) {
    const std::string text(c.at("text").as_string());
    for (const char* name : {"gpt2", "llama3", "qwen2", "smollm"}) {
      std::vector<std::string> expect;
      for (const auto& w : c.at(name).as_array()) expect.emplace_back(w.as_string());
      std::vector<std::string> got;
      for (std::string_view w :
           pre_tokenize(pre_tokenizer_from_name(name == std::string("llama3") ? "llama-bpe" : name), text)) {
        got.emplace_back(w);
      }
      EXPECT_EQ(got, expect) << name << ": '" << text << "'";
      mismatches += got != expect;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace parley::llm::tokenizer
