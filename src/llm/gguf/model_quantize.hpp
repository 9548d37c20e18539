// Converting a model file to another file type (`parley gguf quantize IN OUT TYPE`): metadata copied,
// general.file_type updated, every tensor given the type quant_mixture.hpp chooses. Tensors already in
// their chosen type are copied byte for byte; others are dequantized to f32 and quantized again, row by
// row on all threads. Cost: one quantize_row per converted row; memory: the largest output tensor.
#pragma once

#include <cstdint>
#include <string>

#include "llm/gguf/quant_mixture.hpp"

namespace parley::llm::gguf {

struct QuantizeStats {
  uint64_t bytes_in = 0;   // tensor bytes of the input
  uint64_t bytes_out = 0;  // tensor bytes of the output
  int tensors_converted = 0;
  int tensors_copied = 0;
};

// Throws GgufError (unreadable input, a tensor type that cannot be dequantized, I/O).
QuantizeStats quantize_model(const std::string& in_path, const std::string& out_path, FileType ft,
                             int threads = 0);

}  // namespace parley::llm::gguf
