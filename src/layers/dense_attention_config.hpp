// The config keys Attention and AdditiveAttention share (Keras 3.16's Attention.get_config:
// name, trainable, dtype, use_scale, dropout, seed; Attention adds score_mode).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kattn/core/config.hpp"

namespace kattn::detail {

struct DenseAttentionConfig {
  LayerArgs layer;
  bool use_scale = false;
  double dropout = 0.0;
  std::optional<int64_t> seed;
};

// Reads the shared keys; the caller reads its own keys, then calls reader.check_all_read().
DenseAttentionConfig read_dense_attention_config(ConfigReader& reader,
                                                 std::string_view default_name,
                                                 bool default_use_scale);

}  // namespace kattn::detail
