// keras.layers.Attention: dot-product (Luong) or concat scoring over DenseAttention.
#include "kattn/layers/attention.hpp"

#include <utility>

#include "kernels/reference/dense_attention.hpp"
#include "layers/dense_attention_config.hpp"
#include "layers/dense_attention_dims.hpp"

namespace kattn {

namespace dense = kernels::reference::dense;

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
  const std::string name = config_layer_name(config);
  ConfigReader reader(config, {"Attention", name});
  const detail::DenseAttentionConfig common =
      detail::read_dense_attention_config(reader, "attention", false);
  Args args;
  args.score_mode = reader.get_string("score_mode", "dot");
  reader.check_all_read();
  args.use_scale = common.use_scale;
  args.dropout = common.dropout;
  args.seed = common.seed;
  args.name = common.layer.name;
  args.trainable = common.layer.trainable;
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

void Attention::calculate_scores(const Tensor& query, const Tensor& key, Tensor& scores) const {
  const dense::Dims dims = detail::dense_attention_dims(query.shape(), key.shape(), key.shape());
  const float* scale = use_scale() ? weight("scale").data() : nullptr;
  if (score_mode_ == "dot") {
    dense::dot_scores<float>(dims, query.data(), key.data(), scale, scores.data());
  } else {
    dense::concat_scores<float>(dims, query.data(), key.data(), scale,
                                weight("concat_score_weight").data(), scores.data());
  }
}

}  // namespace kattn
