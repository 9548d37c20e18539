// Row-parallel conversion of a tensor to a storage type, with the quant kernels' reference
// quantize_row (src/llm/quant/kernels.hpp). Each thread converts a contiguous range of rows through
// its own f32 row buffer, so memory use is one row per thread besides the output.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "core/thread_pool.hpp"
#include "llm/quant/types.hpp"

namespace parley::llm::gguf {

// Writes n_rows rows of row_len elements in type `dst_type` to out (n_rows * row bytes).
// source(row, buf) fills buf[row_len] with row `row` in f32; it is called from pool threads
// concurrently (for different rows) and must be thread-safe. Cost: one source() and one quantize_row()
// per row, split over the pool's threads.
void convert_rows(ThreadPool& pool, TensorType dst_type, int64_t row_len, int64_t n_rows,
                  const std::function<void(int64_t row, float* buf)>& source, std::span<uint8_t> out);

}  // namespace parley::llm::gguf
