// The config keys Attention and AdditiveAttention share (Keras 3.16's Attention.get_config:
// name, trainable, dtype, use_scale, dropout, seed; Attention adds score_mode).
#pragma once

#include "kattn/core/config.hpp"

namespace kattn::detail {

// Reads the shared keys into either layer's Args (its use_scale and name are the defaults); the
// caller reads its own keys, then calls reader.check_all_read().
template <typename Args>
void read_dense_attention_args(ConfigReader& reader, Args& args) {
  read_base_args(reader, args);
  args.use_scale = reader.get_bool("use_scale", args.use_scale);
  args.dropout = reader.get_number("dropout", 0.0);
  // Keras writes `seed: null` for an unseeded layer.
  if (!reader.get("seed", nullptr).is_null()) args.seed = reader.get_int("seed", 0);
}

}  // namespace kattn::detail
