// Scratch memory owned by the calling thread, grown on demand and kept for its next call, so
// that kernels called again and again allocate nothing after the first call.
#pragma once

#include <cstdint>
#include <vector>

namespace kattn::detail {

// Which of a thread's buffers: an attention kernel's workspace, the decode kernel's partial
// results (alive at the same time as the workspaces), the packed product's block of rows, the
// fused backward's packed inputs and partial query gradients (shared by its threads).
enum class Buffer { kWorkspace, kPartials, kGemm, kShared };

// At least `floats` floats, valid until the calling thread asks for the same `kind` again.
template <Buffer kind>
float* thread_buffer(int64_t floats) {
  thread_local std::vector<float> buffer;
  if (static_cast<int64_t>(buffer.size()) < floats) buffer.resize(static_cast<size_t>(floats));
  return buffer.data();
}

}  // namespace kattn::detail
