#include "models/operation_registry.hpp"

#include <algorithm>

#include "kattn/layers/activation.hpp"
#include "kattn/layers/activity_regularization.hpp"
#include "kattn/layers/alpha_dropout.hpp"
#include "kattn/layers/attention.hpp"
#include "kattn/layers/batch_normalization.hpp"
#include "kattn/layers/bidirectional.hpp"
#include "kattn/layers/conv1d.hpp"
#include "kattn/layers/conv2d.hpp"
#include "kattn/layers/cropping1d.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/dot.hpp"
#include "kattn/layers/dropout.hpp"
#include "kattn/layers/einsum_dense.hpp"
#include "kattn/layers/elu.hpp"
#include "kattn/layers/embedding.hpp"
#include "kattn/layers/flatten.hpp"
#include "kattn/layers/gaussian_dropout.hpp"
#include "kattn/layers/gaussian_noise.hpp"
#include "kattn/layers/group_normalization.hpp"
#include "kattn/layers/grouped_query_attention.hpp"
#include "kattn/layers/gru.hpp"
#include "kattn/layers/identity.hpp"
#include "kattn/layers/layer_normalization.hpp"
#include "kattn/layers/leaky_relu.hpp"
#include "kattn/layers/lstm.hpp"
#include "kattn/layers/masking.hpp"
#include "kattn/layers/merging.hpp"
#include "kattn/layers/multi_head_attention.hpp"
#include "kattn/layers/permute.hpp"
#include "kattn/layers/pooling.hpp"
#include "kattn/layers/pooling_windows.hpp"
#include "kattn/layers/prelu.hpp"
#include "kattn/layers/relu.hpp"
#include "kattn/layers/repeat_vector.hpp"
#include "kattn/layers/reshape.hpp"
#include "kattn/layers/rms_normalization.hpp"
#include "kattn/layers/simple_rnn.hpp"
#include "kattn/layers/softmax.hpp"
#include "kattn/layers/spatial_dropout.hpp"
#include "kattn/layers/time_distributed.hpp"
#include "kattn/layers/unit_normalization.hpp"
#include "kattn/layers/up_sampling1d.hpp"
#include "kattn/layers/zero_padding1d.hpp"
#include "kattn/models/custom_layers.hpp"
#include "kattn/models/nested_model.hpp"
#include "models/text.hpp"
#include "ops/arithmetic_operations.hpp"
#include "ops/matmul_operation.hpp"
#include "ops/nn_operations.hpp"
#include "ops/numpy_operations.hpp"
#include "ops/reduction_operations.hpp"
#include "ops/shape_operations.hpp"

namespace kattn::detail {

namespace {

// Every class a model may contain: one line per Keras layer class, then the keras.ops
// functions.
const std::vector<OperationEntry>& entries() {
  static const std::vector<OperationEntry> all = [] {
    std::vector<OperationEntry> list{
        {"InputLayer", kLayersModule, input_layer_from_config},
        layer_entry<Activation>("Activation"),
        layer_entry<ActivityRegularization>("ActivityRegularization"),
        layer_entry<Add>("Add"),
        layer_entry<AdditiveAttention>("AdditiveAttention"),
        layer_entry<AlphaDropout>("AlphaDropout"),
        layer_entry<Attention>("Attention"),
        layer_entry<AveragePooling1D>("AveragePooling1D"),
        layer_entry<AveragePooling2D>("AveragePooling2D"),
        layer_entry<Average>("Average"),
        layer_entry<BatchNormalization>("BatchNormalization"),
        layer_entry<Bidirectional>("Bidirectional"),
        layer_entry<Concatenate>("Concatenate"),
        layer_entry<Conv1D>("Conv1D"),
        layer_entry<Conv2D>("Conv2D"),
        layer_entry<Cropping1D>("Cropping1D"),
        layer_entry<Dense>("Dense"),
        layer_entry<Dot>("Dot"),
        layer_entry<Dropout>("Dropout"),
        layer_entry<EinsumDense>("EinsumDense"),
        layer_entry<ELU>("ELU"),
        layer_entry<Embedding>("Embedding"),
        layer_entry<Flatten>("Flatten"),
        layer_entry<GaussianDropout>("GaussianDropout"),
        layer_entry<GaussianNoise>("GaussianNoise"),
        layer_entry<GlobalAveragePooling1D>("GlobalAveragePooling1D"),
        layer_entry<GlobalAveragePooling2D>("GlobalAveragePooling2D"),
        layer_entry<GlobalMaxPooling1D>("GlobalMaxPooling1D"),
        layer_entry<GlobalMaxPooling2D>("GlobalMaxPooling2D"),
        layer_entry<GroupNormalization>("GroupNormalization"),
        layer_entry<GroupedQueryAttention>("GroupQueryAttention"),
        layer_entry<GRU>("GRU"),
        layer_entry<Identity>("Identity"),
        layer_entry<LayerNormalization>("LayerNormalization"),
        layer_entry<LeakyReLU>("LeakyReLU"),
        layer_entry<LSTM>("LSTM"),
        layer_entry<Masking>("Masking"),
        layer_entry<MaxPooling1D>("MaxPooling1D"),
        layer_entry<MaxPooling2D>("MaxPooling2D"),
        layer_entry<Maximum>("Maximum"),
        layer_entry<Minimum>("Minimum"),
        layer_entry<MultiHeadAttention>("MultiHeadAttention"),
        layer_entry<Multiply>("Multiply"),
        layer_entry<Permute>("Permute"),
        layer_entry<PReLU>("PReLU"),
        layer_entry<ReLU>("ReLU"),
        layer_entry<RepeatVector>("RepeatVector"),
        layer_entry<Reshape>("Reshape"),
        layer_entry<RMSNormalization>("RMSNormalization"),
        layer_entry<SimpleRNN>("SimpleRNN"),
        layer_entry<Softmax>("Softmax"),
        layer_entry<SpatialDropout1D>("SpatialDropout1D"),
        layer_entry<SpatialDropout2D>("SpatialDropout2D"),
        layer_entry<SpatialDropout3D>("SpatialDropout3D"),
        layer_entry<Subtract>("Subtract"),
        {"TimeDistributed", kLayersModule,
         [](const Config& config) -> std::shared_ptr<Operation> {
           return TimeDistributed::from_config(
               config, [](const Config& entry) { return operation_from_config(entry); });
         }},
        layer_entry<UnitNormalization>("UnitNormalization"),
        layer_entry<UpSampling1D>("UpSampling1D"),
        layer_entry<ZeroPadding1D>("ZeroPadding1D"),
    };
    for (auto family :
         {numpy_operation_entries, arithmetic_operation_entries, shape_operation_entries,
          reduction_operation_entries, matmul_operation_entries, nn_operation_entries}) {
      for (OperationEntry& entry : family()) list.push_back(std::move(entry));
    }
    return list;
  }();
  return all;
}

}  // namespace

std::vector<std::string> supported_class_names(const std::optional<std::string>& module) {
  std::vector<std::string> names;
  for (const OperationEntry& entry : entries()) {
    if (!module || entry.module == *module) names.push_back(entry.class_name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::string supported_classes_text() {
  std::vector<std::string> ops;
  for (const OperationEntry& entry : entries()) {
    if (entry.module != kLayersModule) ops.push_back(entry.class_name);
  }
  std::sort(ops.begin(), ops.end());
  return "the supported classes: " + join(supported_class_names(kLayersModule)) +
         "; keras.ops: " + join(ops);
}

std::string config_module(const Config& entry) {
  const Config module =
      entry.is_object() ? entry.value("module", Config(kLayersModule)) : Config(kLayersModule);
  return module.is_string() ? module.get<std::string>() : std::string();
}

bool is_model_entry(const std::string& class_name, const std::string& module) {
  return (class_name == "Functional" && module == "keras.src.models.functional") ||
         (class_name == "Sequential" && module == "keras");
}

bool is_supported(const std::string& class_name, const std::string& module) {
  return is_model_entry(class_name, module) ||
         std::any_of(entries().begin(), entries().end(), [&](const OperationEntry& entry) {
           return entry.class_name == class_name && entry.module == module;
         });
}

std::string unregistered_custom_layer(const Config& entry) {
  const Config registered = entry.is_object() ? entry.value("registered_name", Config()) : Config();
  const std::string module = config_module(entry);
  if (!registered.is_string() || module.rfind("keras", 0) == 0) return "";
  return registered.get<std::string>();
}

std::shared_ptr<Operation> operation_from_config(const Config& entry,
                                                 const KerasVersion& keras_version) {
  if (std::shared_ptr<Operation> custom = custom_layer_from_config(entry)) return custom;
  const std::string class_name = config_string(entry, "class_name");
  const std::string module = config_module(entry);
  if (is_model_entry(class_name, module)) {
    return NestedModel::from_config(class_name, config_member(entry, "config"), keras_version);
  }
  if (const std::string registered = unregistered_custom_layer(entry); !registered.empty()) {
    throw NotSupportedError(error_message(
        {class_name, config_layer_name(config_member(entry, "config"))},
        "unregistered custom layer class " + class_name + " (registered_name '" + registered +
            "', module " + (module.empty() ? "null" : module) + ")",
        "a class registered in C++ with kattn::register_custom_layer(\"" + registered +
            "\", factory), or a library that registers it given to kattn as --custom-layers "
            "LIB.so (kattn/models/custom_layers.hpp)",
        "class_name=" + class_name));
  }
  for (const OperationEntry& candidate : entries()) {
    if (candidate.class_name == class_name && candidate.module == module) {
      return candidate.from_config(config_member(entry, "config"));
    }
  }
  throw NotSupportedError(error_message({class_name, config_layer_name(entry)},
                                        "unsupported class " + class_name + " of module " + module,
                                        "one of " + supported_classes_text(),
                                        "class_name=" + class_name));
}

}  // namespace kattn::detail
