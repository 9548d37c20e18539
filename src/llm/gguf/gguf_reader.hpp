// GgufFile: a memory-mapped GGUF (v2, v3) model file — metadata key/values and tensor descriptors.
//
// open() maps the file read-only and validates the whole header (every key/value, every tensor
// descriptor, the data layout) before returning, so the rest of the engine can trust what it reads:
// every string, array and tensor lies inside the file, shapes are positive and their products do not
// overflow, tensors are aligned and do not overlap. Any problem throws GgufError whose message names
// the file and the problem ("m.gguf: tensor 'blk.0.attn_q.weight': unknown tensor type 99").
//
// Cost: parsing walks the header once (O(header bytes); a 150k-token vocabulary takes a few ms);
// strings are string_views into the mapping, so nothing is copied until a get_* call asks for it.
// Tensor data is never touched by open(): pages are faulted in when the model reads them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "llm/quant/types.hpp"

namespace parley::llm::gguf {

class GgufError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Metadata value types, numbered as in the file.
enum class ValueType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};

// "uint32", "string", "array", ...; "type N" for a number that is not a value type.
std::string_view value_type_name(ValueType t);
// Bytes of one scalar of this type; 0 for STRING and ARRAY (variable length).
size_t value_type_size(ValueType t);

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as a little-endian uint32
inline constexpr size_t kDefaultAlignment = 32;

// One metadata key/value, as it lies in the mapping.
struct MetaEntry {
  std::string_view key;
  ValueType type;
  ValueType elem_type = ValueType::UINT8;  // arrays: the element type
  uint64_t count = 0;                      // arrays: number of elements; scalars: 1
  const uint8_t* value = nullptr;          // first byte of the value (arrays: of the first element)
  const uint8_t* record_begin = nullptr;   // the whole record, key included: [record_begin, record_end)
  const uint8_t* record_end = nullptr;

  bool is_array() const { return type == ValueType::ARRAY; }
  // Human-readable value: strings quoted, arrays as [a, b, ... (N more)] when longer than max_elems.
  std::string to_string(size_t max_elems = 8) const;
};

struct TensorInfo {
  std::string name;
  TensorType type = TensorType::F32;
  std::vector<int64_t> shape;     // GGUF order: shape[0] is the row length (contiguous), all > 0
  uint64_t offset = 0;            // from the start of the data section, a multiple of alignment()
  const uint8_t* data = nullptr;  // into the mapping
  uint64_t nbytes = 0;

  int64_t n_elements() const;
  int64_t n_rows() const { return shape.empty() ? 0 : n_elements() / shape[0]; }
};

class GgufFile {
 public:
  // Maps and validates the file; throws GgufError.
  static GgufFile open(const std::string& path);
  // Validates bytes that the caller keeps alive as long as the GgufFile (tests, fuzzing).
  // `name` stands for the path in error messages.
  static GgufFile parse(std::span<const uint8_t> bytes, const std::string& name = "<memory>");

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  size_t file_size() const { return size_; }
  size_t data_offset() const { return data_offset_; }  // start of the tensor data section
  const uint8_t* bytes() const { return base_; }

  // Metadata in file order, and lookup by key (nullptr if absent).
  const std::vector<MetaEntry>& metadata() const { return meta_; }
  const MetaEntry* find(std::string_view key) const;

  // Typed getters: nullopt / empty when the key is absent; GgufError when the key holds a value of
  // another type (a wrong type is a broken file, not a reason to silently use a default).
  std::optional<std::string> get_string(std::string_view key) const;
  std::optional<uint64_t> get_uint(std::string_view key) const;  // any integer type, >= 0
  std::optional<int64_t> get_int(std::string_view key) const;    // any integer type
  std::optional<double> get_float(std::string_view key) const;   // float32/64 (or any integer)
  std::optional<bool> get_bool(std::string_view key) const;
  std::vector<std::string> get_string_array(std::string_view key) const;
  // The same strings as views into the mapping (valid while this file lives): no copies.
  std::vector<std::string_view> get_string_views(std::string_view key) const;
  std::vector<float> get_float_array(std::string_view key) const;  // float32/64 or integer elements
  std::vector<int64_t> get_int_array(
      std::string_view key) const;  // integer elements (uint64 > 2^63-1 throws)

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;

 private:
  friend class GgufCursor;
  struct Mapping;
  GgufFile() = default;
  void parse_all();
  [[noreturn]] void fail(const std::string& problem) const;
  const MetaEntry& expect_array(const MetaEntry& e) const;

  std::shared_ptr<Mapping> mapping_;  // null when parsing caller-owned bytes
  std::string path_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  uint32_t version_ = 0;
  size_t alignment_ = kDefaultAlignment;
  size_t data_offset_ = 0;
  std::vector<MetaEntry> meta_;
  std::unordered_map<std::string_view, size_t> meta_index_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> tensor_index_;  // names as views into the bytes
};

}  // namespace parley::llm::gguf
