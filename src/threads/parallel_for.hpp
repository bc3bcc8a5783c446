// The one place kattn starts threads: a pool of workers, created the first time a call asks for
// them and kept for the life of the process.
#pragma once

#include <cstdint>
#include <functional>

namespace kattn::detail {

// Runs body(item) for every item in [0, items) on up to `threads` threads, the calling thread
// being one of them, and returns when every item has run. Items are handed out one at a time in
// increasing order, so callers balance uneven work by putting the largest items first. While
// the workers serve another call (another thread's, or an enclosing parallel_for), the caller
// runs every item itself: concurrent and nested calls are safe, they just do not share the
// workers. `body` must not throw.
void parallel_for(int64_t items, int64_t threads, const std::function<void(int64_t)>& body);

}  // namespace kattn::detail
