#include "core/allocator.hpp"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace parley {

bool tune_allocator() {
#if defined(__GLIBC__)
  if (const char* v = std::getenv("PARLEY_MALLOC_DEFAULTS"); v && std::strcmp(v, "1") == 0) return false;
  // Setting either threshold also turns off glibc's dynamic adjustment of both.
  const bool trim = mallopt(M_TRIM_THRESHOLD, static_cast<int>(kTrimThreshold)) == 1;
  const bool mmap = mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMmapThreshold)) == 1;
  return trim && mmap;
#else
  return false;
#endif
}

}  // namespace parley
