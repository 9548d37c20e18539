#include "services/ui/page_template.hpp"

#include <stdexcept>

#include "services/ui/markdown.hpp"

namespace parley::services::ui {

PageTemplate::PageTemplate(std::string_view source) {
  size_t pos = 0;
  while (pos < source.size()) {
    size_t open = source.find("{{", pos);
    if (open == std::string_view::npos) break;
    if (open > pos) pieces_.push_back({std::string(source.substr(pos, open - pos)), Piece::literal});
    bool raw = source.substr(open, 3) == "{{{";
    size_t name_start = open + (raw ? 3 : 2);
    size_t close = source.find(raw ? "}}}" : "}}", name_start);
    if (close == std::string_view::npos) throw std::invalid_argument("template: unterminated {{");
    pieces_.push_back({std::string(source.substr(name_start, close - name_start)), raw ? Piece::raw : Piece::escaped});
    pos = close + (raw ? 3 : 2);
  }
  if (pos < source.size()) pieces_.push_back({std::string(source.substr(pos)), Piece::literal});
  for (const Piece& p : pieces_)
    if (p.kind == Piece::literal) literal_bytes_ += p.text.size();
}

void PageTemplate::render(std::string& out, TemplateValues values) const {
  out.reserve(out.size() + literal_bytes_ + 256);
  for (const Piece& p : pieces_) {
    if (p.kind == Piece::literal) {
      out += p.text;
      continue;
    }
    for (const auto& [name, value] : values) {
      if (name != p.text) continue;
      if (p.kind == Piece::raw) out += value;
      else append_escaped(out, value);
      break;
    }
  }
}

}  // namespace parley::services::ui
