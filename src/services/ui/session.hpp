// Browser sessions of the UI: a cookie sealed with XChaCha20-Poly1305 (libsodium) so the UI keeps no
// session state and any replica that shares the key can read it.
//
//   SessionSealer sealer(SessionKeys::parse("new-secret,old-secret").value());
//   Session s = Session::fresh(now_s);                      // new owner id + CSRF token
//   std::string cookie = sealer.seal(s);                    // base64url(nonce[24] || ciphertext)
//   auto opened = sealer.unseal(cookie, now_s);             // nullopt: tampered, foreign, expired
//   if (opened && opened->needs_reseal) ...                 // sealed under an old key or stale
//
// Plaintext: "1|<created_s>|<issued_s>|<owner>|<csrf>"; associated data "parley-session-v1".
// Keys are derived from each secret with BLAKE2b-256 (so any secret of >= 16 bytes works); the first
// key seals, every key opens (rotation: SESSION_KEYS=new,old logs nobody out). Cost: ~1 us per seal
// or unseal (one AEAD over ~100 bytes).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace parley::services::ui {

struct Session {
  std::string owner;  // "web_" + 32 hex: the ChatStore owner of everything this browser makes
  std::string csrf;   // 32 bytes base64url: must accompany every state-changing request
  int64_t created_s = 0;
  int64_t issued_s = 0;  // last time the cookie was (re)sealed; expiry counts from here (sliding)

  static Session fresh(int64_t now_s);
};

struct OpenedSession {
  Session session;
  bool needs_reseal = false;  // opened with an old key, or issued long enough ago to refresh
};

class SessionKeys {
 public:
  // "secret" or "new,old,..." (commas separate keys; whitespace around them is ignored). Every
  // secret must be at least 16 bytes: invalid_argument otherwise, with a message saying so.
  static Result<SessionKeys> parse(std::string_view secrets);
  // A random secret (for `parley serve`'s first start): 32 bytes as 64 hex characters.
  static std::string generate_secret();

  size_t size() const { return keys_.size(); }
  const std::array<unsigned char, 32>& key(size_t i) const { return keys_[i]; }

 private:
  std::vector<std::array<unsigned char, 32>> keys_;
};

struct SessionPolicy {
  int64_t max_idle_s = 30LL * 24 * 3600;  // a cookie not re-issued for this long is expired
  int64_t refresh_after_s = 24 * 3600;     // re-issue a cookie older than this (sliding expiry)
};

class SessionSealer {
 public:
  explicit SessionSealer(SessionKeys keys, SessionPolicy policy = {});

  std::string seal(const Session& session) const;
  std::optional<OpenedSession> unseal(std::string_view cookie, int64_t now_s) const;
  const SessionPolicy& policy() const { return policy_; }

 private:
  SessionKeys keys_;
  SessionPolicy policy_;
};

}  // namespace parley::services::ui
