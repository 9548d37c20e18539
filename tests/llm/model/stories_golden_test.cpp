// The engine against the reference engine's golden output on a real (tiny) trained model:
// ../shared/models/stories260K.gguf, greedy, 64 tokens, and the top-5 log-probabilities per step.
//
// Tolerance: the reference ran its CPU flash-attention path, which rounds Q to f16 and accumulates
// the attention output in an f16 buffer; this engine keeps Q and the accumulation in f32 (K/V are
// f16 in both). Emulating the reference's f16 accumulator was tried: it brings most steps closer
// but not all (max error 0.017). So the check is: every greedy token equal, the mean absolute
// log-probability error of the top-5 tokens below 1.5e-3 (measured: 1.19e-3), and no single one
// beyond 2e-2 (measured: 0.011, on tokens of log-probability below -8).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <fstream>
#include <sstream>

#include "llm/model/forward.hpp"

namespace parley::llm {
namespace {

std::string shared(const std::string& rel) { return std::string(PARLEY_SHARED_DIR) + "/" + rel; }

boost::json::value read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return boost::json::parse(ss.str());
}

std::vector<double> log_softmax(const float* logits, int64_t n) {
  double mx = logits[0];
  for (int64_t i = 1; i < n; ++i) mx = std::max<double>(mx, logits[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(logits[i] - mx);
  std::vector<double> out(n);
  for (int64_t i = 0; i < n; ++i) out[i] = logits[i] - mx - std::log(sum);
  return out;
}

class StoriesGolden : public ::testing::TestWithParam<int> {};

TEST_P(StoriesGolden, GreedyTokensAndLogprobsMatchReference) {
  auto golden = read_json(shared("models/golden/stories260K-once-upon-a-time-64.logprobs.json")).as_object();
  auto model = Model::load(shared("models/stories260K.gguf"));
  ThreadPool pool(GetParam());
  Forward fwd(model, pool);
  const int64_t V = model->hparams().n_vocab;
  KvCache kv(model->hparams(), 256);
  SeqBlocks seq;
  auto ensure = [&](int64_t n_tokens) {
    while (static_cast<int64_t>(seq.blocks.size()) < kv.blocks_for(n_tokens)) seq.blocks.push_back(kv.allocate());
  };
  std::vector<const SeqBlocks*> seqs{&seq};

  std::vector<BatchToken> batch;
  int32_t pos = 0;
  for (auto& id : golden["prompt_ids"].as_array())
    batch.push_back({static_cast<int32_t>(id.as_int64()), pos++, 0, false});
  batch.back().logits = true;
  std::vector<float> logits(V);
  const auto& steps = golden["steps"].as_array();
  double max_err = 0, sum_err = 0;
  int n_err = 0;
  for (size_t s = 0; s < steps.size(); ++s) {
    ensure(pos);
    fwd.eval(batch, seqs, kv, logits.data());
    auto lp = log_softmax(logits.data(), V);
    int32_t best = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    const auto& step = steps[s].as_object();
    ASSERT_EQ(best, step.at("token").as_int64()) << "step " << s;
    for (auto& top : step.at("top").as_array()) {
      int64_t id = top.as_array()[0].as_int64();
      double want = top.as_array()[1].to_number<double>();
      max_err = std::max(max_err, std::abs(lp[id] - want));
      sum_err += std::abs(lp[id] - want);
      ++n_err;
      EXPECT_NEAR(lp[id], want, 2e-2) << "step " << s << " token " << id;
    }
    batch = {{best, pos++, 0, true}};
  }
  EXPECT_LT(sum_err / n_err, 1.5e-3) << "max " << max_err;
  RecordProperty("max_logprob_error", std::to_string(max_err));
  RecordProperty("mean_logprob_error", std::to_string(sum_err / n_err));
}

INSTANTIATE_TEST_SUITE_P(Threads, StoriesGolden, ::testing::Values(1, 2));

}  // namespace
}  // namespace parley::llm
