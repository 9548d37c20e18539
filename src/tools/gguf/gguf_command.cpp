// `parley gguf inspect|synth|quantize`: look into, make and convert GGUF model files.
#include "tools/gguf/gguf_command.hpp"

#include <chrono>
#include <cstdio>
#include <string>

#include "core/command.hpp"
#include "llm/gguf/gguf_reader.hpp"
#include "llm/gguf/model_quantize.hpp"
#include "llm/gguf/model_synth.hpp"
#include "tools/gguf/gguf_inspect.hpp"

namespace parley {

namespace {

using namespace parley::llm::gguf;

struct GgufArgs {
  std::string path;
  size_t max_elems = 6;
  std::string in, out, type;
  std::string shape, vocab;
  uint64_t seed = 1;
  int64_t layers = -1;
  int threads = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

FileType parse_file_type(const std::string& name) {
  auto ft = file_type_from_name(name);
  if (!ft) throw std::invalid_argument("unknown type '" + name + "' (one of: " + file_type_names() + ")");
  return *ft;
}

// Runs a command body: errors are printed as "parley gguf: ..." and give exit code 1.
template <typename F>
void guarded(int& exit_code, F&& body) {
  try {
    body();
    exit_code = 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parley gguf: %s\n", e.what());
    exit_code = 1;
  }
}

}  // namespace

void register_gguf_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<GgufArgs>();
  CLI::App* gguf = app.add_subcommand("gguf", "Inspect, synthesize and quantize GGUF model files");
  gguf->require_subcommand(1);

  CLI::App* inspect = gguf->add_subcommand("inspect", "Print a GGUF file's metadata and tensor table");
  inspect->add_option("model", args->path, "GGUF file")->required();
  inspect->add_option("--max-elements", args->max_elems, "Array elements shown before abbreviating");
  inspect->callback([args, &exit_code] {
    guarded(exit_code, [&] {
      GgufFile f = GgufFile::open(args->path);
      std::fputs(parley::tools::format_gguf_report(f, args->max_elems).c_str(), stdout);
    });
  });

  CLI::App* quantize =
      gguf->add_subcommand("quantize", "Convert a model to another type (" + file_type_names() + ")");
  quantize->add_option("input", args->in, "Input GGUF")->required();
  quantize->add_option("output", args->out, "Output GGUF")->required();
  quantize->add_option("type", args->type, "Target type: " + file_type_names())->required();
  quantize->add_option("-t,--threads", args->threads, "Threads (default: physical cores)");
  quantize->callback([args, &exit_code] {
    guarded(exit_code, [&] {
      FileType ft = parse_file_type(args->type);
      auto t0 = std::chrono::steady_clock::now();
      QuantizeStats s = quantize_model(args->in, args->out, ft, args->threads);
      std::printf(
          "%s -> %s (%s): %d tensors converted, %d copied, tensor bytes %.1f MB -> %.1f MB in %.1f s\n",
          args->in.c_str(), args->out.c_str(), file_type_name(ft).c_str(), s.tensors_converted,
          s.tensors_copied, s.bytes_in / 1e6, s.bytes_out / 1e6, seconds_since(t0));
    });
  });

  std::string shapes;
  for (const auto& s : known_shapes()) shapes += (shapes.empty() ? "" : "|") + s.name;
  CLI::App* synth =
      gguf->add_subcommand("synth", "Write a model of a real model's shape with random weights");
  synth->add_option("--shape", args->shape, shapes)->required();
  synth->add_option("--type", args->type, "f16|q8_0|q4_k_m|q5_k_m (or any of: " + file_type_names() + ")")
      ->required();
  synth->add_option("--vocab", args->vocab, "GGUF vocabulary file whose tokenizer.* metadata is copied")
      ->required();
  synth->add_option("-o,--output", args->out, "Output GGUF")->required();
  synth->add_option("--seed", args->seed, "Random seed (default 1)");
  synth->add_option("--layers", args->layers, "Fewer layers than the real model (for tests)");
  synth->add_option("-t,--threads", args->threads, "Threads (default: physical cores)");
  synth->callback([args, &exit_code] {
    guarded(exit_code, [&] {
      SynthOptions opt;
      opt.shape = args->shape;
      opt.type = parse_file_type(args->type);
      opt.vocab_path = args->vocab;
      opt.out_path = args->out;
      opt.seed = args->seed;
      opt.n_layers = args->layers;
      opt.threads = args->threads;
      auto shape = find_shape(opt.shape);
      if (!shape)
        throw std::invalid_argument("unknown shape '" + opt.shape + "' (one of: " + [] {
          std::string s;
          for (const auto& k : known_shapes()) s += (s.empty() ? "" : ", ") + k.name;
          return s;
        }() + ")");
      auto t0 = std::chrono::steady_clock::now();
      synthesize_model(opt);
      uint64_t bytes = total_bytes(plan_synth(*shape, opt.type, opt.n_layers));
      std::printf("%s: %s %s, tensor bytes %.1f MB, written in %.1f s\n", opt.out_path.c_str(),
                  opt.shape.c_str(), file_type_name(opt.type).c_str(), bytes / 1e6, seconds_since(t0));
    });
  });
}

}  // namespace parley
