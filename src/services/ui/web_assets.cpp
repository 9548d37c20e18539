#include "services/ui/web_assets.hpp"

#include <sodium.h>

#include <string>
#include <vector>

#include "core/ids.hpp"

namespace parley::services::ui {
namespace {

std::string_view content_type_for(std::string_view path) {
  auto ends = [&](std::string_view ext) { return path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext; };
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  return "application/octet-stream";
}

struct Table {
  std::vector<std::string> versions;
  std::vector<WebAsset> assets;
  Table() {
    if (sodium_init() < 0) return;
    auto files = embedded_web_files();
    versions.reserve(files.size());
    for (const EmbeddedWebFile& f : files) {
      unsigned char hash[8];
      crypto_generichash(hash, sizeof hash, f.data, f.size, nullptr, 0);
      versions.push_back(to_hex(std::string_view(reinterpret_cast<const char*>(hash), sizeof hash)));
    }
    for (size_t i = 0; i < files.size(); ++i) {
      std::string_view path = files[i].path;
      assets.push_back(WebAsset{path, std::string_view(reinterpret_cast<const char*>(files[i].data), files[i].size),
                                content_type_for(path), versions[i]});
    }
  }
};

}  // namespace

const WebAsset* find_web_asset(std::string_view path) {
  static const Table table;
  for (const WebAsset& a : table.assets)
    if (a.path == path) return &a;
  return nullptr;
}

}  // namespace parley::services::ui
