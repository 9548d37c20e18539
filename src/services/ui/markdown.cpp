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

// Rewrites every href="..." / src="..." attribute of md4c's output whose URL is not safe to "#".
// The output is read as tags: with raw HTML off, every '<' md4c writes starts a tag (text has &lt;),
// and no attribute value holds a '"' (&quot;), so quotes delimit values. Only the name in front of
// a value decides: ` src="` written inside another attribute's value (a link title "t src=") is
// text there, not an attribute (markdown_fuzz found that a plain search for it skipped the next
// href).
std::string filter_urls(const std::string& html) {
  std::string out;
  out.reserve(html.size());
  size_t i = 0;
  while (i < html.size()) {
    const size_t lt = html.find('<', i);
    if (lt == std::string::npos) {
      out.append(html, i, std::string::npos);
      break;
    }
    out.append(html, i, lt - i);
    const size_t tag_start = out.size();
    size_t j = lt;
    while (j < html.size() && html[j] != '>') {
      if (html[j] != '"') {
        out.push_back(html[j++]);
        continue;
      }
      const size_t close = html.find('"', j + 1);
      if (close == std::string::npos) {  // not md4c's output; keep nothing that could be a URL
        out.append("\"#\"");
        return out;
      }
      // out ends with `name=`: the name runs back to the space before it.
      std::string_view name;
      if (!out.empty() && out.back() == '=') {
        const size_t sp = out.rfind(' ');
        if (sp != std::string::npos && sp >= tag_start) name = std::string_view(out).substr(sp + 1, out.size() - sp - 2);
      }
      const std::string_view url(html.data() + j + 1, close - j - 1);
      out.push_back('"');
      if ((name == "href" || name == "src") && !is_safe_url(url)) out.push_back('#');
      else out.append(url);
      out.push_back('"');
      j = close + 1;
    }
    i = j;
  }
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
