// A corpus of broken files, generated from one valid file: every truncation, and corrupted counts,
// lengths, types, dimensions and offsets, each with the exact error it must give.
#include <gtest/gtest.h>

#include <cstring>
#include <regex>
#include <string>
#include <vector>

#include "llm/gguf/gguf_reader.hpp"
#include "llm/gguf/gguf_writer.hpp"

namespace parley::llm::gguf {
namespace {

using Bytes = std::vector<uint8_t>;

// Valid base: 4 key/values (string, u32, u32, string array), tensors 'w' F32 [8, 2] and 'q' Q8_0 [32, 2].
Bytes base_file() {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("test.count", 7);
  w.set_u32("test.other", 8);
  w.set_string_array("tokens", std::vector<std::string>{"a", "bc"});
  w.add_tensor("w", TensorType::F32, {8, 2}, Bytes(64, 1));
  w.add_tensor("q", TensorType::Q8_0, {32, 2}, Bytes(68, 2));
  return w.to_bytes();
}

// Position of the first occurrence of a length-prefixed string's characters (after its u64 length).
size_t find_str(const Bytes& b, std::string_view s) {
  for (size_t i = 8; i + s.size() <= b.size(); ++i) {
    uint64_t len;
    std::memcpy(&len, &b[i - 8], 8);
    if (len == s.size() && std::memcmp(&b[i], s.data(), s.size()) == 0) return i;
  }
  ADD_FAILURE() << "string not found: " << s;
  return 0;
}

template <typename T>
void patch(Bytes& b, size_t pos, T v) {
  std::memcpy(&b[pos], &v, sizeof(T));
}

std::string error_of(const Bytes& b) {
  try {
    GgufFile::parse(b, "broken.gguf");
  } catch (const GgufError& e) {
    return e.what();
  }
  return "(no error)";
}

struct Layout {  // byte positions in base_file()
  Bytes b = base_file();
  size_t arch_value = find_str(b, "general.architecture") + 20 + 4;  // u64 length of "llama"
  size_t count_type = find_str(b, "test.count") + 10;
  size_t other_key = find_str(b, "test.other");
  size_t tokens_elem_type = find_str(b, "tokens") + 6 + 4;
  size_t tokens_count = tokens_elem_type + 4;
  size_t token1_len = find_str(b, "bc") - 8;
  size_t w_ndims = find_str(b, "w") + 1;
  size_t w_dim0 = w_ndims + 4, w_dim1 = w_ndims + 12, w_type = w_ndims + 20;
  size_t q_name = find_str(b, "q");
  size_t q_dim0 = q_name + 1 + 4, q_offset = q_name + 1 + 4 + 16 + 4;
};

TEST(GgufBrokenFiles, BaseFileIsValid) {
  Layout l;
  GgufFile f = GgufFile::parse(l.b, "broken.gguf");
  EXPECT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.data_offset(), 256u);
  EXPECT_EQ(l.b.size(), 256u + 64u + 68u);
  EXPECT_EQ(f.find_tensor("q")->offset, 64u);
}

TEST(GgufBrokenFiles, CorruptedFieldsGiveExactErrors) {
  struct Case {
    const char* what;
    std::function<void(Layout&)> corrupt;
    std::string expected;
  };
  const uint64_t huge = ~uint64_t{0};
  std::vector<Case> cases = {
      {"magic", [](Layout& l) { l.b[3] = 'X'; }, "bad magic 0x58554747, not a GGUF file"},
      {"version 1", [](Layout& l) { patch<uint32_t>(l.b, 4, 1); },
       "unsupported GGUF version 1; this reader supports 2 and 3"},
      {"big-endian version", [](Layout& l) { patch<uint32_t>(l.b, 4, 0x03000000); },
       "unsupported GGUF version 50331648 (a big-endian file?); this reader supports 2 and 3"},
      {"tensor count", [](Layout& l) { patch<uint64_t>(l.b, 8, uint64_t{1} << 62); },
       "tensor count 4611686018427387904 cannot fit in the file (size 388)"},
      {"metadata count", [&](Layout& l) { patch<uint64_t>(l.b, 16, huge); },
       "metadata count 18446744073709551615 cannot fit in the file (size 388)"},
      {"key length", [&](Layout& l) { patch<uint64_t>(l.b, 24, huge); },
       "metadata entry 0 key: string length 18446744073709551615 at offset 24 runs past the end of the file "
       "(size 388)"},
      {"empty key", [](Layout& l) { patch<uint64_t>(l.b, 24, 0); }, "metadata entry 0: empty key"},
      {"value type", [](Layout& l) { patch<uint32_t>(l.b, l.count_type, 13); },
       "metadata 'test.count': unknown value type 13"},
      {"string value length", [&](Layout& l) { patch<uint64_t>(l.b, l.arch_value, 1000); },
       "metadata 'general.architecture': string length 1000 at offset 56 runs past the end of the file (size "
       "388)"},
      {"array length", [](Layout& l) { patch<uint64_t>(l.b, l.tokens_count, uint64_t{1} << 60); },
       "metadata 'tokens': array of 1152921504606846976 string at offset 143 runs past the end of the file "
       "(size 388)"},
      {"array element type", [](Layout& l) { patch<uint32_t>(l.b, l.tokens_elem_type, 99); },
       "metadata 'tokens': unknown array element type 99"},
      {"array element string length", [&](Layout& l) { patch<uint64_t>(l.b, l.token1_len, huge - 7); },
       "metadata 'tokens'[1]: string length 18446744073709551608 at offset 160 runs past the end of the file "
       "(size 388)"},
      {"duplicate key", [](Layout& l) { std::memcpy(&l.b[l.other_key + 5], "count", 5); },
       "duplicate metadata key 'test.count'"},
      {"5 dimensions", [](Layout& l) { patch<uint32_t>(l.b, l.w_ndims, 5); },
       "tensor 'w': 5 dimensions (must be 1 to 4)"},
      {"0 dimensions", [](Layout& l) { patch<uint32_t>(l.b, l.w_ndims, 0); },
       "tensor 'w': 0 dimensions (must be 1 to 4)"},
      {"zero dimension", [](Layout& l) { patch<uint64_t>(l.b, l.w_dim1, 0); },
       "tensor 'w': dimension 1 is 0 (must be > 0)"},
      {"negative dimension", [](Layout& l) { patch<uint64_t>(l.b, l.w_dim0, uint64_t{1} << 63); },
       "tensor 'w': dimension 0 is -9223372036854775808 (must be > 0)"},
      {"element count overflow",
       [](Layout& l) {
         patch<uint64_t>(l.b, l.w_dim0, uint64_t{1} << 32);
         patch<uint64_t>(l.b, l.w_dim1, uint64_t{1} << 32);
       },
       "tensor 'w': element count overflows"},
      {"byte count overflow",
       [](Layout& l) {
         patch<uint64_t>(l.b, l.w_dim0, uint64_t{1} << 31);
         patch<uint64_t>(l.b, l.w_dim1, uint64_t{1} << 31);
       },
       "tensor 'w': size in bytes overflows"},
      {"unknown tensor type", [](Layout& l) { patch<uint32_t>(l.b, l.w_type, 99); },
       "tensor 'w': unknown tensor type 99"},
      {"row length vs block", [](Layout& l) { patch<uint64_t>(l.b, l.q_dim0, 48); },
       "tensor 'q': row length 48 is not a multiple of the q8_0 block size 32"},
      {"misaligned offset", [](Layout& l) { patch<uint64_t>(l.b, l.q_offset, 65); },
       "tensor 'q': offset 65 is not a multiple of the alignment 32"},
      {"data past the end", [](Layout& l) { patch<uint64_t>(l.b, l.q_offset, 96); },
       "tensor 'q': 68 bytes of data at offset 96 of the data section run past the end of the file (data "
       "section is 132 bytes)"},
      {"offset near 2^64", [](Layout& l) { patch<uint64_t>(l.b, l.q_offset, ~uint64_t{31}); },
       "tensor 'q': 68 bytes of data at offset 18446744073709551584 of the data section run past the end of "
       "the file (data section is 132 bytes)"},
      {"overlap", [](Layout& l) { patch<uint64_t>(l.b, l.q_offset, 32); }, "tensors 'w' and 'q' overlap"},
      {"duplicate tensor name", [](Layout& l) { l.b[l.q_name] = 'w'; }, "duplicate tensor name 'w'"},
      {"control characters in names are escaped",
       [](Layout& l) {
         l.b[l.q_name] = '\n';
         patch<uint64_t>(l.b, l.q_offset, 65);
       },
       "tensor '\\x0a': offset 65 is not a multiple of the alignment 32"},
  };
  for (auto& c : cases) {
    Layout l;
    c.corrupt(l);
    EXPECT_EQ(error_of(l.b), "broken.gguf: " + c.expected) << c.what;
  }
}

TEST(GgufBrokenFiles, EveryTruncationIsAClearError) {
  const Bytes full = base_file();
  const std::regex ok(
      "broken\\.gguf: (truncated file: .*|.* runs? past the end of the file .*|.* cannot fit in the file "
      ".*)");
  for (size_t n = 0; n < full.size(); ++n) {
    Bytes b(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    std::string err = error_of(b);
    EXPECT_TRUE(std::regex_match(err, ok)) << "truncated to " << n << ": " << err;
  }
  auto cut = [&](size_t n) {
    return error_of(Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n)));
  };
  EXPECT_EQ(cut(0), "broken.gguf: truncated file: 0 bytes, a GGUF header needs 24");
  EXPECT_EQ(cut(3), "broken.gguf: truncated file: 3 bytes, a GGUF header needs 24");
  EXPECT_EQ(cut(30), "broken.gguf: tensor count 2 cannot fit in the file (size 30)");
  EXPECT_EQ(cut(200),
            "broken.gguf: truncated file: tensor 'w' type at offset 199 needs 4 bytes, file size is 200");
  EXPECT_EQ(cut(240),
            "broken.gguf: truncated file: tensor 'q' type at offset 240 needs 4 bytes, file size is 240");
  EXPECT_EQ(cut(250),
            "broken.gguf: truncated file: tensor 'q' offset at offset 244 needs 8 bytes, file size is 250");
  EXPECT_EQ(cut(254),
            "broken.gguf: truncated file: tensor data section starts at offset 256, file size is 254");
  EXPECT_EQ(cut(300),
            "broken.gguf: tensor 'w': 64 bytes of data at offset 0 of the data section run past the "
            "end of the file (data section is 44 bytes)");
  EXPECT_EQ(cut(387),
            "broken.gguf: tensor 'q': 68 bytes of data at offset 64 of the data section run past the "
            "end of the file (data section is 131 bytes)");
}

TEST(GgufBrokenFiles, AlignmentKey) {
  auto with_alignment = [](auto set) {
    GgufWriter w;
    set(w);
    w.add_tensor("t", TensorType::F32, {4}, Bytes(16));
    return error_of(w.to_bytes());
  };
  auto raw_u32 = [](uint32_t v) {
    Bytes b(4);
    std::memcpy(b.data(), &v, 4);
    return b;
  };
  EXPECT_EQ(
      with_alignment([&](GgufWriter& w) { w.set_raw("general.alignment", ValueType::UINT32, raw_u32(3)); }),
      "broken.gguf: general.alignment must be a power of two up to 2^30, got 3");
  EXPECT_EQ(
      with_alignment([&](GgufWriter& w) { w.set_raw("general.alignment", ValueType::UINT32, raw_u32(0)); }),
      "broken.gguf: general.alignment must be a power of two up to 2^30, got 0");
  EXPECT_EQ(with_alignment([](GgufWriter& w) { w.set_string("general.alignment", "32"); }),
            "broken.gguf: general.alignment must be an unsigned integer, got string");
  EXPECT_EQ(with_alignment([](GgufWriter& w) { w.set_u64("general.alignment", uint64_t{1} << 31); }),
            "broken.gguf: general.alignment must be a power of two up to 2^30, got 2147483648");
  EXPECT_EQ(with_alignment([](GgufWriter& w) { w.set_alignment(64); }), "(no error)");
}

// Arrays of arrays nest at most 8 deep; deeper input (which could exhaust the stack) is an error.
TEST(GgufBrokenFiles, NestingDepth) {
  auto nested = [](int depth) {
    Bytes v;
    auto put32 = [&](uint32_t x) { v.insert(v.end(), (uint8_t*)&x, (uint8_t*)&x + 4); };
    auto put64 = [&](uint64_t x) { v.insert(v.end(), (uint8_t*)&x, (uint8_t*)&x + 8); };
    for (int d = 1; d < depth; ++d) {
      put32(uint32_t(ValueType::ARRAY));
      put64(1);
    }
    put32(uint32_t(ValueType::UINT8));
    put64(1);
    v.push_back(42);
    GgufWriter w;
    w.set_raw("deep", ValueType::ARRAY, v);
    return w.to_bytes();
  };
  EXPECT_EQ(error_of(nested(8)), "(no error)");
  EXPECT_EQ(error_of(nested(9)),
            "broken.gguf: metadata 'deep'[0][0][0][0][0][0][0][0]: arrays nested deeper than 8");
}

TEST(GgufBrokenFiles, UnsupportedButKnownTypesAreReadable) {
  // The reader describes q2_k tensors (inspect can list them); the model loader rejects them.
  GgufWriter w;
  w.add_tensor("t", TensorType::Q2_K, {256}, Bytes(84));
  Bytes b = w.to_bytes();
  GgufFile f = GgufFile::parse(b);
  EXPECT_EQ(f.tensors()[0].type, TensorType::Q2_K);
}

}  // namespace
}  // namespace parley::llm::gguf
