#include "layers/dense_attention_config.hpp"

namespace kattn::detail {

DenseAttentionConfig read_dense_attention_config(ConfigReader& reader,
                                                 std::string_view default_name,
                                                 bool default_use_scale) {
  DenseAttentionConfig config;
  config.layer = read_layer_args(reader, default_name);
  config.use_scale = reader.get_bool("use_scale", default_use_scale);
  config.dropout = reader.get_number("dropout", 0.0);
  // Keras writes `seed: null` for an unseeded layer.
  if (!reader.get("seed", nullptr).is_null()) config.seed = reader.get_int("seed", 0);
  return config;
}

}  // namespace kattn::detail
