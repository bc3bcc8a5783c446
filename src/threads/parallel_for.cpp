#include "threads/parallel_for.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace kattn::detail {

namespace {

class WorkerPool {
 public:
  static WorkerPool& instance() {
    static WorkerPool pool;
    return pool;
  }

  ~WorkerPool() {
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }

  // False when the workers are serving another call.
  bool try_run(int64_t items, int64_t helpers, const std::function<void(int64_t)>& body) {
    {
      const std::lock_guard lock(mutex_);
      if (busy_) return false;
      busy_ = true;
      start_workers(helpers);
      body_ = &body;
      items_ = items;
      next_.store(0);
      wanted_ = std::min<int64_t>(helpers, static_cast<int64_t>(workers_.size()));
      joined_ = 0;
    }
    wake_.notify_all();
    run_items(body, items);
    std::unique_lock lock(mutex_);
    wanted_ = 0;  // workers that have not woken yet stay out of this call
    done_.wait(lock, [this] { return running_ == 0; });
    body_ = nullptr;
    busy_ = false;
    return true;
  }

 private:
  // Starts workers until there are `helpers`, or as many as the system lets it start (a limit
  // on processes or memory): the calls then run on fewer threads.
  void start_workers(int64_t helpers) {
    while (static_cast<int64_t>(workers_.size()) < helpers) {
      try {
        workers_.emplace_back([this] { serve(); });
      } catch (const std::system_error&) {
        return;
      }
    }
  }

  void run_items(const std::function<void(int64_t)>& body, int64_t items) {
    for (int64_t item = next_.fetch_add(1); item < items; item = next_.fetch_add(1)) body(item);
  }

  void serve() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [this] { return stop_ || joined_ < wanted_; });
      if (stop_) return;
      ++joined_;
      ++running_;
      const std::function<void(int64_t)>& body = *body_;
      const int64_t items = items_;
      lock.unlock();
      run_items(body, items);
      lock.lock();
      if (--running_ == 0) done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;  // a call wants helpers, or the pool stops
  std::condition_variable done_;  // the last helper of a call finished
  std::vector<std::thread> workers_;
  bool busy_ = false;
  bool stop_ = false;
  // The call being served; written under mutex_ while no helper runs.
  const std::function<void(int64_t)>* body_ = nullptr;
  int64_t items_ = 0;
  std::atomic<int64_t> next_{0};
  int64_t wanted_ = 0;   // helpers this call may still take on
  int64_t joined_ = 0;   // helpers that took it on
  int64_t running_ = 0;  // helpers still running its items
};

}  // namespace

void parallel_for(int64_t items, int64_t threads, const std::function<void(int64_t)>& body) {
  const int64_t helpers = std::min(threads, items) - 1;
  if (helpers <= 0 || !WorkerPool::instance().try_run(items, helpers, body)) {
    for (int64_t item = 0; item < items; ++item) body(item);
  }
}

}  // namespace kattn::detail
