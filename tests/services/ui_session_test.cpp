#include <gtest/gtest.h>

#include "services/ui/session.hpp"

namespace parley::services::ui {
namespace {

SessionSealer sealer(const std::string& secrets, SessionPolicy policy = {}) {
  auto keys = SessionKeys::parse(secrets);
  EXPECT_TRUE(keys.ok());
  return SessionSealer(std::move(*keys), policy);
}

constexpr int64_t kNow = 1'800'000'000;

TEST(UiSession, SealThenUnsealGivesTheSameSession) {
  auto s = sealer("0123456789abcdef-new");
  Session session = Session::fresh(kNow);
  std::string cookie = s.seal(session);
  auto opened = s.unseal(cookie, kNow + 10);
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->session.owner, session.owner);
  EXPECT_EQ(opened->session.csrf, session.csrf);
  EXPECT_FALSE(opened->needs_reseal);
  EXPECT_NE(s.seal(session), cookie) << "a fresh nonce every time";
  EXPECT_NE(Session::fresh(kNow).owner, session.owner);
}

TEST(UiSession, TamperedTruncatedAndGarbageCookiesAreRejected) {
  auto s = sealer("0123456789abcdef-new");
  std::string cookie = s.seal(Session::fresh(kNow));
  for (size_t i = 0; i < cookie.size(); ++i) {
    std::string bad = cookie;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(s.unseal(bad, kNow)) << "flipped char " << i;
  }
  for (size_t n = 0; n < cookie.size(); n += 7) EXPECT_FALSE(s.unseal(cookie.substr(0, n), kNow));
  EXPECT_FALSE(s.unseal("", kNow));
  EXPECT_FALSE(s.unseal("not base64 !!!", kNow));
  EXPECT_FALSE(s.unseal(std::string(5000, 'A'), kNow));
}

TEST(UiSession, ForeignKeyIsRejected) {
  auto mine = sealer("0123456789abcdef-mine");
  auto theirs = sealer("0123456789abcdef-theirs");
  EXPECT_FALSE(mine.unseal(theirs.seal(Session::fresh(kNow)), kNow));
}

TEST(UiSession, RotationOpensOldCookiesAndAsksForAReseal) {
  auto old_only = sealer("0123456789abcdef-old");
  auto rotated = sealer("0123456789abcdef-new, 0123456789abcdef-old");
  auto new_only = sealer("0123456789abcdef-new");
  Session session = Session::fresh(kNow);
  std::string old_cookie = old_only.seal(session);
  auto opened = rotated.unseal(old_cookie, kNow);
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->session.owner, session.owner);
  EXPECT_TRUE(opened->needs_reseal);
  std::string resealed = rotated.seal(opened->session);
  EXPECT_TRUE(new_only.unseal(resealed, kNow));
  EXPECT_FALSE(new_only.unseal(old_cookie, kNow)) << "after the old key is retired its cookies are foreign";
}

TEST(UiSession, ExpiryIsSlidingFromTheLastIssue) {
  SessionPolicy policy{.max_idle_s = 1000, .refresh_after_s = 100};
  auto s = sealer("0123456789abcdef-new", policy);
  std::string cookie = s.seal(Session::fresh(kNow));
  EXPECT_TRUE(s.unseal(cookie, kNow + 50));
  EXPECT_FALSE(s.unseal(cookie, kNow + 50)->needs_reseal);
  EXPECT_TRUE(s.unseal(cookie, kNow + 500)->needs_reseal);
  EXPECT_FALSE(s.unseal(cookie, kNow + 1001)) << "expired";
  EXPECT_FALSE(s.unseal(cookie, kNow - 1000)) << "issued in the future";
}

TEST(UiSession, ShortSecretsAreRefused) {
  auto keys = SessionKeys::parse("short");
  ASSERT_FALSE(keys);
  EXPECT_NE(keys.error().message.find("16 bytes"), std::string::npos);
  EXPECT_FALSE(SessionKeys::parse("0123456789abcdef,"));
  EXPECT_TRUE(SessionKeys::parse(SessionKeys::generate_secret()));
  EXPECT_EQ(SessionKeys::generate_secret().size(), 64u);
}

}  // namespace
}  // namespace parley::services::ui
