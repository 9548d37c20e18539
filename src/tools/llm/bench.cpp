#include "tools/llm/bench.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <vector>

#include "llm/model/forward.hpp"
#include "llm/quant/bandwidth.hpp"
#include "llm/quant/kernels.hpp"

namespace parley::tools {
namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Run {
  llm::KvCache kv;
  std::vector<llm::SeqBlocks> seqs;
  Run(const llm::HParams& hp, int64_t tokens, int n_seqs) : kv(hp, tokens * n_seqs), seqs(n_seqs) {
    for (auto& s : seqs)
      for (int64_t i = 0; i < kv.blocks_for(tokens); ++i) s.blocks.push_back(kv.allocate());
  }
  std::vector<const llm::SeqBlocks*> views() const {
    std::vector<const llm::SeqBlocks*> v;
    for (auto& s : seqs) v.push_back(&s);
    return v;
  }
};

struct PromptTiming {
  double tokens_per_s = 0;
  double last_chunk_s = 0;  // seconds of the last chunk, evaluated after the earlier ones are cached
};

// Tokens/s of evaluating an n-token prompt in chunks.
PromptTiming prompt_speed(llm::Forward& fwd, const llm::HParams& hp, int64_t n, int64_t chunk, std::mt19937& rng) {
  Run run(hp, n, 1);
  auto seqs = run.views();
  std::vector<float> logits(hp.n_vocab);
  PromptTiming timing;
  const auto t0 = Clock::now();
  for (int64_t start = 0; start < n; start += chunk) {
    std::vector<llm::BatchToken> batch;
    for (int64_t p = start; p < std::min(n, start + chunk); ++p)
      batch.push_back({static_cast<int32_t>(rng() % hp.n_vocab), static_cast<int32_t>(p), 0, p == n - 1});
    const auto c0 = Clock::now();
    fwd.eval(batch, seqs, run.kv, logits.data());
    timing.last_chunk_s = std::chrono::duration<double>(Clock::now() - c0).count();
  }
  timing.tokens_per_s = n / std::chrono::duration<double>(Clock::now() - t0).count();
  return timing;
}

// Aggregate tokens/s of `batch` sequences each decoding n tokens one step at a time.
double generation_speed(llm::Forward& fwd, const llm::HParams& hp, int64_t n, int batch, std::mt19937& rng) {
  Run run(hp, n, batch);
  auto seqs = run.views();
  std::vector<float> logits(static_cast<size_t>(hp.n_vocab) * batch);
  const auto t0 = Clock::now();
  for (int64_t p = 0; p < n; ++p) {
    std::vector<llm::BatchToken> step;
    for (int s = 0; s < batch; ++s)
      step.push_back({static_cast<int32_t>(rng() % hp.n_vocab), static_cast<int32_t>(p), s, true});
    fwd.eval(step, seqs, run.kv, logits.data());
  }
  return n * batch / std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int run_bench(const BenchOptions& o) {
  auto model = llm::Model::load(o.model);
  const llm::HParams& hp = model->hparams();
  ThreadPool pool(o.threads);
  llm::Forward fwd(model, pool);
  std::mt19937 rng(1234);
  std::printf("model: %s (%s, %lld layers, n_embd %lld, vocab %lld), weights read per token: %.1f MB\n",
              o.model.c_str(), hp.arch_name.c_str(), static_cast<long long>(hp.n_layer),
              static_cast<long long>(hp.n_embd), static_cast<long long>(hp.n_vocab),
              model->weight_bytes() / 1e6);
  std::printf("threads: %d, kernels: %s, repetitions: %d (median)\n", pool.size(),
              llm::quant::isa_name(llm::quant::active_isa()), o.repetitions);

  // Warm-up: page the weights in.
  prompt_speed(fwd, hp, std::clamp<int64_t>(o.prompt_tokens, 1, 32), o.chunk, rng);  // -p 0: one token

  std::vector<double> pp, tg, last_chunk;
  for (int r = 0; r < o.repetitions; ++r) {
    if (o.prompt_tokens > 0) {
      const PromptTiming t = prompt_speed(fwd, hp, o.prompt_tokens, o.chunk, rng);
      pp.push_back(t.tokens_per_s);
      last_chunk.push_back(t.last_chunk_s);
    }
    if (o.gen_tokens > 0) tg.push_back(generation_speed(fwd, hp, o.gen_tokens, o.batch, rng));
  }
  double bw = 0;
  if (!o.skip_bandwidth) bw = llm::quant::measure_read_bandwidth_gbs(o.threads);
  const double bound = bw > 0 ? bw * 1e9 / static_cast<double>(model->weight_bytes()) : 0;

  std::printf("%-28s %12s\n", "test", "tokens/s");
  if (!pp.empty())
    std::printf("%-28s %12.1f\n", ("pp" + std::to_string(o.prompt_tokens)).c_str(), median(pp));
  // With --chunk below -p, the last chunk runs after the earlier ones are in the cache (a chat turn
  // after a reused history): e.g. -p 1700 --chunk 1500 times 200 tokens after 1500 cached positions.
  if (!pp.empty() && o.chunk < o.prompt_tokens) {
    const int64_t cached = (o.prompt_tokens - 1) / o.chunk * o.chunk;
    std::printf("last chunk: %lld tokens after %lld cached: %.1f ms\n",
                static_cast<long long>(o.prompt_tokens - cached), static_cast<long long>(cached),
                median(last_chunk) * 1e3);
  }
  if (!tg.empty()) {
    std::string name = "tg" + std::to_string(o.gen_tokens) +
                       (o.batch > 1 ? " x" + std::to_string(o.batch) + " (aggregate)" : "");
    std::printf("%-28s %12.1f\n", name.c_str(), median(tg));
  }
  if (bw > 0)
    std::printf("memory bandwidth %.1f GB/s -> generation bound %.1f tokens/s (one sequence)\n", bw, bound);
  if (!o.json.empty()) {
    std::ofstream out(o.json);
    out << "{\"model\":\"" << o.model << "\",\"threads\":" << pool.size()
        << ",\"pp_tokens\":" << o.prompt_tokens << ",\"pp_tps\":" << median(pp)
        << ",\"tg_tokens\":" << o.gen_tokens << ",\"batch\":" << o.batch << ",\"tg_tps\":" << median(tg)
        << ",\"bandwidth_gbs\":" << bw << ",\"tg_bound_tps\":" << bound
        << ",\"weight_bytes\":" << model->weight_bytes() << "}\n";
  }
  return 0;
}

}  // namespace parley::tools
