// PageTemplate: the HTML templates of web/templates, parsed once at start-up.
//
//   PageTemplate t("<li>{{title}}</li>{{{body}}}");
//   std::string out;
//   t.render(out, {{"title", user_title}, {"body", trusted_html}});
//
// {{name}} inserts the value HTML-escaped (text and attribute values); {{{name}}} inserts it as is
// (only for HTML the server made: rendered markdown, other rendered templates). A name with no
// value renders as nothing. Cost: one pass over the pieces, no parsing per render.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::services::ui {

using TemplateValues = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class PageTemplate {
 public:
  PageTemplate() = default;
  // Throws std::invalid_argument on an unterminated {{.
  explicit PageTemplate(std::string_view source);

  void render(std::string& out, TemplateValues values) const;
  std::string render(TemplateValues values) const {
    std::string out;
    render(out, values);
    return out;
  }

 private:
  struct Piece {
    std::string text;  // literal text, or the name of a value
    enum Kind { literal, escaped, raw } kind = literal;
  };
  std::vector<Piece> pieces_;
  size_t literal_bytes_ = 0;
};

}  // namespace parley::services::ui
