#include "services/ui/markdown.hpp"

#include <md4c-html.h>
#include <md4c.h>

#include <cctype>

namespace parley::services::ui {
namespace {

constexpr size_t kMd4cPadding = 64;  // zero bytes after the input handed to md4c

void collect(const MD_CHAR* text, MD_SIZE size, void* userdata) {
  static_cast<std::string*>(userdata)->append(text, size);
}

// Rewrites every href="..." / src="..." of md4c's output whose URL is not safe to "#". User text
// cannot fake an attribute: md4c escapes '"' in text as &quot;, so a literal `href="` in the output
// was written by the renderer.
std::string filter_urls(const std::string& html) {
  std::string out;
  out.reserve(html.size());
  size_t pos = 0;
  while (pos < html.size()) {
    size_t href = html.find(" href=\"", pos);
    size_t src = html.find(" src=\"", pos);
    size_t at = std::min(href, src);
    if (at == std::string::npos) break;
    size_t value_start = at + (at == href ? 7 : 6);
    size_t value_end = html.find('"', value_start);
    if (value_end == std::string::npos) break;
    out.append(html, pos, value_start - pos);
    std::string_view url(html.data() + value_start, value_end - value_start);
    if (is_safe_url(url)) out.append(url);
    else out.push_back('#');
    pos = value_end;
  }
  out.append(html, pos, std::string::npos);
  return out;
}

}  // namespace

bool is_safe_url(std::string_view url) {
  // Browsers drop leading spaces/controls and tabs/newlines anywhere before parsing the scheme.
  std::string scheme;
  for (char c : url) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '/' || c == '?' || c == '#') return true;  // no scheme: relative
    if (c == ':') return scheme == "http" || scheme == "https" || scheme == "mailto";
    if (u <= 0x20) continue;
    scheme.push_back(static_cast<char>(std::tolower(u)));
    if (scheme.size() > 16) return false;
  }
  return true;  // no ':' at all: relative
}

std::string render_markdown(std::string_view markdown) {
  std::string html;
  html.reserve(markdown.size() + markdown.size() / 4 + 16);
  const unsigned parser_flags = MD_FLAG_NOHTML | MD_FLAG_TABLES | MD_FLAG_STRIKETHROUGH |
                                MD_FLAG_PERMISSIVEURLAUTOLINKS | MD_FLAG_PERMISSIVEWWWAUTOLINKS;
  // md4c 0.4.8 (Debian bookworm) can read a few bytes past the end of its input (a link destination
  // ending in ill-formed UTF-8; found by markdown_fuzz), so it gets a copy followed by zero bytes.
  std::string padded;
  padded.reserve(markdown.size() + kMd4cPadding);
  padded.append(markdown);
  padded.append(kMd4cPadding, '\0');
  if (md_html(padded.data(), static_cast<MD_SIZE>(markdown.size()), collect, &html, parser_flags, 0) != 0) {
    html.clear();  // md4c failed (out of memory): show the text as it is
    html += "<p>";
    append_escaped(html, markdown);
    html += "</p>";
    return html;
  }
  return filter_urls(html);
}

void append_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\0': out += "\xEF\xBF\xBD"; break;  // U+FFFD
      default: out.push_back(c);
    }
  }
}

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  append_escaped(out, text);
  return out;
}

}  // namespace parley::services::ui
