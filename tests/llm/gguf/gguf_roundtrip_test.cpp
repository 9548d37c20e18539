// Writer -> reader round trip for every metadata value type, alignment and tensor layout.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "llm/gguf/gguf_reader.hpp"
#include "llm/gguf/gguf_writer.hpp"

namespace parley::llm::gguf {
namespace {

std::vector<uint8_t> iota_bytes(size_t n, uint8_t start) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(start + i);
  return v;
}

TEST(GgufRoundTrip, EveryScalarType) {
  GgufWriter w;
  w.set_u8("u8", 250);
  w.set_i8("i8", -120);
  w.set_u16("u16", 65000);
  w.set_i16("i16", -32000);
  w.set_u32("u32", 4000000000u);
  w.set_i32("i32", -2000000000);
  w.set_u64("u64", 18000000000000000000ull);
  w.set_i64("i64", -9000000000000000000ll);
  w.set_f32("f32", 1.5f);
  w.set_f64("f64", -2.25e300);
  w.set_bool("yes", true);
  w.set_bool("no", false);
  w.set_string("s", "héllo\nworld");
  w.set_string("empty", "");
  auto bytes = w.to_bytes();
  GgufFile f = GgufFile::parse(bytes, "rt.gguf");
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.metadata().size(), 14u);
  EXPECT_EQ(f.get_uint("u8"), 250u);
  EXPECT_EQ(f.get_int("i8"), -120);
  EXPECT_EQ(f.get_uint("u16"), 65000u);
  EXPECT_EQ(f.get_int("i16"), -32000);
  EXPECT_EQ(f.get_uint("u32"), 4000000000u);
  EXPECT_EQ(f.get_int("u32"), 4000000000ll);
  EXPECT_EQ(f.get_int("i32"), -2000000000);
  EXPECT_EQ(f.get_uint("u64"), 18000000000000000000ull);
  EXPECT_EQ(f.get_int("i64"), -9000000000000000000ll);
  EXPECT_EQ(f.get_float("f32"), 1.5);
  EXPECT_EQ(f.get_float("f64"), -2.25e300);
  EXPECT_EQ(f.get_float("u8"), 250.0);
  EXPECT_EQ(f.get_bool("yes"), true);
  EXPECT_EQ(f.get_bool("no"), false);
  EXPECT_EQ(f.get_string("s"), "héllo\nworld");
  EXPECT_EQ(f.get_string("empty"), "");
  EXPECT_FALSE(f.get_string("missing").has_value());
  EXPECT_FALSE(f.get_uint("missing").has_value());
  EXPECT_TRUE(f.get_string_array("missing").empty());
  // Order is kept.
  EXPECT_EQ(f.metadata()[0].key, "u8");
  EXPECT_EQ(f.metadata()[13].key, "empty");
  EXPECT_EQ(f.find("s")->to_string(), "\"héllo\\nworld\"");
  EXPECT_EQ(f.find("yes")->to_string(), "true");
  EXPECT_EQ(f.find("i64")->to_string(), "-9000000000000000000");
}

TEST(GgufRoundTrip, WrongTypeIsAnErrorNamingKeyAndTypes) {
  GgufWriter w;
  w.set_string("name", "x");
  w.set_i32("neg", -1);
  w.set_u64("huge", 18000000000000000000ull);
  w.set_f32_array("fa", std::vector<float>{1, 2});
  auto bytes = w.to_bytes();
  GgufFile f = GgufFile::parse(bytes, "t.gguf");
  try {
    (void)f.get_uint("name");
    FAIL();
  } catch (const GgufError& e) {
    EXPECT_STREQ(e.what(), "t.gguf: metadata 'name' is string, expected an integer");
  }
  try {
    (void)f.get_uint("neg");
    FAIL();
  } catch (const GgufError& e) {
    EXPECT_STREQ(e.what(), "t.gguf: metadata 'neg' is -1, expected a non-negative integer");
  }
  try {
    (void)f.get_int("huge");
    FAIL();
  } catch (const GgufError& e) {
    EXPECT_STREQ(e.what(), "t.gguf: metadata 'huge' is 18000000000000000000, too large for int64");
  }
  try {
    (void)f.get_string_array("fa");
    FAIL();
  } catch (const GgufError& e) {
    EXPECT_STREQ(e.what(), "t.gguf: metadata 'fa' is array of float32, expected array of string");
  }
  EXPECT_THROW((void)f.get_bool("name"), GgufError);
  EXPECT_THROW((void)f.get_string("fa"), GgufError);
  EXPECT_THROW((void)f.get_int_array("fa"), GgufError);
}

TEST(GgufRoundTrip, Arrays) {
  GgufWriter w;
  std::vector<std::string> strs = {"a", "", "ccc", std::string("\0x", 2)};
  w.set_string_array("strs", strs);
  w.set_f32_array("floats", std::vector<float>{0.5f, -1.0f, 3.25f});
  w.set_i32_array("ints", std::vector<int32_t>{-1, 0, 7});
  w.set_u32_array("uints", std::vector<uint32_t>{1, 4000000000u});
  w.set_i64_array("i64s", std::vector<int64_t>{-5, 1ll << 40});
  w.set_string_array("nostrs", std::vector<std::string>{});
  // Nested: array of 2 arrays of uint8 ([1,2], [3]), and an array of arrays of strings.
  std::vector<uint8_t> nested;
  auto put32 = [&](uint32_t v) { nested.insert(nested.end(), (uint8_t*)&v, (uint8_t*)&v + 4); };
  auto put64 = [&](uint64_t v) { nested.insert(nested.end(), (uint8_t*)&v, (uint8_t*)&v + 8); };
  put32(uint32_t(ValueType::ARRAY));
  put64(2);
  put32(uint32_t(ValueType::UINT8));
  put64(2);
  nested.push_back(1);
  nested.push_back(2);
  put32(uint32_t(ValueType::UINT8));
  put64(1);
  nested.push_back(3);
  w.set_raw("nested", ValueType::ARRAY, nested);
  std::vector<uint8_t> nested_s;
  nested.swap(nested_s);
  put32(uint32_t(ValueType::ARRAY));
  put64(1);
  put32(uint32_t(ValueType::STRING));
  put64(2);
  put64(2);
  nested.push_back('h');
  nested.push_back('i');
  put64(0);
  w.set_raw("nested_s", ValueType::ARRAY, nested);
  w.set_bool("after", true);  // parsing continues correctly after nested arrays
  // Arrays of the other element types.
  for (ValueType t : {ValueType::UINT8, ValueType::INT8, ValueType::UINT16, ValueType::INT16,
                      ValueType::UINT64, ValueType::FLOAT64, ValueType::BOOL}) {
    std::vector<uint8_t> enc;
    nested.clear();
    put32(uint32_t(t));
    put64(3);
    size_t sz = value_type_size(t);
    for (int i = 0; i < 3; ++i) {
      uint64_t v = static_cast<uint64_t>(i + 1);
      if (t == ValueType::FLOAT64) {
        double d = i + 1.5;
        std::memcpy(&v, &d, 8);
      }
      nested.insert(nested.end(), (uint8_t*)&v, (uint8_t*)&v + sz);
    }
    w.set_raw("arr." + std::string(value_type_name(t)), ValueType::ARRAY, nested);
  }
  auto bytes = w.to_bytes();
  GgufFile f = GgufFile::parse(bytes);
  EXPECT_EQ(f.get_string_array("strs"), strs);
  EXPECT_EQ(f.get_string_views("strs").size(), 4u);
  EXPECT_EQ(f.get_float_array("floats"), (std::vector<float>{0.5f, -1.0f, 3.25f}));
  EXPECT_EQ(f.get_int_array("ints"), (std::vector<int64_t>{-1, 0, 7}));
  EXPECT_EQ(f.get_int_array("uints"), (std::vector<int64_t>{1, 4000000000ll}));
  EXPECT_EQ(f.get_int_array("i64s"), (std::vector<int64_t>{-5, 1ll << 40}));
  EXPECT_EQ(f.get_float_array("ints"), (std::vector<float>{-1, 0, 7}));
  EXPECT_TRUE(f.get_string_array("nostrs").empty());
  EXPECT_EQ(f.find("nostrs")->count, 0u);
  const MetaEntry* n = f.find("nested");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->elem_type, ValueType::ARRAY);
  EXPECT_EQ(n->count, 2u);
  EXPECT_EQ(n->to_string(), "[[1, 2], [3]]");
  EXPECT_EQ(f.find("nested_s")->to_string(), "[[\"hi\", \"\"]]");
  EXPECT_EQ(f.get_bool("after"), true);
  EXPECT_EQ(f.get_int_array("arr.uint8"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(f.get_int_array("arr.int8"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(f.get_int_array("arr.uint16"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(f.get_int_array("arr.int16"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(f.get_int_array("arr.uint64"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(f.get_float_array("arr.float64"), (std::vector<float>{1.5f, 2.5f, 3.5f}));
  EXPECT_EQ(f.find("arr.bool")->to_string(), "[true, true, true]");
  EXPECT_EQ(f.find("floats")->to_string(2), "[0.5, -1, ... (1 more)]");
  EXPECT_EQ(f.find("strs")->to_string(2), "[\"a\", \"\", ... (2 more)]");
}

TEST(GgufRoundTrip, TensorsAlignedAndV2) {
  for (uint32_t version : {2u, 3u}) {
    for (uint32_t align : {32u, 64u, 1u, 4096u}) {
      GgufWriter w(version);
      w.set_string("general.architecture", "llama");
      w.set_alignment(align);
      w.add_tensor("a", TensorType::F32, {3, 2}, iota_bytes(24, 1));
      w.add_tensor("b", TensorType::Q8_0, {64, 3}, iota_bytes(2 * 3 * 34, 7));
      w.add_tensor("c", TensorType::F16, {5}, iota_bytes(10, 100));
      w.add_tensor("d", TensorType::Q4_K, {256, 1, 2, 1}, iota_bytes(2 * 144, 3));
      auto bytes = w.to_bytes();
      GgufFile f = GgufFile::parse(bytes, "t");
      EXPECT_EQ(f.version(), version);
      EXPECT_EQ(f.alignment(), align);
      EXPECT_EQ(f.data_offset() % align, 0u);
      ASSERT_EQ(f.tensors().size(), 4u);
      const TensorInfo* b = f.find_tensor("b");
      ASSERT_NE(b, nullptr);
      EXPECT_EQ(b->type, TensorType::Q8_0);
      EXPECT_EQ(b->shape, (std::vector<int64_t>{64, 3}));
      EXPECT_EQ(b->n_elements(), 192);
      EXPECT_EQ(b->n_rows(), 3);
      EXPECT_EQ(b->nbytes, 204u);
      EXPECT_EQ(b->offset % align, 0u);
      EXPECT_EQ(std::memcmp(b->data, iota_bytes(204, 7).data(), 204), 0);
      const TensorInfo* d = f.find_tensor("d");
      EXPECT_EQ(d->n_rows(), 2);
      EXPECT_EQ(std::memcmp(d->data, iota_bytes(288, 3).data(), 288), 0);
      EXPECT_EQ(std::memcmp(f.find_tensor("c")->data, iota_bytes(10, 100).data(), 10), 0);
      EXPECT_EQ(f.find_tensor("zz"), nullptr);
      EXPECT_EQ(w.tensor_bytes(), 24u + 204u + 10u + 288u);
    }
  }
}

TEST(GgufRoundTrip, FillerAndFileAndCopyEntry) {
  GgufWriter w;
  w.set_string_array("tokens", std::vector<std::string>{"x", "yy"});
  w.set_u32("n", 5);
  w.add_tensor("t0", TensorType::F32, {4});
  w.add_tensor("t1", TensorType::F32, {8}, iota_bytes(32, 0));
  w.add_tensor("t2", TensorType::Q4_0, {32, 2});
  std::string path = testing::TempDir() + "/gguf_rt_filler.gguf";
  w.write(path, [](size_t i, std::span<uint8_t> out) {
    for (size_t k = 0; k < out.size(); ++k) out[k] = static_cast<uint8_t>(i * 10 + k);
  });
  GgufFile f = GgufFile::open(path);
  EXPECT_EQ(f.path(), path);
  EXPECT_EQ(f.find_tensor("t0")->data[3], 3);
  EXPECT_EQ(f.find_tensor("t2")->data[5], 25);
  EXPECT_EQ(f.find_tensor("t2")->nbytes, 36u);
  EXPECT_EQ(f.find_tensor("t1")->data[31], 31);
  // copy_entry reproduces the value byte for byte, under the original key.
  GgufWriter w2;
  for (const auto& e : f.metadata()) w2.copy_entry(e);
  auto bytes = w2.to_bytes();
  GgufFile g = GgufFile::parse(bytes);
  EXPECT_EQ(g.get_string_array("tokens"), (std::vector<std::string>{"x", "yy"}));
  EXPECT_EQ(g.get_uint("n"), 5u);
  // Moving/copying a GgufFile keeps lookups valid.
  GgufFile moved = std::move(f);
  GgufFile copy = moved;
  EXPECT_EQ(copy.find_tensor("t1")->data[31], 31);
  EXPECT_EQ(copy.get_uint("n"), 5u);
  std::remove(path.c_str());
}

TEST(GgufRoundTrip, WriterRejectsBadTensors) {
  GgufWriter w;
  EXPECT_THROW(w.add_tensor("x", TensorType::Q4_0, {31}), GgufError);
  EXPECT_THROW(w.add_tensor("y", TensorType::F32, {4}, std::vector<uint8_t>(15)), GgufError);
  EXPECT_THROW(w.set_alignment(3), GgufError);
}

}  // namespace
}  // namespace parley::llm::gguf
