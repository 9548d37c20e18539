// Process-wide settings of glibc's allocator, applied once at the start of main().
//
//   parley::tune_allocator();   // before any thread starts
//
// By default glibc gives freed memory back to the kernel as soon as 128 KB sit free at the top of a
// heap (madvise/munmap), and serves every block above a sliding 128 KB-32 MB threshold with its own
// mmap/munmap. In a multi-threaded server each such unmap is a TLB shoot-down: an interrupt to every
// other CPU that ran one of the process's threads, and the caller waits for all of them. On a
// virtual machine whose idle CPUs are halted, that wait can last milliseconds, and every request in
// flight in the process waits with it (docs/performance.md, "Latency at a given rate"). So Parley
// keeps up to kTrimThreshold of free heap and maps only blocks of kMmapThreshold or more by
// themselves: memory use stays at its high-water mark (bounded by the services' own limits) instead
// of shrinking after every burst.
//
// PARLEY_MALLOC_DEFAULTS=1 leaves glibc's defaults (to compare). Does nothing under other C libraries.
#pragma once

#include <cstddef>

namespace parley {

inline constexpr size_t kTrimThreshold = size_t{256} << 20;  // free heap kept before trimming
inline constexpr size_t kMmapThreshold = size_t{8} << 20;    // blocks this large get their own mapping

// Returns true when the settings were applied.
bool tune_allocator();

}  // namespace parley
