// The files of web/ (templates, CSS, JS), embedded into the binary at build time by
// cmake/embed.cmake (which generates web_assets_data.cpp defining embedded_web_files()).
//
//   const WebAsset* css = find_web_asset("static/app.css");   // path relative to web/
//   if (css) serve(css->data, css->content_type, css->version);
#pragma once

#include <span>
#include <string_view>

namespace parley::services::ui {

struct EmbeddedWebFile {
  const char* path;  // relative to web/, '/' separated
  const unsigned char* data;
  unsigned long size;
};

// Defined in the generated file.
std::span<const EmbeddedWebFile> embedded_web_files();

struct WebAsset {
  std::string_view path;
  std::string_view data;
  std::string_view content_type;  // from the extension
  std::string_view version;       // 16 hex digits of a hash of the content (cache busting)
};

// nullptr when there is no such file.
const WebAsset* find_web_asset(std::string_view path);

}  // namespace parley::services::ui
