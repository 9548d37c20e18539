// `parley gguf inspect M`: a GGUF file's header, metadata (long arrays abbreviated) and tensor table.
#pragma once

#include <string>

#include "llm/gguf/gguf_reader.hpp"

namespace parley::tools {

// The report as text. max_elems: array elements shown before "... (N more)".
std::string format_gguf_report(const llm::gguf::GgufFile& f, size_t max_elems = 6);

}  // namespace parley::tools
