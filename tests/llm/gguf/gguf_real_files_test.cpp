// The real files in the shared test data load with the metadata their READMEs describe.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>

#include "llm/gguf/gguf_reader.hpp"

namespace parley::llm::gguf {
namespace {

const std::string kShared = PARLEY_SHARED_DIR;

TEST(GgufRealFiles, Stories260K) {
  GgufFile f = GgufFile::open(kShared + "/models/stories260K.gguf");
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.file_size(), 1185376u);
  EXPECT_EQ(f.metadata().size(), 19u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_uint("llama.embedding_length"), 64u);
  EXPECT_EQ(f.get_uint("llama.block_count"), 5u);
  EXPECT_EQ(f.get_uint("llama.attention.head_count"), 8u);
  EXPECT_EQ(f.get_uint("llama.attention.head_count_kv"), 4u);
  EXPECT_EQ(f.get_uint("llama.feed_forward_length"), 172u);
  EXPECT_EQ(f.get_uint("llama.rope.dimension_count"), 8u);
  EXPECT_EQ(f.get_uint("llama.context_length"), 2048u);
  EXPECT_NEAR(*f.get_float("llama.attention.layer_norm_rms_epsilon"), 1e-5, 1e-12);
  EXPECT_FALSE(f.get_float("llama.rope.freq_base").has_value());
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(f.get_uint("tokenizer.ggml.bos_token_id"), 1u);
  EXPECT_EQ(f.get_uint("tokenizer.ggml.eos_token_id"), 2u);
  EXPECT_EQ(f.get_uint("tokenizer.ggml.unknown_token_id"), 0u);
  EXPECT_EQ(f.get_uint("tokenizer.ggml.padding_token_id"), 4294967295u);
  auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 512u);
  EXPECT_EQ(tokens[0], "<unk>");
  EXPECT_EQ(tokens[1], "<s>");
  EXPECT_EQ(tokens[2], "</s>");
  EXPECT_EQ(f.get_float_array("tokenizer.ggml.scores").size(), 512u);
  EXPECT_EQ(f.get_int_array("tokenizer.ggml.token_type").size(), 512u);

  ASSERT_EQ(f.tensors().size(), 48u);
  uint64_t total = 0;
  int64_t params = 0;
  for (const auto& t : f.tensors()) {
    EXPECT_EQ(t.type, TensorType::F32) << t.name;
    total += t.nbytes;
    params += t.n_elements();
  }
  EXPECT_EQ(params, 292800);
  EXPECT_EQ(total, 1171200u);
  const TensorInfo* emb = f.find_tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->shape, (std::vector<int64_t>{64, 512}));
  EXPECT_EQ(emb->n_rows(), 512);
  const TensorInfo* q = f.find_tensor("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->shape, (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(f.find_tensor("blk.4.ffn_up.weight")->shape, (std::vector<int64_t>{64, 172}));
  EXPECT_EQ(f.find_tensor("blk.4.attn_k.weight")->shape, (std::vector<int64_t>{64, 32}));
  EXPECT_NE(f.find_tensor("output.weight"), nullptr);
  EXPECT_EQ(f.find_tensor("output_norm.weight")->shape, (std::vector<int64_t>{64}));
  // Data pointers lie inside the mapping, after the header.
  for (const auto& t : f.tensors()) {
    EXPECT_GE(t.data, f.bytes() + f.data_offset());
    EXPECT_LE(t.data + t.nbytes, f.bytes() + f.file_size());
  }
  // A norm weight is a finite float near 1-ish (trained RMSNorm gains).
  float g0;
  std::memcpy(&g0, f.find_tensor("output_norm.weight")->data, 4);
  EXPECT_TRUE(std::isfinite(g0));
}

struct VocabCase {
  const char* file;
  const char* model;
  const char* pre;  // nullptr: no pre key expected
  size_t n_tokens;
};

TEST(GgufRealFiles, VocabularyFiles) {
  const VocabCase cases[] = {
      {"ggml-vocab-qwen2-reconstructed.gguf", "gpt2", "qwen2", 151936},
      {"ggml-vocab-llama-bpe-reconstructed.gguf", "gpt2", "llama-bpe", 128256},
      {"ggml-vocab-llama-spm.gguf", "llama", nullptr, 32000},
      {"ggml-vocab-phi-3.gguf", "llama", nullptr, 32064},
      {"ggml-vocab-gpt-2.gguf", "gpt2", "gpt-2", 50257},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    auto t0 = std::chrono::steady_clock::now();
    GgufFile f = GgufFile::open(kShared + "/testdata/tokenizer/" + c.file);
    auto views = f.get_string_views("tokenizer.ggml.tokens");
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(f.get_string("tokenizer.ggml.model"), c.model);
    if (c.pre) {
      EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), c.pre);
    }
    EXPECT_EQ(views.size(), c.n_tokens);
    EXPECT_TRUE(f.tensors().empty());
    if (std::string(c.model) == "gpt2") {
      EXPECT_GT(f.get_string_views("tokenizer.ggml.merges").size(), 10000u);
    }
    EXPECT_EQ(f.get_int_array("tokenizer.ggml.token_type").size(), c.n_tokens);
#ifndef PARLEY_SANITIZE  // sanitizer builds are ~20x slower; the bound is for release builds
    EXPECT_LT(ms, 500.0) << "opening and listing the vocabulary took " << ms << " ms";
#else
    (void)ms;
#endif
  }
}

TEST(GgufRealFiles, MissingFileNamesPathAndReason) {
  try {
    GgufFile::open("/nonexistent/x.gguf");
    FAIL();
  } catch (const GgufError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/x.gguf: cannot open: No such file or directory");
  }
  try {
    GgufFile::open("/tmp");
    FAIL();
  } catch (const GgufError& e) {
    EXPECT_STREQ(e.what(), "/tmp: not a regular file");
  }
}

}  // namespace
}  // namespace parley::llm::gguf
