// keras.layers.AdditiveAttention: Bahdanau scoring over DenseAttention.
#include <utility>

#include "kattn/core/initializers.hpp"
#include "kattn/layers/attention.hpp"
#include "layers/dense_attention_config.hpp"

namespace kattn {

AdditiveAttention::AdditiveAttention() : AdditiveAttention(Args{}) {}

AdditiveAttention::AdditiveAttention(Args args)
    : DenseAttention("AdditiveAttention", LayerArgs{std::move(args.name), args.trainable},
                     args.use_scale, args.dropout, args.seed) {}

std::unique_ptr<AdditiveAttention> AdditiveAttention::from_config(const Config& config) {
  ConfigReader reader(config, {"AdditiveAttention", config_layer_name(config)});
  // AdditiveAttention.get_config drops Attention's score_mode, so it is not a key here.
  Args args;
  detail::read_dense_attention_args(reader, args);
  reader.check_all_read();
  return std::make_unique<AdditiveAttention>(std::move(args));
}

void AdditiveAttention::create_weights(const std::vector<Shape>& input_shapes) {
  // AdditiveAttention.build: `scale` of shape (query dim,), glorot_uniform.
  if (use_scale()) add_weight("scale", {input_shapes[0].back()}, Initializer::glorot_uniform());
}

void AdditiveAttention::check_built_shapes(const std::vector<Shape>& input_shapes) const {
  if (!use_scale()) return;
  const int64_t dim = weight("scale").dim(0);
  if (input_shapes[0].back() != dim) {
    throw_value_error(error_source(),
                      "the feature dimension of query differs from the one the layer was built "
                      "for",
                      "query.shape[-1] == " + std::to_string(dim) + " (the length of `scale`)",
                      "query.shape=" + shape_to_string(input_shapes[0]));
  }
}

DenseAttention::ScoreFunction AdditiveAttention::score_function() const {
  ScoreFunction score;
  score.kind = ScoreFunction::Kind::kAdditive;
  if (use_scale()) score.scale = &weight("scale");
  return score;
}

}  // namespace kattn
