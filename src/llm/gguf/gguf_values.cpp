// Typed access to GGUF metadata values (already bounds-checked by GgufFile::parse_all).
#include <cstdio>
#include <cstring>
#include <limits>

#include "llm/gguf/gguf_reader.hpp"

namespace parley::llm::gguf {

namespace {

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

bool is_integer(ValueType t) {
  switch (t) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::UINT16:
    case ValueType::INT16:
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::UINT64:
    case ValueType::INT64:
      return true;
    default:
      return false;
  }
}

bool is_signed(ValueType t) {
  return t == ValueType::INT8 || t == ValueType::INT16 || t == ValueType::INT32 || t == ValueType::INT64;
}

// Integer at p of type t, as a sign flag + magnitude-preserving 64-bit pair.
int64_t load_signed(ValueType t, const uint8_t* p) {
  switch (t) {
    case ValueType::INT8:
      return load<int8_t>(p);
    case ValueType::INT16:
      return load<int16_t>(p);
    case ValueType::INT32:
      return load<int32_t>(p);
    case ValueType::INT64:
      return load<int64_t>(p);
    default:
      return 0;
  }
}

uint64_t load_unsigned(ValueType t, const uint8_t* p) {
  switch (t) {
    case ValueType::UINT8:
      return load<uint8_t>(p);
    case ValueType::UINT16:
      return load<uint16_t>(p);
    case ValueType::UINT32:
      return load<uint32_t>(p);
    case ValueType::UINT64:
      return load<uint64_t>(p);
    default:
      return 0;
  }
}

double load_number(ValueType t, const uint8_t* p) {
  if (t == ValueType::FLOAT32) return load<float>(p);
  if (t == ValueType::FLOAT64) return load<double>(p);
  if (is_signed(t)) return static_cast<double>(load_signed(t, p));
  return static_cast<double>(load_unsigned(t, p));
}

std::string_view load_string(const uint8_t* p, const uint8_t** next) {
  uint64_t len = load<uint64_t>(p);
  if (next) *next = p + 8 + len;
  return {reinterpret_cast<const char*>(p + 8), static_cast<size_t>(len)};
}

void append_escaped(std::string& out, std::string_view s, size_t max_chars) {
  out += '"';
  size_t n = 0;
  for (char c : s) {
    if (n++ == max_chars) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

// Appends one value of type t at p; returns the pointer after it.
const uint8_t* format_value(std::string& out, ValueType t, const uint8_t* p, size_t max_elems);

const uint8_t* format_array(std::string& out, ValueType elem, uint64_t count, const uint8_t* p,
                            size_t max_elems) {
  out += '[';
  size_t fixed = value_type_size(elem);
  for (uint64_t i = 0; i < count; ++i) {
    if (i == max_elems) {
      out += ", ... (" + std::to_string(count - i) + " more)";
      if (fixed) {
        out += ']';
        return p + (count - i) * fixed;
      }
      // Variable-length elements: walk the rest without printing.
      std::string sink;
      for (; i < count; ++i) {
        sink.clear();
        p = format_value(sink, elem, p, 0);
      }
      break;
    }
    if (i) out += ", ";
    p = format_value(out, elem, p, max_elems);
  }
  out += ']';
  return p;
}

const uint8_t* format_value(std::string& out, ValueType t, const uint8_t* p, size_t max_elems) {
  char buf[64];
  switch (t) {
    case ValueType::STRING: {
      const uint8_t* next;
      std::string_view s = load_string(p, &next);
      if (max_elems) append_escaped(out, s, 120);
      return next;
    }
    case ValueType::ARRAY: {
      auto elem = static_cast<ValueType>(load<uint32_t>(p));
      uint64_t count = load<uint64_t>(p + 4);
      return format_array(out, elem, count, p + 12, max_elems);
    }
    case ValueType::BOOL:
      out += load<uint8_t>(p) ? "true" : "false";
      return p + 1;
    case ValueType::FLOAT32:
      std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(load<float>(p)));
      out += buf;
      return p + 4;
    case ValueType::FLOAT64:
      std::snprintf(buf, sizeof buf, "%.17g", load<double>(p));
      out += buf;
      return p + 8;
    default:
      out += is_signed(t) ? std::to_string(load_signed(t, p)) : std::to_string(load_unsigned(t, p));
      return p + value_type_size(t);
  }
}

}  // namespace

std::string_view value_type_name(ValueType t) {
  switch (t) {
    case ValueType::UINT8:
      return "uint8";
    case ValueType::INT8:
      return "int8";
    case ValueType::UINT16:
      return "uint16";
    case ValueType::INT16:
      return "int16";
    case ValueType::UINT32:
      return "uint32";
    case ValueType::INT32:
      return "int32";
    case ValueType::FLOAT32:
      return "float32";
    case ValueType::BOOL:
      return "bool";
    case ValueType::STRING:
      return "string";
    case ValueType::ARRAY:
      return "array";
    case ValueType::UINT64:
      return "uint64";
    case ValueType::INT64:
      return "int64";
    case ValueType::FLOAT64:
      return "float64";
  }
  return "unknown";
}

size_t value_type_size(ValueType t) {
  switch (t) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::BOOL:
      return 1;
    case ValueType::UINT16:
    case ValueType::INT16:
      return 2;
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::FLOAT32:
      return 4;
    case ValueType::UINT64:
    case ValueType::INT64:
    case ValueType::FLOAT64:
      return 8;
    default:
      return 0;
  }
}

std::string MetaEntry::to_string(size_t max_elems) const {
  std::string out;
  if (type == ValueType::ARRAY)
    format_array(out, elem_type, count, value, max_elems == 0 ? 1 : max_elems);
  else
    format_value(out, type, value, 1);
  return out;
}

namespace {
std::string describe(const MetaEntry& e) {
  if (e.type != ValueType::ARRAY) return std::string(value_type_name(e.type));
  return "array of " + std::string(value_type_name(e.elem_type));
}
}  // namespace

std::optional<std::string> GgufFile::get_string(std::string_view key) const {
  const MetaEntry* e = find(key);
  if (!e) return std::nullopt;
  if (e->type != ValueType::STRING)
    fail("metadata '" + std::string(key) + "' is " + describe(*e) + ", expected string");
  return std::string(load_string(e->value, nullptr));
}

std::optional<uint64_t> GgufFile::get_uint(std::string_view key) const {
  const MetaEntry* e = find(key);
  if (!e) return std::nullopt;
  if (!is_integer(e->type))
    fail("metadata '" + std::string(key) + "' is " + describe(*e) + ", expected an integer");
  if (is_signed(e->type)) {
    int64_t v = load_signed(e->type, e->value);
    if (v < 0)
      fail("metadata '" + std::string(key) + "' is " + std::to_string(v) +
           ", expected a non-negative integer");
    return static_cast<uint64_t>(v);
  }
  return load_unsigned(e->type, e->value);
}

std::optional<int64_t> GgufFile::get_int(std::string_view key) const {
  const MetaEntry* e = find(key);
  if (!e) return std::nullopt;
  if (!is_integer(e->type))
    fail("metadata '" + std::string(key) + "' is " + describe(*e) + ", expected an integer");
  if (is_signed(e->type)) return load_signed(e->type, e->value);
  uint64_t v = load_unsigned(e->type, e->value);
  if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    fail("metadata '" + std::string(key) + "' is " + std::to_string(v) + ", too large for int64");
  return static_cast<int64_t>(v);
}

std::optional<double> GgufFile::get_float(std::string_view key) const {
  const MetaEntry* e = find(key);
  if (!e) return std::nullopt;
  if (e->type != ValueType::FLOAT32 && e->type != ValueType::FLOAT64 && !is_integer(e->type))
    fail("metadata '" + std::string(key) + "' is " + describe(*e) + ", expected a number");
  return load_number(e->type, e->value);
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const {
  const MetaEntry* e = find(key);
  if (!e) return std::nullopt;
  if (e->type != ValueType::BOOL)
    fail("metadata '" + std::string(key) + "' is " + describe(*e) + ", expected bool");
  return load<uint8_t>(e->value) != 0;
}

const MetaEntry& GgufFile::expect_array(const MetaEntry& e) const {
  if (e.type != ValueType::ARRAY)
    fail("metadata '" + std::string(e.key) + "' is " + describe(e) + ", expected an array");
  return e;
}

std::vector<std::string_view> GgufFile::get_string_views(std::string_view key) const {
  const MetaEntry* e = find(key);
  if (!e) return {};
  expect_array(*e);
  if (e->elem_type != ValueType::STRING)
    fail("metadata '" + std::string(key) + "' is " + describe(*e) + ", expected array of string");
  std::vector<std::string_view> out;
  out.reserve(e->count);
  const uint8_t* p = e->value;
  for (uint64_t i = 0; i < e->count; ++i) out.push_back(load_string(p, &p));
  return out;
}

std::vector<std::string> GgufFile::get_string_array(std::string_view key) const {
  std::vector<std::string_view> views = get_string_views(key);
  return {views.begin(), views.end()};
}

std::vector<float> GgufFile::get_float_array(std::string_view key) const {
  const MetaEntry* e = find(key);
  if (!e) return {};
  expect_array(*e);
  ValueType t = e->elem_type;
  if (t != ValueType::FLOAT32 && t != ValueType::FLOAT64 && !is_integer(t))
    fail("metadata '" + std::string(key) + "' is " + describe(*e) + ", expected array of numbers");
  std::vector<float> out(e->count);
  size_t step = value_type_size(t);
  if (t == ValueType::FLOAT32) {
    if (e->count) std::memcpy(out.data(), e->value, e->count * 4);
  } else {
    for (uint64_t i = 0; i < e->count; ++i) out[i] = static_cast<float>(load_number(t, e->value + i * step));
  }
  return out;
}

std::vector<int64_t> GgufFile::get_int_array(std::string_view key) const {
  const MetaEntry* e = find(key);
  if (!e) return {};
  expect_array(*e);
  ValueType t = e->elem_type;
  if (!is_integer(t))
    fail("metadata '" + std::string(key) + "' is " + describe(*e) + ", expected array of integers");
  std::vector<int64_t> out(e->count);
  size_t step = value_type_size(t);
  for (uint64_t i = 0; i < e->count; ++i) {
    const uint8_t* p = e->value + i * step;
    if (is_signed(t)) {
      out[i] = load_signed(t, p);
    } else {
      uint64_t v = load_unsigned(t, p);
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail("metadata '" + std::string(key) + "'[" + std::to_string(i) + "] is " + std::to_string(v) +
             ", too large for int64");
      out[i] = static_cast<int64_t>(v);
    }
  }
  return out;
}

}  // namespace parley::llm::gguf
