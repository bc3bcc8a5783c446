// Keras's session naming state: the counters behind auto names (backend.get_uid /
// naming.uniquify) and keras.utils.clear_session, which resets them.
#include "kattn/core/session.hpp"

#include <map>
#include <mutex>
#include <string>

#include "core/node_inputs.hpp"

namespace kattn {

namespace {

// Keras's object_name_uids: how many objects took each auto name so far.
struct NameCounts {
  std::mutex mutex;
  std::map<std::string, int64_t> counts;
};

NameCounts& name_counts() {
  static NameCounts names;
  return names;
}

}  // namespace

std::string detail::unique_name(const std::string& base) {
  NameCounts& names = name_counts();
  const std::lock_guard<std::mutex> lock(names.mutex);
  const int64_t count = names.counts[base]++;
  return count == 0 ? base : base + "_" + std::to_string(count);
}

void clear_session() {
  NameCounts& names = name_counts();
  const std::lock_guard<std::mutex> lock(names.mutex);
  names.counts.clear();
}

}  // namespace kattn
