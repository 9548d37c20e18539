// The properties the session-cookie fuzz target checks (session_fuzz), shared with the regression
// tests (tests/services/fuzz_regressions_test.cpp).
//
// Input: byte 0 picks the check, the rest drives it:
//   0  the rest as a cookie: it never unseals (forging needs the key);
//   1  a session sealed with the real key, then one byte of the cookie changed (position and new
//      value from the input): never unseals; the untouched cookie does, to the same session, and
//      every strict prefix of it does not;
//   2  rotation: a cookie sealed under the old key opens with "new,old" (needs_reseal) and not with
//      "new" alone; one idle past max_idle_s or issued more than 300 s in the future never opens.
#pragma once

#include <string>

#include "fuzz/fuzz_input.hpp"
#include "services/ui/session.hpp"

namespace parley::fuzz {

namespace ui = parley::services::ui;

struct SessionFixture {
  ui::SessionSealer sealer{ui::SessionKeys::parse("fuzz-session-key-0123456789").value()};
  ui::SessionSealer old_sealer{ui::SessionKeys::parse("old-session-key-abcdefghij").value()};
  ui::SessionSealer rotated{ui::SessionKeys::parse("fuzz-session-key-0123456789, old-session-key-abcdefghij").value()};
};

inline const SessionFixture& session_fixture() {
  static const SessionFixture f;
  return f;
}

inline int64_t read_i64(FuzzInput& in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | in.byte();
  return static_cast<int64_t>(v);
}

inline bool same_session(const ui::Session& a, const ui::Session& b) {
  return a.owner == b.owner && a.csrf == b.csrf && a.created_s == b.created_s && a.issued_s == b.issued_s;
}

inline std::string check_session_input(const uint8_t* data, size_t size) {
  const SessionFixture& fx = session_fixture();
  FuzzInput in(data, size);
  const uint8_t kind = in.byte() % 3;
  const int64_t now = 1'800'000'000;
  if (kind == 0) {
    std::string_view cookie = in.rest();
    for (const auto* s : {&fx.sealer, &fx.old_sealer, &fx.rotated})
      if (s->unseal(cookie, now)) return "a random cookie unsealed: " + preview(cookie);
    return {};
  }
  // A session issued within the last 30 days (so it is valid now).
  ui::Session s = ui::Session::fresh(now);
  const int64_t age = static_cast<int64_t>(static_cast<uint64_t>(read_i64(in)) % (30ULL * 24 * 3600));
  s.issued_s = now - age;
  s.created_s = s.issued_s - static_cast<int64_t>(in.byte()) * 86400;
  if (kind == 1) {
    const std::string cookie = fx.sealer.seal(s);
    auto opened = fx.sealer.unseal(cookie, now);
    if (!opened || !same_session(opened->session, s)) return "a sealed session does not unseal to itself";
    if (opened->needs_reseal != (now - s.issued_s > fx.sealer.policy().refresh_after_s))
      return "needs_reseal is wrong for a cookie of age " + std::to_string(age);
    const size_t pos = (static_cast<size_t>(in.byte()) << 8 | in.byte()) % cookie.size();
    uint8_t repl = in.byte();
    if (repl == static_cast<uint8_t>(cookie[pos])) repl ^= 1;
    std::string tampered = cookie;
    tampered[pos] = static_cast<char>(repl);
    if (fx.sealer.unseal(tampered, now) || fx.rotated.unseal(tampered, now))
      return "a cookie with byte " + std::to_string(pos) + " changed to " + std::to_string(repl) + " unsealed";
    const size_t cut = (static_cast<size_t>(in.byte()) << 8 | in.byte()) % cookie.size();
    if (fx.sealer.unseal(std::string_view(cookie).substr(0, cut), now))
      return "a cookie cut to " + std::to_string(cut) + " bytes unsealed";
    const std::string extended = cookie + std::string(1, static_cast<char>(in.byte()));
    if (fx.sealer.unseal(extended, now)) return "a cookie with a byte appended unsealed";
    return {};
  }
  const std::string old_cookie = fx.old_sealer.seal(s);
  auto opened = fx.rotated.unseal(old_cookie, now);
  if (!opened || !same_session(opened->session, s) || !opened->needs_reseal)
    return "rotation: a cookie of the old key does not open (with needs_reseal) under new,old";
  if (fx.sealer.unseal(old_cookie, now)) return "a cookie of a removed key unsealed";
  const int64_t later = s.issued_s + fx.sealer.policy().max_idle_s + 1 + (read_i64(in) & 0xffffff);
  if (fx.rotated.unseal(old_cookie, later)) return "an expired cookie unsealed";
  ui::Session future = s;
  future.issued_s = now + 301 + (read_i64(in) & 0xffffff);
  if (fx.sealer.unseal(fx.sealer.seal(future), now)) return "a cookie issued in the future unsealed";
  return {};
}

}  // namespace parley::fuzz
