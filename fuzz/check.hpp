#pragma once
// A property a harness asserts: when it fails the run must stop with a crash file, with or
// without NDEBUG, and the log must say which property it was.

#include <cstdio>
#include <cstdlib>

namespace sova::fuzz {

[[noreturn]] inline void property_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: property failed: %s\n", file, line, what);
  std::abort();  // libFuzzer saves the input as crash-<sha1>
}

}  // namespace sova::fuzz

#define FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::sova::fuzz::property_failed(#cond, __FILE__, __LINE__))
