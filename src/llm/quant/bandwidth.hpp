// Memory read-bandwidth probe: the bound for memory-bound decoding (bytes of weights per token / this).
#pragma once

namespace parley::llm::quant {

// Streams a 1 GiB buffer (far beyond the last-level cache) with `threads` threads, each reading its own
// slice with the widest loads the CPU has, and returns GB/s (1e9 bytes/s): the sum over threads of each
// thread's fastest 32 MB chunk over 4 passes (robust to preemption on a busy machine). Takes ~1-2 s.
double measure_read_bandwidth_gbs(int threads);

}  // namespace parley::llm::quant
