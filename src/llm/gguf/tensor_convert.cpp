#include "llm/gguf/tensor_convert.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "llm/quant/kernels.hpp"

namespace parley::llm::gguf {

void convert_rows(ThreadPool& pool, TensorType dst_type, int64_t row_len, int64_t n_rows,
                  const std::function<void(int64_t row, float* buf)>& source, std::span<uint8_t> out) {
  const size_t row_bytes = quant::row_bytes(dst_type, row_len);
  if (out.size() != row_bytes * static_cast<size_t>(n_rows))
    throw std::logic_error("convert_rows: output size does not match the rows");
  // Rows are handed out in small chunks from a shared counter, so a thread that the OS preempts
  // (the machine is shared) does not hold up the others.
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(64, n_rows / (8 * pool.size())));
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex mu;
  pool.run([&](int, int) {
    try {
      std::vector<float> buf(static_cast<size_t>(row_len));
      for (;;) {
        const int64_t begin = next.fetch_add(chunk);
        if (begin >= n_rows) break;
        const int64_t end = std::min(n_rows, begin + chunk);
        for (int64_t r = begin; r < end; ++r) {
          source(r, buf.data());
          quant::quantize_row(dst_type, buf.data(), out.data() + static_cast<size_t>(r) * row_bytes, row_len);
        }
      }
    } catch (...) {
      std::lock_guard lock(mu);
      if (!error) error = std::current_exception();
      next.store(n_rows);
    }
  });
  if (error) std::rethrow_exception(error);
}

}  // namespace parley::llm::gguf
