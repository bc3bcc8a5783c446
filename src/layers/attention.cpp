// keras.layers.Attention: dot-product (Luong) or concat scoring over DenseAttention.
#include "kattn/layers/attention.hpp"

#include <utility>

#include "layers/dense_attention_config.hpp"

namespace kattn {

Attention::Attention() : Attention(Args{}) {}

Attention::Attention(Args args)
    : DenseAttention("Attention", LayerArgs{std::move(args.name), args.trainable}, args.use_scale,
                     args.dropout, args.seed),
      score_mode_(std::move(args.score_mode)) {
  // Attention.__init__.
  if (score_mode_ != "dot" && score_mode_ != "concat") {
    throw_value_error(error_source(), "Invalid value for argument score_mode",
                      "one of {'dot', 'concat'}", "score_mode=" + score_mode_);
  }
}

std::unique_ptr<Attention> Attention::from_config(const Config& config) {
  ConfigReader reader(config, {"Attention", config_layer_name(config)});
  Args args;
  detail::read_dense_attention_args(reader, args);
  args.score_mode = reader.get_string("score_mode", "dot");
  reader.check_all_read();
  return std::make_unique<Attention>(std::move(args));
}

Config Attention::get_config() const {
  Config config = DenseAttention::get_config();
  config["score_mode"] = score_mode_;
  return config;
}

void Attention::create_weights(const std::vector<Shape>& /*input_shapes*/) {
  // Attention.build: `scale` then `concat_score_weight`, both () initialised to ones.
  if (use_scale()) add_weight("scale", {}, Initializer::ones());
  if (score_mode_ == "concat") add_weight("concat_score_weight", {}, Initializer::ones());
}

DenseAttention::ScoreFunction Attention::score_function() const {
  ScoreFunction score;
  score.kind = score_mode_ == "dot" ? ScoreFunction::Kind::kDot : ScoreFunction::Kind::kConcat;
  if (use_scale()) score.scale = &weight("scale");
  if (score_mode_ == "concat") score.concat_score_weight = &weight("concat_score_weight");
  return score;
}

}  // namespace kattn
