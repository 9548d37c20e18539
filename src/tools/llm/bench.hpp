// `parley bench`: tokens/s of prompt processing and generation on this machine, measured on the
// forward pass directly (no sampling, no HTTP), and the memory-bandwidth bound for generation:
// bytes of weights one decode step reads / the measured read bandwidth.
#pragma once

#include <cstdint>
#include <string>

namespace parley::tools {

struct BenchOptions {
  std::string model;
  int64_t prompt_tokens = 512;
  int64_t gen_tokens = 128;
  int threads = 2;
  int repetitions = 3;
  int batch = 1;
  int64_t chunk = 512;
  bool skip_bandwidth = false;
  std::string json;
};

int run_bench(const BenchOptions& options);

}  // namespace parley::tools
