// utf8_sampler(): valid UTF-8 that exercises every kind of text a store or a JSON writer may get
// wrong (multi-byte, astral, RTL, combining, ZWJ, U+0000, control characters, quotes).
#pragma once

#include <string>

namespace parley::test {

inline std::string utf8_sampler() {
  // ASCII, Latin-1, Greek, CJK, RTL (Hebrew, Arabic), combining marks, ZWJ emoji sequence,
  // astral plane, U+0000, U+FFFF-adjacent (U+FFFD), and JSON/SQL specials.
  return std::string("plain ascii; ") + "caf\xc3\xa9 \xce\xb1\xce\xb2\xce\xb3 \xe4\xb8\xad\xe6\x96\x87 " +
         "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 e\xcc\x81 " +
         "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb \xf0\x9f\x98\x80 \xf0\x90\x8d\x88 " + std::string(1, '\0') +
         " \xef\xbf\xbd \xf4\x8f\xbf\xbf '\"\\ ; DROP TABLE chats; -- \n\t\r end";
}

}  // namespace parley::test
