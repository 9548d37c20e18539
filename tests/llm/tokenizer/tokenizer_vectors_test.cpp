// Encoding equals the reference vectors (../shared/testdata/tokenizer, add_special=false,
// parse_special=false) for every vocabulary file there, case by case.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "llm/gguf/gguf_reader.hpp"
#include "llm/tokenizer/tokenizer.hpp"

namespace parley::llm::tokenizer {
namespace {

const std::string kDir = std::string(PARLEY_SHARED_DIR) + "/testdata/tokenizer/";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> read_inputs(const std::string& path) {
  const std::string text = read_file(path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  size_t pos = 0;
  for (size_t next; (next = text.find(sep, pos)) != std::string::npos; pos = next + sep.size()) {
    out.push_back(text.substr(pos, next - pos));
  }
  return out;  // the piece after the last separator is not a test
}

std::vector<std::vector<TokenId>> read_outputs(const std::string& path) {
  std::istringstream in(read_file(path));
  std::vector<std::vector<TokenId>> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::vector<TokenId> ids;
    for (long id; ls >> id;) ids.push_back(static_cast<TokenId>(id));
    out.push_back(std::move(ids));
  }
  return out;
}

std::string ids_to_string(const std::vector<TokenId>& ids) {
  std::string s;
  for (TokenId id : ids) {
    s += ' ';
    s += std::to_string(id);
  }
  return s;
}

class TokenizerVectors : public ::testing::TestWithParam<const char*> {};

TEST_P(TokenizerVectors, EncodingEqualsReference) {
  const std::string base = kDir + GetParam();
  const auto file = gguf::GgufFile::open(base);
  auto vocab = load_vocab(file);
  ASSERT_TRUE(vocab.ok()) << vocab.error().message;
  const Tokenizer tok(std::move(*vocab));

  const auto inputs = read_inputs(base + ".inp");
  const auto expected = read_outputs(base + ".out");
  ASSERT_EQ(inputs.size(), 46u);
  ASSERT_GE(expected.size(), inputs.size());
  int failures = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto got = tok.encode(inputs[i], /*add_special=*/false, /*parse_special=*/false);
    EXPECT_EQ(ids_to_string(got), ids_to_string(expected[i])) << "case " << i << ": '" << inputs[i] << "'";
    failures += got != expected[i];
  }
  EXPECT_EQ(failures, 0);
}

INSTANTIATE_TEST_SUITE_P(AllVocabs, TokenizerVectors,
                         ::testing::Values("ggml-vocab-llama-spm.gguf", "ggml-vocab-phi-3.gguf",
                                           "ggml-vocab-gpt-2.gguf", "ggml-vocab-qwen2-reconstructed.gguf",
                                           "ggml-vocab-llama-bpe-reconstructed.gguf"),
                         [](const auto& info) {
                           std::string name = info.param;
                           name = name.substr(11, name.size() - 16);  // between "ggml-vocab-" and ".gguf"
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace parley::llm::tokenizer
