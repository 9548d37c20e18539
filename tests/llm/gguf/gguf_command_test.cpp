// The `parley gguf` commands, run as a user runs them (the built binary, exit codes, output).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

#include "llm/gguf/gguf_reader.hpp"

namespace parley::llm::gguf {
namespace {

const std::string kShared = PARLEY_SHARED_DIR;
const std::string kStories = kShared + "/models/stories260K.gguf";

struct RunResult {
  int exit_code;
  std::string output;  // stdout and stderr
};

RunResult run(const std::string& args) {
  std::string cmd = std::string(PARLEY_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(GgufCommand, InspectPrintsMetadataTensorsAndTotals) {
  RunResult r = run("gguf inspect " + kStories);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, kStories + ": GGUF v3, 1185376 bytes, alignment 32")) << r.output;
  EXPECT_TRUE(contains(r.output, "metadata: 19 keys"));
  EXPECT_TRUE(contains(r.output, "general.architecture"));
  EXPECT_TRUE(contains(r.output, "\"llama\""));
  // Long arrays are abbreviated.
  EXPECT_TRUE(contains(r.output, "string[512]"));
  EXPECT_TRUE(contains(r.output, "\"<unk>\", \"<s>\", \"</s>\""));
  EXPECT_TRUE(contains(r.output, "... (506 more)]"));
  EXPECT_TRUE(contains(r.output, "tensors: 48"));
  EXPECT_TRUE(contains(r.output, "token_embd.weight"));
  EXPECT_TRUE(contains(r.output, "[64, 512]"));
  EXPECT_TRUE(contains(r.output, "131072"));  // bytes of token_embd
  EXPECT_TRUE(contains(r.output,
                       "total: 48 tensors, 292800 parameters, 1171200 bytes (1.2 MB), 32.00 bits per weight"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "f32      48 tensors"));
}

TEST(GgufCommand, InspectOfABrokenFileFailsWithTheReadersMessage) {
  const std::string path = testing::TempDir() + "/gguf_cmd_broken.gguf";
  std::ofstream(path, std::ios::binary) << "GGUF\x01\x00\x00\x00" << std::string(40, '\0');
  RunResult r = run("gguf inspect " + path);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output,
            "parley gguf: " + path + ": unsupported GGUF version 1; this reader supports 2 and 3\n");
}

TEST(GgufCommand, QuantizeAndSynthArgumentErrors) {
  RunResult r = run("gguf quantize " + kStories + " /tmp/x.gguf q3_k_xl");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.output, "parley gguf: unknown type 'q3_k_xl' (one of: f32, f16, bf16, q8_0,"))
      << r.output;
  r = run("gguf synth --shape gpt-5 --type q8_0 --vocab " + kStories + " -o /tmp/x.gguf");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.output, "unknown shape 'gpt-5' (one of: qwen2.5-0.5b, tinyllama-1.1b, llama3.2-1b)"))
      << r.output;
  r = run("gguf synth --shape qwen2.5-0.5b --type q8_0 --vocab " + kStories + " -o /tmp/x.gguf");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.output, "the vocabulary has 512 tokens, qwen2.5-0.5b has 151936")) << r.output;
  r = run("gguf synth --shape qwen2.5-0.5b --vocab " + kStories);  // missing --type and -o
  EXPECT_NE(r.exit_code, 0);
}

TEST(GgufCommand, QuantizeWritesALoadableFile) {
  const std::string out = testing::TempDir() + "/gguf_cmd_q8.gguf";
  RunResult r = run("gguf quantize " + kStories + " " + out + " Q8_0 -t 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "(q8_0): 37 tensors converted, 11 copied")) << r.output;
  GgufFile f = GgufFile::open(out);
  EXPECT_EQ(f.find_tensor("blk.0.attn_q.weight")->type, TensorType::Q8_0);
  EXPECT_EQ(f.find_tensor("blk.0.ffn_down.weight")->type, TensorType::F16);  // rows of 172
  EXPECT_EQ(f.get_uint("general.file_type"), 7u);
}

// One real shape end to end through the command line (one layer: the embeddings dominate, ~0.2 GB).
TEST(GgufCommand, SynthTinyLlamaOneLayer) {
  const std::string out = testing::TempDir() + "/gguf_cmd_tinyllama.gguf";
  RunResult r = run("gguf synth --shape tinyllama-1.1b --type q8_0 --vocab " + kShared +
                    "/testdata/tokenizer/ggml-vocab-llama-spm.gguf -o " + out + " --layers 1 --seed 3");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  GgufFile f = GgufFile::open(out);
  EXPECT_EQ(f.get_uint("llama.block_count"), 1u);
  EXPECT_EQ(f.get_uint("llama.embedding_length"), 2048u);
  EXPECT_EQ(f.get_uint("llama.attention.head_count_kv"), 4u);
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(f.tensors().size(), 3u + 9u);
  EXPECT_EQ(f.find_tensor("output.weight")->type, TensorType::Q8_0);
  EXPECT_EQ(f.find_tensor("blk.0.ffn_up.weight")->shape, (std::vector<int64_t>{2048, 5632}));
  std::remove(out.c_str());
}

}  // namespace
}  // namespace parley::llm::gguf
