// The properties the markdown fuzz target checks (markdown_fuzz), shared with the regression tests
// (tests/services/fuzz_regressions_test.cpp). The input is a message as a user or the model wrote it.
//
// render_markdown's output, read the way an HTML tokenizer reads it:
//   - every tag is one the renderer writes (p, em, strong, code, pre, a, img, ul, ol, li, h1-h6,
//     blockquote, hr, br, table parts, del): raw HTML typed in the input is text, so there is never
//     a <script, <iframe, <style, ... and no comment / doctype / CDATA;
//   - every attribute is one of href, src, alt, title, align, start, class, with a quoted value; no
//     attribute name starts with "on" (event handlers);
//   - href / src, read as a browser would (entities decoded, tabs / newlines dropped, leading
//     controls and spaces trimmed), have no scheme or http / https / mailto;
//   - escape_html's output has no < > " ' left and decodes back to its input.
#pragma once

#include <cctype>
#include <string>

#include "fuzz/fuzz_input.hpp"
#include "services/ui/markdown.hpp"

namespace parley::fuzz {

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The HTML character references md4c writes (&amp; &lt; &gt; &quot; &#NN; &#xHH;), decoded; others kept.
inline std::string decode_entities(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) {
      out.push_back('&');
      continue;
    }
    std::string name = ascii_lower(s.substr(i + 1, semi - i - 1));
    long cp = -1;
    if (name == "amp") cp = '&';
    else if (name == "lt") cp = '<';
    else if (name == "gt") cp = '>';
    else if (name == "quot") cp = '"';
    else if (name == "colon") cp = ':';
    else if (name == "tab") cp = '\t';
    else if (name == "newline") cp = '\n';
    else if (name.size() > 1 && name[0] == '#') cp = name[1] == 'x' ? std::strtol(name.c_str() + 2, nullptr, 16) : std::strtol(name.c_str() + 1, nullptr, 10);
    if (cp < 0 || cp > 0x7f) {  // non-ASCII references cannot form a scheme; keep them as text
      out.push_back('&');
      continue;
    }
    out.push_back(static_cast<char>(cp));
    i = semi;
  }
  return out;
}

// A browser's reading of a URL's scheme: "" when there is none.
inline std::string browser_scheme(std::string_view raw) {
  std::string url = decode_entities(raw);
  std::string cleaned;
  for (char c : url)
    if (c != '\t' && c != '\n' && c != '\r') cleaned.push_back(c);
  size_t b = 0;
  while (b < cleaned.size() && static_cast<unsigned char>(cleaned[b]) <= 0x20) ++b;
  cleaned.erase(0, b);
  if (cleaned.empty() || !std::isalpha(static_cast<unsigned char>(cleaned[0]))) return {};
  size_t i = 1;
  while (i < cleaned.size() && (std::isalnum(static_cast<unsigned char>(cleaned[i])) || cleaned[i] == '+' ||
                                cleaned[i] == '-' || cleaned[i] == '.'))
    ++i;
  if (i < cleaned.size() && cleaned[i] == ':') return ascii_lower(cleaned.substr(0, i));
  return {};
}

inline bool allowed_tag(std::string_view name) {
  static const char* const kTags[] = {"p", "em", "strong", "code", "pre", "a", "img", "ul", "ol", "li", "h1", "h2",
                                      "h3", "h4", "h5", "h6", "blockquote", "hr", "br", "table", "thead", "tbody",
                                      "tr", "th", "td", "del"};
  for (const char* t : kTags)
    if (name == t) return true;
  return false;
}

inline std::string check_html(std::string_view html) {
  for (size_t i = 0; i < html.size(); ++i) {
    if (html[i] != '<') continue;
    size_t j = i + 1;
    if (j < html.size() && html[j] == '/') ++j;
    size_t name_start = j;
    while (j < html.size() && std::isalnum(static_cast<unsigned char>(html[j]))) ++j;
    std::string name = ascii_lower(html.substr(name_start, j - name_start));
    if (!allowed_tag(name)) return "a tag that is not the renderer's: " + preview(html.substr(i, 60));
    // Attributes: name="value" pairs until '>' (or " />").
    while (true) {
      while (j < html.size() && html[j] == ' ') ++j;
      if (j >= html.size()) return "an unterminated tag: " + preview(html.substr(i, 60));
      if (html[j] == '>') break;
      if (html[j] == '/' && j + 1 < html.size() && html[j + 1] == '>') break;
      size_t an = j;
      while (j < html.size() && html[j] != '=' && html[j] != '>' && html[j] != ' ') ++j;
      std::string attr = ascii_lower(html.substr(an, j - an));
      if (attr.starts_with("on")) return "an event-handler attribute: " + preview(html.substr(i, 80));
      if (attr != "href" && attr != "src" && attr != "alt" && attr != "title" && attr != "align" && attr != "start" &&
          attr != "class")
        return "an attribute that is not the renderer's (" + preview(attr) + "): " + preview(html.substr(i, 80));
      if (j + 1 >= html.size() || html[j] != '=' || html[j + 1] != '"')
        return "an attribute without a quoted value: " + preview(html.substr(i, 80));
      size_t vs = j + 2, ve = html.find('"', vs);
      if (ve == std::string_view::npos) return "an unterminated attribute value";
      std::string_view value = html.substr(vs, ve - vs);
      if (value.find('<') != std::string_view::npos || value.find('>') != std::string_view::npos)
        return "an attribute value with < or >: " + preview(value);
      if (attr == "href" || attr == "src") {
        std::string scheme = browser_scheme(value);
        if (!scheme.empty() && scheme != "http" && scheme != "https" && scheme != "mailto")
          return "a URL with the scheme '" + scheme + "' survived: " + preview(value);
      }
      j = ve + 1;
    }
    i = j;
  }
  return {};
}

inline std::string check_markdown_input(const uint8_t* data, size_t size) {
  std::string_view md(reinterpret_cast<const char*>(data), size);
  const std::string html = services::ui::render_markdown(md);
  if (auto f = check_html(html); !f.empty()) return f + "  (input: " + preview(md, 120) + ")";
  if (ascii_lower(html).find("<script") != std::string::npos) return "<script in the output";
  const std::string esc = services::ui::escape_html(md);
  if (esc.find_first_of("<>\"'") != std::string::npos) return "escape_html left a < > \" or '";
  if (md.find('\0') == std::string_view::npos && decode_entities(esc) != md && esc.find("&#39;") == std::string::npos)
    return "escape_html does not decode back to its input";
  return {};
}

}  // namespace parley::fuzz
