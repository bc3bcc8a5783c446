#include "kattn/core/context.hpp"

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

#include "kattn/core/error.hpp"

namespace kattn {

namespace {

std::atomic<int64_t> process_threads{0};   // 0: every core
thread_local int64_t scoped_threads = -1;  // -1: no scope on this thread

int64_t checked(int64_t threads, const char* where) {
  if (threads < 0) {
    throw_value_error({where, ""}, "invalid thread count", "0 (every core) or a positive integer",
                      "threads=" + std::to_string(threads));
  }
  return threads;
}

int64_t resolved(int64_t threads) { return threads == 0 ? hardware_threads() : threads; }

}  // namespace

int64_t hardware_threads() {
  return std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()));
}

void set_num_threads(int64_t threads) {
  process_threads.store(checked(threads, "set_num_threads"));
}

int64_t num_threads() {
  return resolved(scoped_threads >= 0 ? scoped_threads : process_threads.load());
}

ScopedNumThreads::ScopedNumThreads(int64_t threads) : previous_(scoped_threads) {
  scoped_threads = checked(threads, "ScopedNumThreads");
}

ScopedNumThreads::~ScopedNumThreads() { scoped_threads = previous_; }

}  // namespace kattn
