#include "core/allocator.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace parley {
namespace {

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)

// With glibc's defaults a 2 MB block gets its own mapping (unmapped again by free: a TLB shoot-down
// in a threaded process), and a freed 4 MB top of the heap goes back to the kernel. Tuned, both stay.
TEST(Allocator, MiddleSizedBlocksComeFromTheHeapAndFreedHeapIsKept) {
  ASSERT_TRUE(tune_allocator());

  const size_t mapped_before = mallinfo2().hblks;
  void* volatile p = std::malloc(size_t{2} << 20);  // volatile: the compiler may not elide it
  ASSERT_NE(p, nullptr);
  std::memset(p, 1, size_t{2} << 20);
  EXPECT_EQ(mallinfo2().hblks, mapped_before) << "a 2 MB block got its own mapping";
  std::free(p);

  // A block at the top of the heap, freed: the heap keeps it (keepcost = what a trim could release).
  void* volatile big = std::malloc(size_t{4} << 20);
  ASSERT_NE(big, nullptr);
  std::memset(big, 1, size_t{4} << 20);
  std::free(big);
  EXPECT_GE(mallinfo2().keepcost, size_t{4} << 20) << "the freed top of the heap was given back";
}

#else

TEST(Allocator, MiddleSizedBlocksComeFromTheHeapAndFreedHeapIsKept) {
  GTEST_SKIP() << "not glibc's allocator (sanitizer build or another C library)";
}

#endif

TEST(Allocator, DefaultsCanBeKept) {
  ::setenv("PARLEY_MALLOC_DEFAULTS", "1", 1);
  EXPECT_FALSE(tune_allocator());
  ::unsetenv("PARLEY_MALLOC_DEFAULTS");
}

}  // namespace
}  // namespace parley
