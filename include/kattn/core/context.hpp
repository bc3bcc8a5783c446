// How many threads kattn's kernels use, from the widest setting to the narrowest:
//
//   set_num_threads(n)            process-wide default; 0 (the initial setting) means every core
//   ScopedNumThreads scope(n);    calls made on this thread while `scope` lives
//   SdpaOptions::num_threads      one call
//
// Results do not depend on the thread count: work is split along rows whose arithmetic is the
// same whichever thread runs them.
#pragma once

#include <cstdint>

namespace kattn {

// The cores std::thread reports (at least 1).
int64_t hardware_threads();

// Sets the process-wide default; `threads` 0 means hardware_threads(). ValueError when negative.
void set_num_threads(int64_t threads);

// The thread count a call made now on this thread uses when it asks for none (>= 1).
int64_t num_threads();

// Sets the thread count for calls made on the constructing thread until destroyed; nests.
class ScopedNumThreads {
 public:
  // `threads` 0 means hardware_threads(). ValueError when negative.
  explicit ScopedNumThreads(int64_t threads);
  ~ScopedNumThreads();
  ScopedNumThreads(const ScopedNumThreads&) = delete;
  ScopedNumThreads& operator=(const ScopedNumThreads&) = delete;

 private:
  int64_t previous_;
};

}  // namespace kattn
