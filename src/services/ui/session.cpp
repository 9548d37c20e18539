#include "services/ui/session.hpp"

#include <sodium.h>

#include <stdexcept>

#include "core/config.hpp"
#include "core/ids.hpp"

namespace parley::services::ui {
namespace {

constexpr std::string_view kAssociatedData = "parley-session-v1";
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;  // 24
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;       // 16
constexpr size_t kMaxCookieBytes = 512;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool init_sodium() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

// Splits "a|b|c" into exactly n fields; false otherwise.
bool split_fields(std::string_view text, std::vector<std::string_view>& out, size_t n) {
  out.clear();
  while (true) {
    size_t bar = text.find('|');
    out.push_back(text.substr(0, bar));
    if (bar == std::string_view::npos) break;
    text.remove_prefix(bar + 1);
  }
  return out.size() == n;
}

}  // namespace

Session Session::fresh(int64_t now_s) {
  return Session{.owner = "web_" + random_id(), .csrf = random_token(32), .created_s = now_s, .issued_s = now_s};
}

Result<SessionKeys> SessionKeys::parse(std::string_view secrets) {
  if (!init_sodium()) throw std::runtime_error("libsodium failed to initialise");
  SessionKeys keys;
  while (true) {
    size_t comma = secrets.find(',');
    std::string_view secret = trim(secrets.substr(0, comma));
    if (secret.size() < 16)
      return make_error(ErrorCode::invalid_argument,
                        "every session key must be at least 16 bytes (SESSION_KEY / SESSION_KEYS)");
    std::array<unsigned char, 32> key{};
    static constexpr std::string_view kContext = "parley-session-key";
    crypto_generichash_state state;
    crypto_generichash_init(&state, nullptr, 0, key.size());
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(kContext.data()), kContext.size());
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
    crypto_generichash_final(&state, key.data(), key.size());
    keys.keys_.push_back(key);
    if (comma == std::string_view::npos) break;
    secrets.remove_prefix(comma + 1);
  }
  return keys;
}

std::string SessionKeys::generate_secret() { return random_hex(32); }

SessionSealer::SessionSealer(SessionKeys keys, SessionPolicy policy) : keys_(std::move(keys)), policy_(policy) {
  if (keys_.size() == 0) throw std::invalid_argument("SessionSealer needs at least one key");
}

std::string SessionSealer::seal(const Session& s) const {
  std::string plain = "1|" + std::to_string(s.created_s) + "|" + std::to_string(s.issued_s) + "|" + s.owner + "|" + s.csrf;
  std::string sealed(kNonceBytes + plain.size() + kTagBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  randombytes_buf(out, kNonceBytes);
  unsigned long long ct_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      out + kNonceBytes, &ct_len, reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
      reinterpret_cast<const unsigned char*>(kAssociatedData.data()), kAssociatedData.size(), nullptr, out,
      keys_.key(0).data());
  sealed.resize(kNonceBytes + ct_len);
  return base64url_encode(sealed);
}

std::optional<OpenedSession> SessionSealer::unseal(std::string_view cookie, int64_t now_s) const {
  if (cookie.empty() || cookie.size() > kMaxCookieBytes) return std::nullopt;
  // Only the base64url alphabet: libsodium 1.0.18's decoder reads every byte >= 0x80 as '_', so
  // without this check a cookie with such a byte in place of a '_' would open as the original.
  for (char c : cookie) {
    const bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!b64) return std::nullopt;
  }
  std::string raw(cookie.size(), '\0');
  size_t raw_len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), cookie.data(), cookie.size(),
                        nullptr, &raw_len, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    return std::nullopt;
  if (raw_len < kNonceBytes + kTagBytes) return std::nullopt;
  const auto* in = reinterpret_cast<const unsigned char*>(raw.data());
  std::string plain(raw_len - kNonceBytes - kTagBytes, '\0');
  for (size_t k = 0; k < keys_.size(); ++k) {
    unsigned long long plain_len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            reinterpret_cast<unsigned char*>(plain.data()), &plain_len, nullptr, in + kNonceBytes,
            raw_len - kNonceBytes, reinterpret_cast<const unsigned char*>(kAssociatedData.data()),
            kAssociatedData.size(), in, keys_.key(k).data()) != 0)
      continue;
    std::vector<std::string_view> f;
    if (!split_fields(std::string_view(plain).substr(0, plain_len), f, 5) || f[0] != "1") return std::nullopt;
    auto created = parse_int(f[1]);
    auto issued = parse_int(f[2]);
    if (!created || !issued || f[3].size() != 36 || f[3].substr(0, 4) != "web_" || !is_hex_id(f[3].substr(4)) ||
        f[4].size() < 32)
      return std::nullopt;
    if (now_s - *issued > policy_.max_idle_s || *issued > now_s + 300) return std::nullopt;
    OpenedSession opened;
    opened.session = Session{.owner = std::string(f[3]), .csrf = std::string(f[4]), .created_s = *created, .issued_s = *issued};
    opened.needs_reseal = k != 0 || now_s - *issued > policy_.refresh_after_s;
    return opened;
  }
  return std::nullopt;
}

}  // namespace parley::services::ui
