// Memory read-bandwidth probe: the bound for memory-bound decoding (bytes of weights per token / this).
#pragma once

namespace parley::llm::quant {

// Streams a buffer much larger than the last-level cache with `threads` threads (each reading its own
// slice with wide loads) and returns the best of a few passes in GB/s (1e9 bytes/s). Takes ~0.5-1 s.
double measure_read_bandwidth_gbs(int threads);

}  // namespace parley::llm::quant
