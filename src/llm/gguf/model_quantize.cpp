#include "llm/gguf/model_quantize.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/thread_pool.hpp"
#include "llm/gguf/gguf_reader.hpp"
#include "llm/gguf/gguf_writer.hpp"
#include "llm/gguf/model_shapes.hpp"
#include "llm/gguf/tensor_convert.hpp"
#include "llm/quant/kernels.hpp"

namespace parley::llm::gguf {

QuantizeStats quantize_model(const std::string& in_path, const std::string& out_path, FileType ft,
                             int threads) {
  GgufFile in = GgufFile::open(in_path);
  // Layer count for the mixture: block_count of the architecture, else the highest blk.N + 1.
  MixtureContext ctx;
  if (auto arch = in.get_string("general.architecture"))
    ctx.n_layer = static_cast<int64_t>(in.get_uint(*arch + ".block_count").value_or(0));
  int64_t max_layer = -1;
  for (const auto& t : in.tensors()) {
    int layer = -1;
    if (t.name.rfind("blk.", 0) == 0 && std::sscanf(t.name.c_str(), "blk.%d.", &layer) == 1)
      max_layer = std::max<int64_t>(max_layer, layer);
  }
  if (ctx.n_layer <= max_layer) ctx.n_layer = max_layer + 1;
  ctx.has_output = in.find_tensor("output.weight") != nullptr;

  GgufWriter w;
  for (const auto& e : in.metadata())
    if (e.key != "general.alignment") w.copy_entry(e);
  w.set_u32("general.file_type", static_cast<uint32_t>(ft));
  if (default_tensor_type(ft) != TensorType::F32 && default_tensor_type(ft) != TensorType::F16 &&
      default_tensor_type(ft) != TensorType::BF16)
    w.set_u32("general.quantization_version", 2);

  std::vector<const TensorInfo*> order;
  for (const auto& t : in.tensors()) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return llama_weight_order(a->name, b->name);
  });
  QuantizeStats stats;
  std::vector<TensorType> types;
  for (const TensorInfo* t : order) {
    TensorType type = choose_tensor_type(ft, t->name, t->shape, ctx, t->type);
    if (type != t->type && !quant::is_supported(t->type))
      throw GgufError(in_path + ": tensor '" + t->name + "': cannot convert from " +
                      std::string(type_info(t->type).name));
    types.push_back(type);
    w.add_tensor(t->name, type, t->shape);
    stats.bytes_in += t->nbytes;
  }
  stats.bytes_out = w.tensor_bytes();

  ThreadPool pool(threads);
  w.write(out_path, [&](size_t i, std::span<uint8_t> out) {
    const TensorInfo& t = *order[i];
    if (types[i] == t.type) {
      std::memcpy(out.data(), t.data, out.size());
      ++stats.tensors_copied;
      return;
    }
    const int64_t row_len = t.shape[0];
    const int64_t n_rows = t.n_rows();
    const size_t src_row_bytes = quant::row_bytes(t.type, row_len);
    convert_rows(
        pool, types[i], row_len, n_rows,
        [&](int64_t row, float* buf) {
          quant::dequantize_row(t.type, t.data + static_cast<size_t>(row) * src_row_bytes, buf, row_len);
        },
        out);
    ++stats.tensors_converted;
  });
  return stats;
}

}  // namespace parley::llm::gguf
