#include "llm/gguf/gguf_writer.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace parley::llm::gguf {

namespace {

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
  size_t n = out.size();
  out.resize(n + sizeof(T));
  std::memcpy(out.data() + n, &v, sizeof(T));
}

void put_string(std::vector<uint8_t>& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  size_t n = out.size();
  out.resize(n + s.size());
  if (!s.empty()) std::memcpy(out.data() + n, s.data(), s.size());
}

template <typename T>
std::vector<uint8_t> scalar(T v) {
  std::vector<uint8_t> out;
  put(out, v);
  return out;
}

template <typename T>
std::vector<uint8_t> numeric_array(ValueType elem, std::span<const T> v) {
  std::vector<uint8_t> out;
  out.reserve(12 + v.size() * sizeof(T));
  put<uint32_t>(out, static_cast<uint32_t>(elem));
  put<uint64_t>(out, v.size());
  for (T x : v) put(out, x);
  return out;
}

template <typename S>
std::vector<uint8_t> string_array(std::span<const S> v) {
  std::vector<uint8_t> out;
  size_t total = 12;
  for (const auto& s : v) total += 8 + s.size();
  out.reserve(total);
  put<uint32_t>(out, static_cast<uint32_t>(ValueType::STRING));
  put<uint64_t>(out, v.size());
  for (const auto& s : v) put_string(out, s);
  return out;
}

}  // namespace

uint64_t tensor_nbytes(TensorType type, std::span<const int64_t> shape) {
  const TypeInfo& ti = type_info(type);
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  if (shape.empty() || shape[0] % ti.block_size != 0)
    throw GgufError("tensor row length " + std::to_string(shape.empty() ? 0 : shape[0]) +
                    " is not a multiple of the " + std::string(ti.name) + " block size " +
                    std::to_string(ti.block_size));
  return static_cast<uint64_t>(n / ti.block_size) * ti.type_size;
}

void GgufWriter::set_alignment(uint32_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    throw GgufError("alignment must be a power of two, got " + std::to_string(alignment));
  alignment_ = alignment;
  if (alignment == kDefaultAlignment)
    remove("general.alignment");
  else
    set_u32("general.alignment", alignment);
}

void GgufWriter::set(std::string_view key, ValueType type, std::vector<uint8_t> value) {
  std::vector<uint8_t> rec;
  rec.reserve(4 + value.size());
  put<uint32_t>(rec, static_cast<uint32_t>(type));
  rec.insert(rec.end(), value.begin(), value.end());
  auto it = index_.find(std::string(key));
  if (it != index_.end()) {
    meta_[it->second].second = std::move(rec);
    return;
  }
  index_.emplace(std::string(key), meta_.size());
  meta_.emplace_back(std::string(key), std::move(rec));
}

void GgufWriter::set_u8(std::string_view k, uint8_t v) { set(k, ValueType::UINT8, scalar(v)); }
void GgufWriter::set_i8(std::string_view k, int8_t v) { set(k, ValueType::INT8, scalar(v)); }
void GgufWriter::set_u16(std::string_view k, uint16_t v) { set(k, ValueType::UINT16, scalar(v)); }
void GgufWriter::set_i16(std::string_view k, int16_t v) { set(k, ValueType::INT16, scalar(v)); }
void GgufWriter::set_u32(std::string_view k, uint32_t v) { set(k, ValueType::UINT32, scalar(v)); }
void GgufWriter::set_i32(std::string_view k, int32_t v) { set(k, ValueType::INT32, scalar(v)); }
void GgufWriter::set_u64(std::string_view k, uint64_t v) { set(k, ValueType::UINT64, scalar(v)); }
void GgufWriter::set_i64(std::string_view k, int64_t v) { set(k, ValueType::INT64, scalar(v)); }
void GgufWriter::set_f32(std::string_view k, float v) { set(k, ValueType::FLOAT32, scalar(v)); }
void GgufWriter::set_f64(std::string_view k, double v) { set(k, ValueType::FLOAT64, scalar(v)); }
void GgufWriter::set_bool(std::string_view k, bool v) { set(k, ValueType::BOOL, scalar<uint8_t>(v ? 1 : 0)); }

void GgufWriter::set_string(std::string_view k, std::string_view v) {
  std::vector<uint8_t> out;
  put_string(out, v);
  set(k, ValueType::STRING, std::move(out));
}

void GgufWriter::set_string_array(std::string_view k, std::span<const std::string> v) {
  set(k, ValueType::ARRAY, string_array(v));
}
void GgufWriter::set_string_array(std::string_view k, std::span<const std::string_view> v) {
  set(k, ValueType::ARRAY, string_array(v));
}
void GgufWriter::set_f32_array(std::string_view k, std::span<const float> v) {
  set(k, ValueType::ARRAY, numeric_array(ValueType::FLOAT32, v));
}
void GgufWriter::set_i32_array(std::string_view k, std::span<const int32_t> v) {
  set(k, ValueType::ARRAY, numeric_array(ValueType::INT32, v));
}
void GgufWriter::set_u32_array(std::string_view k, std::span<const uint32_t> v) {
  set(k, ValueType::ARRAY, numeric_array(ValueType::UINT32, v));
}
void GgufWriter::set_i64_array(std::string_view k, std::span<const int64_t> v) {
  set(k, ValueType::ARRAY, numeric_array(ValueType::INT64, v));
}

void GgufWriter::set_raw(std::string_view key, ValueType type, std::vector<uint8_t> encoded_value) {
  set(key, type, std::move(encoded_value));
}

void GgufWriter::copy_entry(const MetaEntry& e) {
  // The record is: u64 key length, key, u32 type, value.
  const uint8_t* value_begin = e.record_begin + 8 + e.key.size() + 4;
  set(e.key, e.type, std::vector<uint8_t>(value_begin, e.record_end));
}

bool GgufWriter::remove(std::string_view key) {
  auto it = index_.find(std::string(key));
  if (it == index_.end()) return false;
  size_t pos = it->second;
  meta_.erase(meta_.begin() + static_cast<std::ptrdiff_t>(pos));
  index_.erase(it);
  for (auto& [k, i] : index_)
    if (i > pos) --i;
  return true;
}

size_t GgufWriter::add_tensor(std::string name, TensorType type, std::vector<int64_t> shape) {
  uint64_t n = tensor_nbytes(type, shape);
  tensors_.push_back(Tensor{std::move(name), type, std::move(shape), n, std::nullopt});
  return tensors_.size() - 1;
}

size_t GgufWriter::add_tensor(std::string name, TensorType type, std::vector<int64_t> shape,
                              std::vector<uint8_t> data) {
  uint64_t n = tensor_nbytes(type, shape);
  if (data.size() != n)
    throw GgufError("tensor '" + name + "': " + std::to_string(data.size()) +
                    " bytes of data, its shape needs " + std::to_string(n));
  tensors_.push_back(Tensor{std::move(name), type, std::move(shape), n, std::move(data)});
  return tensors_.size() - 1;
}

uint64_t GgufWriter::tensor_bytes() const {
  uint64_t total = 0;
  for (const auto& t : tensors_) total += t.nbytes;
  return total;
}

std::vector<uint8_t> GgufWriter::header() const {
  std::vector<uint8_t> out;
  put<uint32_t>(out, kGgufMagic);
  put<uint32_t>(out, version_);
  put<uint64_t>(out, tensors_.size());
  put<uint64_t>(out, meta_.size());
  for (const auto& [key, rec] : meta_) {
    put_string(out, key);
    out.insert(out.end(), rec.begin(), rec.end());
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    put_string(out, t.name);
    put<uint32_t>(out, static_cast<uint32_t>(t.shape.size()));
    for (int64_t d : t.shape) put<uint64_t>(out, static_cast<uint64_t>(d));
    put<uint32_t>(out, static_cast<uint32_t>(t.type));
    put<uint64_t>(out, offset);
    offset = (offset + t.nbytes + alignment_ - 1) / alignment_ * alignment_;
  }
  out.resize((out.size() + alignment_ - 1) / alignment_ * alignment_, 0);
  return out;
}

void GgufWriter::emit(const std::function<void(const uint8_t*, size_t)>& sink,
                      const TensorFiller& fill) const {
  std::vector<uint8_t> head = header();
  sink(head.data(), head.size());
  static const uint8_t kZeros[256] = {};
  std::vector<uint8_t> buf;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const Tensor& t = tensors_[i];
    if (t.data) {
      sink(t.data->data(), t.data->size());
    } else {
      if (!fill) throw GgufError("tensor '" + t.name + "' has no data and no filler was given");
      buf.assign(t.nbytes, 0);
      fill(i, std::span<uint8_t>(buf.data(), buf.size()));
      sink(buf.data(), buf.size());
    }
    if (i + 1 == tensors_.size()) break;  // no padding after the last tensor
    size_t pad = (alignment_ - t.nbytes % alignment_) % alignment_;
    while (pad) {
      size_t n = std::min(pad, sizeof kZeros);
      sink(kZeros, n);
      pad -= n;
    }
  }
}

void GgufWriter::write(const std::string& path, const TensorFiller& fill) const {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw GgufError(path + ": cannot create: " + std::strerror(errno));
  try {
    emit(
        [&](const uint8_t* p, size_t n) {
          if (std::fwrite(p, 1, n, f) != n) throw GgufError(path + ": write failed: " + std::strerror(errno));
        },
        fill);
  } catch (...) {
    std::fclose(f);
    throw;
  }
  if (std::fclose(f) != 0) throw GgufError(path + ": write failed: " + std::strerror(errno));
}

std::vector<uint8_t> GgufWriter::to_bytes(const TensorFiller& fill) const {
  std::vector<uint8_t> out;
  emit([&](const uint8_t* p, size_t n) { out.insert(out.end(), p, p + n); }, fill);
  return out;
}

}  // namespace parley::llm::gguf
