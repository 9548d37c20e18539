// Synthetic models (small shapes, same code path as the real ones) and model conversion.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <fstream>
#include <iterator>

#include "llm/gguf/gguf_reader.hpp"
#include "llm/gguf/model_quantize.hpp"
#include "llm/gguf/model_synth.hpp"
#include "llm/quant/kernels.hpp"

namespace parley::llm::gguf {
namespace {

const std::string kStories = PARLEY_SHARED_DIR "/models/stories260K.gguf";  // 512-token SPM vocabulary

// llama-style: rows of 256 (real K-quants), untied output. qwen-style: rows of 96 (fallbacks), biases.
ModelShape tiny_llama() {
  return {"tiny-llama", "llama", 256, 8, 4, 2, 512, 512, 1024, 10000.f, 1e-5f, false, false};
}
ModelShape tiny_qwen() {
  return {"tiny-qwen", "qwen2", 96, 3, 3, 1, 256, 512, 1024, 1e6f, 1e-6f, true, true};
}
ModelShape tiny_llama3() {
  ModelShape s{"tiny-llama3", "llama", 256, 2, 2, 1, 256, 512, 4096, 500000.f, 1e-5f, true, false};
  s.rope_scale_factor = 8;
  s.rope_low_freq_factor = 1;
  s.rope_high_freq_factor = 4;
  s.rope_original_ctx = 512;
  return s;
}

// Unique to this process: ctest runs the tests of this file in parallel processes, and two of them
// synthesize the same model; sharing one path, one rewrote the file while the other had it mapped
// (SIGBUS under AddressSanitizer in GgufQuantize.ConvertsToTheMixtureWithinEachFormatsError).
std::string temp_path(const std::string& name) {
  return testing::TempDir() + "/gguf_synth_" + std::to_string(getpid()) + "_" + name + ".gguf";
}

std::string synth(const ModelShape& shape, FileType ft, uint64_t seed = 1, int threads = 2) {
  SynthOptions opt;
  opt.type = ft;
  opt.vocab_path = kStories;
  opt.out_path = temp_path(shape.name + "_" + file_type_name(ft) + "_" + std::to_string(seed) + "_" +
                           std::to_string(threads));
  opt.seed = seed;
  opt.threads = threads;
  synthesize_model(shape, opt);
  return opt.out_path;
}

std::vector<float> dequantize(const TensorInfo& t) {
  std::vector<float> out(static_cast<size_t>(t.n_elements()));
  const size_t rb = quant::row_bytes(t.type, t.shape[0]);
  for (int64_t r = 0; r < t.n_rows(); ++r)
    quant::dequantize_row(t.type, t.data + r * rb, out.data() + r * t.shape[0], t.shape[0]);
  return out;
}

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

TEST(GgufSynth, WritesThePlannedModelWithSaneWeights) {
  const GgufFile vocab = GgufFile::open(kStories);
  for (FileType ft :
       {FileType::MOSTLY_F16, FileType::MOSTLY_Q8_0, FileType::MOSTLY_Q4_K_M, FileType::MOSTLY_Q5_K_M}) {
    SCOPED_TRACE(file_type_name(ft));
    const ModelShape shape = tiny_llama();
    GgufFile f = GgufFile::open(synth(shape, ft));
    EXPECT_EQ(f.get_string("general.architecture"), "llama");
    EXPECT_EQ(f.get_uint("general.file_type"), static_cast<uint32_t>(ft));
    EXPECT_EQ(f.get_uint("llama.block_count"), 8u);
    EXPECT_EQ(f.get_uint("llama.embedding_length"), 256u);
    EXPECT_EQ(f.get_uint("llama.attention.head_count_kv"), 2u);
    EXPECT_EQ(f.get_uint("llama.feed_forward_length"), 512u);
    EXPECT_FLOAT_EQ(static_cast<float>(*f.get_float("llama.rope.freq_base")), 10000.f);
    EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens"), vocab.get_string_array("tokenizer.ggml.tokens"));
    EXPECT_EQ(f.get_float_array("tokenizer.ggml.scores"), vocab.get_float_array("tokenizer.ggml.scores"));
    EXPECT_EQ(f.get_uint("tokenizer.ggml.bos_token_id"), 1u);
    EXPECT_FALSE(f.find("general.alignment"));

    auto plan = plan_synth(shape, ft);
    ASSERT_EQ(f.tensors().size(), plan.size());
    for (size_t i = 0; i < plan.size(); ++i) {
      const TensorInfo& t = f.tensors()[i];
      SCOPED_TRACE(t.name);
      EXPECT_EQ(t.name, plan[i].tensor.name);
      EXPECT_EQ(t.type, plan[i].type);
      EXPECT_EQ(t.shape, plan[i].tensor.shape);
      std::vector<float> w = dequantize(t);
      double sum = 0, sum2 = 0;
      for (float x : w) {
        ASSERT_TRUE(std::isfinite(x));
        sum += x;
        sum2 += double(x) * x;
      }
      const double mean = sum / w.size(), sd = std::sqrt(sum2 / w.size() - mean * mean);
      if (plan[i].tensor.role == TensorRole::Norm) {
        EXPECT_NEAR(mean, 1.0, 0.01);
        EXPECT_NEAR(sd, 0.02, 0.01);
      } else {
        EXPECT_NEAR(mean, 0.0, 0.002);
        EXPECT_NEAR(sd, 0.02, 0.003);
      }
    }
  }
}

TEST(GgufSynth, DeterministicForASeedWhateverTheThreads) {
  const std::string a = read_all(synth(tiny_qwen(), FileType::MOSTLY_Q4_K_M, 7, 1));
  const std::string b = read_all(synth(tiny_qwen(), FileType::MOSTLY_Q4_K_M, 7, 2));
  const std::string c = read_all(synth(tiny_qwen(), FileType::MOSTLY_Q4_K_M, 8, 2));
  EXPECT_GT(a.size(), 100000u);
  EXPECT_TRUE(a == b);
  EXPECT_EQ(a.size(), c.size());
  EXPECT_FALSE(a == c);
}

TEST(GgufSynth, QwenStyleFallbacksAndBiases) {
  GgufFile f = GgufFile::open(synth(tiny_qwen(), FileType::MOSTLY_Q4_K_M));
  EXPECT_EQ(f.find_tensor("output.weight"), nullptr);
  EXPECT_EQ(f.find_tensor("token_embd.weight")->type, TensorType::Q8_0);
  EXPECT_EQ(f.find_tensor("blk.1.attn_q.weight")->type, TensorType::Q5_0);
  EXPECT_EQ(f.find_tensor("blk.1.attn_k.bias")->type, TensorType::F32);
  EXPECT_EQ(f.find_tensor("blk.1.attn_k.bias")->shape, (std::vector<int64_t>{32}));
  // Rows of 256: real K-quants; use_more_bits(i, 3) holds for layer 2 only.
  EXPECT_EQ(f.find_tensor("blk.0.ffn_down.weight")->type, TensorType::Q4_K);
  EXPECT_EQ(f.find_tensor("blk.2.ffn_down.weight")->type, TensorType::Q6_K);
  EXPECT_EQ(f.get_uint("qwen2.attention.head_count"), 3u);
}

TEST(GgufSynth, Llama3RopeFactorsTensor) {
  GgufFile f = GgufFile::open(synth(tiny_llama3(), FileType::MOSTLY_Q8_0));
  const TensorInfo* r = f.find_tensor("rope_freqs.weight");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->type, TensorType::F32);
  EXPECT_EQ(dequantize(*r), llama3_rope_factors(tiny_llama3()));
  EXPECT_EQ(f.find_tensor("token_embd.weight")->type, TensorType::Q8_0);
}

TEST(GgufSynth, Errors) {
  SynthOptions opt;
  opt.shape = "gpt-5";
  EXPECT_THROW(synthesize_model(opt), std::invalid_argument);
  ModelShape s = tiny_qwen();
  s.n_vocab = 1000;
  opt.vocab_path = kStories;
  opt.out_path = temp_path("err");
  try {
    synthesize_model(s, opt);
    FAIL();
  } catch (const GgufError& e) {
    EXPECT_EQ(std::string(e.what()), kStories + ": the vocabulary has 512 tokens, tiny-qwen has 1000");
  }
}

double relative_rms_error(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += double(a[i] - b[i]) * (a[i] - b[i]);
    den += double(a[i]) * a[i];
  }
  return std::sqrt(num / den);
}

TEST(GgufQuantize, ConvertsToTheMixtureWithinEachFormatsError) {
  const std::string src = synth(tiny_llama(), FileType::MOSTLY_F16);
  GgufFile in = GgufFile::open(src);
  for (auto [ft, bound] :
       {std::pair{FileType::MOSTLY_Q8_0, 0.01}, std::pair{FileType::MOSTLY_Q4_K_M, 0.12},
        std::pair{FileType::MOSTLY_Q5_K_M, 0.06}, std::pair{FileType::MOSTLY_Q4_0, 0.15}}) {
    SCOPED_TRACE(file_type_name(ft));
    const std::string dst = temp_path("quantized_" + file_type_name(ft));
    QuantizeStats st = quantize_model(src, dst, ft, 2);
    GgufFile out = GgufFile::open(dst);
    EXPECT_EQ(out.get_uint("general.file_type"), static_cast<uint32_t>(ft));
    EXPECT_EQ(out.get_uint("general.quantization_version"), 2u);
    EXPECT_EQ(out.get_string_array("tokenizer.ggml.tokens").size(), 512u);
    auto plan = plan_synth(tiny_llama(), ft);
    ASSERT_EQ(out.tensors().size(), plan.size());
    EXPECT_EQ(st.bytes_out, total_bytes(plan));
    EXPECT_EQ(st.tensors_converted, 1 + 1 + 8 * 7);  // every 2-D weight
    for (const auto& p : plan) {
      const TensorInfo* t = out.find_tensor(p.tensor.name);
      ASSERT_NE(t, nullptr);
      EXPECT_EQ(t->type, p.type) << p.tensor.name;
      if (p.tensor.role == TensorRole::Norm) continue;
      EXPECT_LT(relative_rms_error(dequantize(*in.find_tensor(p.tensor.name)), dequantize(*t)), bound)
          << p.tensor.name;
    }
  }
  // Same type: every tensor copied byte for byte.
  const std::string same = temp_path("quantized_same");
  QuantizeStats st = quantize_model(src, same, FileType::MOSTLY_F16, 1);
  EXPECT_EQ(st.tensors_converted, 0);
  EXPECT_EQ(st.tensors_copied, static_cast<int>(in.tensors().size()));
}

TEST(GgufQuantize, Stories260KFallsBackWhereRowsDoNotFit) {
  const std::string dst = temp_path("stories_q4km");
  quantize_model(kStories, dst, FileType::MOSTLY_Q4_K_M, 2);
  GgufFile f = GgufFile::open(dst);
  EXPECT_EQ(f.find_tensor("blk.0.attn_q.weight")->type, TensorType::Q5_0);   // rows of 64: Q4_K -> Q5_0
  EXPECT_EQ(f.find_tensor("output.weight")->type, TensorType::Q8_0);         // Q6_K -> Q8_0
  EXPECT_EQ(f.find_tensor("blk.0.ffn_down.weight")->type, TensorType::F16);  // rows of 172: nothing fits
  EXPECT_EQ(f.find_tensor("blk.0.ffn_norm.weight")->type, TensorType::F32);
  // use_more_bits(i, 5) holds for layers 2 and 4: Q6_K, which falls back to Q8_0 for rows of 64.
  EXPECT_EQ(f.find_tensor("blk.2.attn_v.weight")->type, TensorType::Q8_0);
  EXPECT_EQ(f.find_tensor("blk.4.attn_v.weight")->type, TensorType::Q8_0);
  EXPECT_EQ(f.find_tensor("blk.1.attn_v.weight")->type, TensorType::Q5_0);
  try {
    quantize_model("/nonexistent.gguf", dst, FileType::MOSTLY_Q8_0);
    FAIL();
  } catch (const GgufError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent.gguf: cannot open: No such file or directory");
  }
}

}  // namespace
}  // namespace parley::llm::gguf
