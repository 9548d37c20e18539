// Parsing and validation of the GGUF header (see gguf_reader.hpp for the guarantees).
//
// Layout (all little-endian): magic "GGUF", u32 version, u64 tensor_count, u64 kv_count,
// kv_count x {string key, u32 value_type, value}, tensor_count x {string name, u32 n_dims,
// u64 dims[n_dims], u32 type, u64 offset}, padding to the alignment, tensor data.
// A string is u64 length + bytes (no terminator); an array is u32 element type, u64 count, elements.
#include "llm/gguf/gguf_reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <numeric>

namespace parley::llm::gguf {

namespace {

constexpr size_t kHeaderBytes = 24;                    // magic, version, tensor count, kv count
constexpr size_t kMinKvBytes = 8 + 4 + 1;              // empty key, type, one-byte value
constexpr size_t kMinTensorBytes = 8 + 4 + 8 + 4 + 8;  // empty name, one dimension, type, offset
constexpr int kMaxDims = 4;
constexpr int kMaxArrayDepth = 8;
constexpr size_t kMaxAlignment = size_t{1} << 30;
constexpr uint64_t kMaxReserve = 4096;  // entries reserved up front, whatever the header claims

bool valid_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::FLOAT64); }

std::string quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 200)) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  if (s.size() > 200) out += "...";
  return out + "'";
}

}  // namespace

struct GgufFile::Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr) munmap(addr, size);
  }
};

// Reads little-endian fields with bounds checks; every failure goes through GgufFile::fail.
class GgufCursor {
 public:
  GgufCursor(const GgufFile& f, const uint8_t* base, size_t size) : f_(f), base_(base), size_(size) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  const uint8_t* here() const { return base_ + pos_; }

  template <typename T>
  T read(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, base_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  void need(size_t n, const std::string& what) const {
    if (n > remaining())
      fail("truncated file: " + what + " at offset " + std::to_string(pos_) + " needs " + std::to_string(n) +
           " bytes, file size is " + std::to_string(size_));
  }

  std::string_view read_string(const std::string& what) {
    uint64_t len = read<uint64_t>(what + " length");
    if (len > remaining())
      fail(what + ": string length " + std::to_string(len) + " at offset " + std::to_string(pos_ - 8) +
           " runs past the end of the file (size " + std::to_string(size_) + ")");
    std::string_view s(reinterpret_cast<const char*>(base_ + pos_), len);
    pos_ += len;
    return s;
  }

  void skip(size_t n) { pos_ += n; }

  [[noreturn]] void fail(const std::string& problem) const;

 private:
  const GgufFile& f_;
  const uint8_t* base_;
  size_t size_;
  size_t pos_ = 0;
};

void GgufFile::fail(const std::string& problem) const { throw GgufError(path_ + ": " + problem); }
void GgufCursor::fail(const std::string& problem) const { f_.fail(problem); }

namespace {

// Skips one value of type t (validated) at the cursor; `what` names it in errors.
void skip_value(GgufCursor& c, ValueType t, const std::string& what, int depth);

void skip_array(GgufCursor& c, const std::string& what, int depth, ValueType* elem_out, uint64_t* count_out) {
  if (depth > kMaxArrayDepth) c.fail(what + ": arrays nested deeper than " + std::to_string(kMaxArrayDepth));
  uint32_t raw = c.read<uint32_t>(what + " array element type");
  if (!valid_value_type(raw)) c.fail(what + ": unknown array element type " + std::to_string(raw));
  auto elem = static_cast<ValueType>(raw);
  size_t count_pos = c.pos();
  uint64_t count = c.read<uint64_t>(what + " array length");
  size_t elem_size = value_type_size(elem);
  // Every element takes at least one byte (strings 8, arrays 12), so count <= remaining bytes.
  size_t min_size = elem_size ? elem_size : (elem == ValueType::STRING ? 8 : 12);
  if (count > c.remaining() / min_size)
    c.fail(what + ": array of " + std::to_string(count) + " " + std::string(value_type_name(elem)) +
           " at offset " + std::to_string(count_pos) + " runs past the end of the file (size " +
           std::to_string(c.pos() + c.remaining()) + ")");
  if (elem_out) *elem_out = elem;
  if (count_out) *count_out = count;
  if (elem_size) {
    c.skip(count * elem_size);
    return;
  }
  if (elem == ValueType::STRING) {
    // Hot path (150k-token vocabularies): check each length without building a name; only a bad
    // element goes through read_string, which names it in the error.
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t len;
      if (c.remaining() >= 8 && (std::memcpy(&len, c.here(), 8), len <= c.remaining() - 8)) {
        c.skip(8 + len);
      } else {
        c.read_string(what + "[" + std::to_string(i) + "]");
      }
    }
    return;
  }
  for (uint64_t i = 0; i < count; ++i) skip_value(c, elem, what + "[" + std::to_string(i) + "]", depth + 1);
}

void skip_value(GgufCursor& c, ValueType t, const std::string& what, int depth) {
  if (t == ValueType::STRING) {
    c.read_string(what);
  } else if (t == ValueType::ARRAY) {
    skip_array(c, what, depth, nullptr, nullptr);
  } else {
    size_t n = value_type_size(t);
    c.need(n, what + " " + std::string(value_type_name(t)) + " value");
    c.skip(n);
  }
}

}  // namespace

GgufFile GgufFile::open(const std::string& path) {
  GgufFile f;
  f.path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) f.fail(std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    f.fail(std::string("cannot stat: ") + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    f.fail("not a regular file");
  }
  auto m = std::make_shared<Mapping>();
  m->size = static_cast<size_t>(st.st_size);
  if (m->size > 0) {
    void* addr = mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (addr == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      f.fail(std::string("cannot map: ") + std::strerror(err));
    }
    m->addr = addr;
  }
  ::close(fd);
  f.mapping_ = std::move(m);
  f.base_ = static_cast<const uint8_t*>(f.mapping_->addr);
  f.size_ = f.mapping_->size;
  f.parse_all();
  return f;
}

GgufFile GgufFile::parse(std::span<const uint8_t> bytes, const std::string& name) {
  GgufFile f;
  f.path_ = name;
  f.base_ = bytes.data();
  f.size_ = bytes.size();
  f.parse_all();
  return f;
}

void GgufFile::parse_all() {
  if (size_ < kHeaderBytes) {
    // Say "bad magic" rather than "truncated" when even the first bytes are not GGUF's.
    if (size_ >= 4 && std::memcmp(base_, "GGUF", 4) != 0) {
      uint32_t magic;
      std::memcpy(&magic, base_, 4);
      char buf[64];
      std::snprintf(buf, sizeof buf, "bad magic 0x%08x, not a GGUF file", magic);
      fail(buf);
    }
    fail("truncated file: " + std::to_string(size_) + " bytes, a GGUF header needs " +
         std::to_string(kHeaderBytes));
  }
  GgufCursor c(*this, base_, size_);
  uint32_t magic = c.read<uint32_t>("magic");
  if (magic != kGgufMagic) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "bad magic 0x%08x, not a GGUF file", magic);
    fail(buf);
  }
  version_ = c.read<uint32_t>("version");
  if (version_ != 2 && version_ != 3) {
    std::string hint = (version_ & 0xffff) == 0 && version_ != 0 ? " (a big-endian file?)" : "";
    fail("unsupported GGUF version " + std::to_string(version_) + hint + "; this reader supports 2 and 3");
  }
  uint64_t n_tensors = c.read<uint64_t>("tensor count");
  uint64_t n_kv = c.read<uint64_t>("metadata count");
  if (n_tensors > c.remaining() / kMinTensorBytes)
    fail("tensor count " + std::to_string(n_tensors) + " cannot fit in the file (size " +
         std::to_string(size_) + ")");
  if (n_kv > c.remaining() / kMinKvBytes)
    fail("metadata count " + std::to_string(n_kv) + " cannot fit in the file (size " + std::to_string(size_) +
         ")");

  // Reserve for what real files hold; a hostile count only costs memory as its entries actually parse.
  meta_.reserve(std::min<uint64_t>(n_kv, kMaxReserve));
  meta_index_.reserve(std::min<uint64_t>(n_kv, kMaxReserve));
  for (uint64_t i = 0; i < n_kv; ++i) {
    MetaEntry e;
    e.record_begin = c.here();
    std::string entry = "metadata entry " + std::to_string(i);
    e.key = c.read_string(entry + " key");
    if (e.key.empty()) fail(entry + ": empty key");
    std::string what = "metadata " + quoted(e.key);
    uint32_t raw = c.read<uint32_t>(what + " value type");
    if (!valid_value_type(raw)) fail(what + ": unknown value type " + std::to_string(raw));
    e.type = static_cast<ValueType>(raw);
    if (e.type == ValueType::ARRAY) {
      skip_array(c, what, 1, &e.elem_type, &e.count);
      // The first element follows the u32 element type and u64 count after the u32 value type.
      e.value = e.record_begin + 8 + e.key.size() + 4 + 4 + 8;
    } else {
      e.count = 1;
      e.value = c.here();
      skip_value(c, e.type, what, 1);
    }
    e.record_end = c.here();
    if (!meta_index_.emplace(e.key, meta_.size()).second) fail("duplicate metadata key " + quoted(e.key));
    meta_.push_back(e);
  }

  if (const MetaEntry* a = find("general.alignment")) {
    bool is_uint = a->type == ValueType::UINT8 || a->type == ValueType::UINT16 ||
                   a->type == ValueType::UINT32 || a->type == ValueType::UINT64;
    if (!is_uint)
      fail("general.alignment must be an unsigned integer, got " + std::string(value_type_name(a->type)));
    uint64_t v = *get_uint("general.alignment");
    if (v == 0 || (v & (v - 1)) != 0 || v > kMaxAlignment)
      fail("general.alignment must be a power of two up to 2^30, got " + std::to_string(v));
    alignment_ = static_cast<size_t>(v);
  }

  tensors_.reserve(std::min<uint64_t>(n_tensors, kMaxReserve));
  tensor_index_.reserve(std::min<uint64_t>(n_tensors, kMaxReserve));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    std::string entry = "tensor " + std::to_string(i);
    std::string_view name = c.read_string(entry + " name");
    std::string what = "tensor " + quoted(name);
    uint32_t n_dims = c.read<uint32_t>(what + " dimension count");
    if (n_dims == 0 || n_dims > kMaxDims)
      fail(what + ": " + std::to_string(n_dims) + " dimensions (must be 1 to " + std::to_string(kMaxDims) +
           ")");
    TensorInfo t;
    t.name = std::string(name);
    int64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      auto dim = static_cast<int64_t>(c.read<uint64_t>(what + " dimension " + std::to_string(d)));
      if (dim <= 0)
        fail(what + ": dimension " + std::to_string(d) + " is " + std::to_string(dim) + " (must be > 0)");
      if (__builtin_mul_overflow(n_elements, dim, &n_elements)) fail(what + ": element count overflows");
      t.shape.push_back(dim);
    }
    uint32_t raw_type = c.read<uint32_t>(what + " type");
    const TypeInfo* ti = type_info(raw_type);
    if (!ti) fail(what + ": unknown tensor type " + std::to_string(raw_type));
    t.type = ti->type;
    if (t.shape[0] % ti->block_size != 0)
      fail(what + ": row length " + std::to_string(t.shape[0]) + " is not a multiple of the " +
           std::string(ti->name) + " block size " + std::to_string(ti->block_size));
    uint64_t nbytes = static_cast<uint64_t>(n_elements / ti->block_size);
    if (__builtin_mul_overflow(nbytes, static_cast<uint64_t>(ti->type_size), &nbytes))
      fail(what + ": size in bytes overflows");
    t.nbytes = nbytes;
    t.offset = c.read<uint64_t>(what + " offset");
    if (t.offset % alignment_ != 0)
      fail(what + ": offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
           std::to_string(alignment_));
    if (!tensor_index_.emplace(name, tensors_.size()).second) fail("duplicate tensor name " + quoted(name));
    tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment after the header.
  data_offset_ = (c.pos() + alignment_ - 1) / alignment_ * alignment_;
  if (tensors_.empty()) return;
  if (data_offset_ > size_)
    fail("truncated file: tensor data section starts at offset " + std::to_string(data_offset_) +
         ", file size is " + std::to_string(size_));
  uint64_t data_size = size_ - data_offset_;
  for (auto& t : tensors_) {
    if (t.offset > data_size || t.nbytes > data_size - t.offset)
      fail("tensor " + quoted(t.name) + ": " + std::to_string(t.nbytes) + " bytes of data at offset " +
           std::to_string(t.offset) + " of the data section run past the end of the file (data section is " +
           std::to_string(data_size) + " bytes)");
    t.data = base_ + data_offset_ + t.offset;
  }
  std::vector<size_t> order(tensors_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return tensors_[a].offset < tensors_[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const TensorInfo& prev = tensors_[order[k - 1]];
    const TensorInfo& cur = tensors_[order[k]];
    if (cur.offset < prev.offset + prev.nbytes)
      fail("tensors " + quoted(prev.name) + " and " + quoted(cur.name) + " overlap");
  }
}

const MetaEntry* GgufFile::find(std::string_view key) const {
  auto it = meta_index_.find(key);
  return it == meta_index_.end() ? nullptr : &meta_[it->second];
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

int64_t TensorInfo::n_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace parley::llm::gguf
