// GgufWriter: builds a GGUF v3 (or v2) file — metadata of every value type, tensors aligned.
//
// Metadata keeps insertion order; setting a key again replaces its value in place. Tensors are laid
// out in the order added, each at the next multiple of the alignment. Tensor data is either given
// with add_tensor (small files, tests) or produced at write time by a callback (synth, quantize: one
// tensor in memory at a time, so a 1 GB model needs only its largest tensor's bytes of RAM).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "llm/gguf/gguf_reader.hpp"

namespace parley::llm::gguf {

// Bytes of a tensor of this type and shape (shape[0] must be a multiple of the block size).
uint64_t tensor_nbytes(TensorType type, std::span<const int64_t> shape);

class GgufWriter {
 public:
  // Fills `out` (exactly the tensor's nbytes) with the data of tensor `index` (in add order).
  using TensorFiller = std::function<void(size_t index, std::span<uint8_t> out)>;

  explicit GgufWriter(uint32_t version = 3) : version_(version) {}

  // Sets general.alignment (a power of two) when it differs from 32; default 32.
  void set_alignment(uint32_t alignment);
  size_t alignment() const { return alignment_; }

  void set_u8(std::string_view key, uint8_t v);
  void set_i8(std::string_view key, int8_t v);
  void set_u16(std::string_view key, uint16_t v);
  void set_i16(std::string_view key, int16_t v);
  void set_u32(std::string_view key, uint32_t v);
  void set_i32(std::string_view key, int32_t v);
  void set_u64(std::string_view key, uint64_t v);
  void set_i64(std::string_view key, int64_t v);
  void set_f32(std::string_view key, float v);
  void set_f64(std::string_view key, double v);
  void set_bool(std::string_view key, bool v);
  void set_string(std::string_view key, std::string_view v);
  void set_string_array(std::string_view key, std::span<const std::string> v);
  void set_string_array(std::string_view key, std::span<const std::string_view> v);
  void set_f32_array(std::string_view key, std::span<const float> v);
  void set_i32_array(std::string_view key, std::span<const int32_t> v);
  void set_u32_array(std::string_view key, std::span<const uint32_t> v);
  void set_i64_array(std::string_view key, std::span<const int64_t> v);
  // Any value given as its encoding after the u32 type (for arrays: u32 element type, u64 count,
  // elements). For nested arrays and for deliberately broken files in tests.
  void set_raw(std::string_view key, ValueType type, std::vector<uint8_t> encoded_value);
  // Copies a key/value from another file unchanged.
  void copy_entry(const MetaEntry& e);
  bool remove(std::string_view key);
  bool has(std::string_view key) const { return index_.count(std::string(key)) != 0; }

  // Adds a tensor whose data comes from the filler at write time; returns its index.
  size_t add_tensor(std::string name, TensorType type, std::vector<int64_t> shape);
  // Adds a tensor with its data (data.size() must be its nbytes).
  size_t add_tensor(std::string name, TensorType type, std::vector<int64_t> shape, std::vector<uint8_t> data);
  size_t n_tensors() const { return tensors_.size(); }
  uint64_t tensor_bytes() const;  // sum of the tensors' nbytes (without padding)

  // Writes the file (tensors without data are produced by `fill`). Throws GgufError on I/O errors.
  void write(const std::string& path, const TensorFiller& fill = {}) const;
  // The whole file in memory (small files).
  std::vector<uint8_t> to_bytes(const TensorFiller& fill = {}) const;

 private:
  struct Tensor {
    std::string name;
    TensorType type;
    std::vector<int64_t> shape;
    uint64_t nbytes;
    std::optional<std::vector<uint8_t>> data;
  };
  void set(std::string_view key, ValueType type, std::vector<uint8_t> value);
  std::vector<uint8_t> header() const;  // everything before the tensor data, padded
  void emit(const std::function<void(const uint8_t*, size_t)>& sink, const TensorFiller& fill) const;

  uint32_t version_;
  size_t alignment_ = kDefaultAlignment;
  std::vector<std::pair<std::string, std::vector<uint8_t>>> meta_;  // key, u32 type + encoded value
  std::unordered_map<std::string, size_t> index_;
  std::vector<Tensor> tensors_;
};

}  // namespace parley::llm::gguf
