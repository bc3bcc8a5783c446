// Functional models for R: built from symbolic tensors or loaded from .keras files; predict,
// weights, configs, saving, and training as keras3's compile / fit / evaluate.
#include "kattn_r.h"

namespace {

std::vector<kattn::KerasTensor> tensor_list(SEXP tensors, const std::string& what) {
  std::vector<kattn::KerasTensor> out;
  if (kattn_r::is_tensor_handle(tensors)) return {kattn_r::tensor_of(tensors, what)};
  if (TYPEOF(tensors) != VECSXP) {
    Rcpp::stop("%s: expected a symbolic tensor or a list of them, received %s", what,
               Rf_type2char(TYPEOF(tensors)));
  }
  for (R_xlen_t i = 0; i < Rf_xlength(tensors); ++i) {
    out.push_back(
        kattn_r::tensor_of(VECTOR_ELT(tensors, i), what + "[[" + std::to_string(i + 1) + "]]"));
  }
  return out;
}

// One array per model input, in input order, each in the input's dtype.
std::vector<kattn::AnyTensor> model_inputs(const kattn::Model& model, const Rcpp::List& x,
                                           const std::string& call) {
  const std::vector<std::string> names = model.input_names();
  if (static_cast<size_t>(x.size()) != names.size()) {
    Rcpp::stop("%s: model '%s' takes %d inputs, received %d arrays", call, model.name(),
               static_cast<int>(names.size()), static_cast<int>(x.size()));
  }
  std::vector<kattn::AnyTensor> arrays;
  for (size_t i = 0; i < names.size(); ++i) {
    const kattn::DType dtype = model.inputs()[i].dtype();
    arrays.push_back(kattn_r::as_tensor(x[static_cast<R_xlen_t>(i)], dtype,
                                        call + ": input '" + names[i] + "'"));
  }
  return arrays;
}

std::vector<kattn::Tensor> model_targets(const kattn::Model& model, const Rcpp::List& y,
                                         const std::string& call) {
  const std::vector<std::string> names = model.output_names();
  if (static_cast<size_t>(y.size()) != names.size()) {
    Rcpp::stop("%s: model '%s' has %d outputs, received %d targets", call, model.name(),
               static_cast<int>(names.size()), static_cast<int>(y.size()));
  }
  std::vector<kattn::Tensor> targets;
  for (size_t i = 0; i < names.size(); ++i) {
    targets.push_back(kattn_r::as_float_tensor(y[static_cast<R_xlen_t>(i)],
                                               call + ": target of output '" + names[i] + "'"));
  }
  return targets;
}

Rcpp::NumericVector logs_to_r(const kattn::Logs& logs) {
  Rcpp::NumericVector values;
  Rcpp::CharacterVector names;
  for (const auto& [name, value] : logs) {
    values.push_back(value);
    names.push_back(name);
  }
  values.attr("names") = names;
  return values;
}

std::vector<kattn::Layer*> layers_of(const kattn::Model& model) {
  std::vector<kattn::Layer*> layers;
  for (const std::shared_ptr<kattn::Operation>& operation : model.operations()) {
    if (kattn::Layer* layer = operation->layer()) layers.push_back(layer);
  }
  return layers;
}

}  // namespace

// keras.Model(inputs, outputs, name): a bare tensor or a list on either side, as Keras records.
// [[Rcpp::export]]
SEXP cpp_model(SEXP inputs, SEXP outputs, std::string name) {
  const bool flat_inputs = kattn_r::is_tensor_handle(inputs);
  const bool flat_outputs = kattn_r::is_tensor_handle(outputs);
  std::vector<kattn::KerasTensor> output_list = tensor_list(outputs, "keras_model(outputs)");
  if (flat_inputs && flat_outputs) {
    return kattn_r::wrap_model(
        kattn::Model(kattn_r::tensor_of(inputs, "keras_model(inputs)"), output_list.front(), name));
  }
  if (flat_inputs) {
    return kattn_r::wrap_model(kattn::Model(kattn_r::tensor_of(inputs, "keras_model(inputs)"),
                                            std::move(output_list), name));
  }
  return kattn_r::wrap_model(
      kattn::Model(tensor_list(inputs, "keras_model(inputs)"), std::move(output_list), name));
}

// [[Rcpp::export]]
Rcpp::List cpp_model_info(SEXP model) {
  const kattn::Model& m = kattn_r::model_of(model, "model");
  Rcpp::CharacterVector dtypes;
  for (const kattn::KerasTensor& input : m.inputs()) {
    dtypes.push_back(std::string(kattn::dtype_name(input.dtype())));
  }
  return Rcpp::List::create(
      Rcpp::Named("name") = m.name(), Rcpp::Named("input_names") = m.input_names(),
      Rcpp::Named("input_dtypes") = dtypes, Rcpp::Named("output_names") = m.output_names(),
      Rcpp::Named("compiled") = !m.get_compile_config().is_null());
}

// [[Rcpp::export]]
SEXP cpp_predict(SEXP model, Rcpp::List x, bool training) {
  const kattn::Model& m = kattn_r::model_of(model, "model");
  const std::vector<kattn::AnyTensor> outputs =
      m.predict(model_inputs(m, x, "predict"), {.training = training});
  Rcpp::List results(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    results[static_cast<R_xlen_t>(i)] = kattn_r::as_r_array(outputs[i]);
  }
  return kattn_r::single_or_list(results);
}

// [[Rcpp::export]]
std::string cpp_summary(SEXP model) { return kattn_r::model_of(model, "model").summary(); }

// [[Rcpp::export]]
SEXP cpp_model_config(SEXP model) {
  return kattn_r::as_r_value(kattn_r::model_of(model, "model").to_config());
}

// Keras's model.get_weights(): every layer's weights, layers in model.layers order.
// [[Rcpp::export]]
Rcpp::List cpp_model_get_weights(SEXP model) {
  Rcpp::List list;
  for (const kattn::Layer* layer : layers_of(kattn_r::model_of(model, "model"))) {
    for (const kattn::Tensor& weight : layer->get_weights()) {
      list.push_back(kattn_r::as_r_array(weight));
    }
  }
  return list;
}

// [[Rcpp::export]]
void cpp_model_set_weights(SEXP model, Rcpp::List values) {
  const kattn::Model& m = kattn_r::model_of(model, "model");
  std::vector<kattn::Tensor> current;
  for (const kattn::Layer* layer : layers_of(m)) {
    for (kattn::Tensor& weight : layer->get_weights()) current.push_back(std::move(weight));
  }
  // Every value is checked before any layer changes.
  std::vector<kattn::Tensor> tensors =
      kattn_r::weights_like(current, values, "model '" + m.name() + "'");
  size_t next = 0;
  for (kattn::Layer* layer : layers_of(m)) {
    const size_t count = layer->weights().size();
    layer->set_weights(
        std::vector<kattn::Tensor>(tensors.begin() + static_cast<ptrdiff_t>(next),
                                   tensors.begin() + static_cast<ptrdiff_t>(next + count)));
    next += count;
  }
}

// The model's layers (InputLayer and keras.ops nodes aside), named.
// [[Rcpp::export]]
Rcpp::List cpp_model_layers(SEXP model) {
  Rcpp::List layers;
  Rcpp::CharacterVector names;
  for (const std::shared_ptr<kattn::Operation>& operation :
       kattn_r::model_of(model, "model").operations()) {
    if (operation->layer() == nullptr) continue;
    layers.push_back(kattn_r::wrap_layer(operation));
    names.push_back(operation->name());
  }
  layers.attr("names") = names;
  return layers;
}

// load_model; with compile = false, the same model rebuilt from its config and weights without
// the file's compile_config.
// [[Rcpp::export]]
SEXP cpp_load_model(std::string path, bool compile) {
  kattn::Model model = kattn::load_model(path);
  if (compile) return kattn_r::wrap_model(std::move(model));
  kattn::Model uncompiled = kattn::Model::from_config(model.to_config(), model.keras_version());
  uncompiled.load_weights(model.weight_store());
  return kattn_r::wrap_model(std::move(uncompiled));
}

// [[Rcpp::export]]
void cpp_save_model(SEXP model, std::string path) {
  kattn::save_model(kattn_r::model_of(model, "model"), path);
}

// Keras's compile_from_config: {"optimizer": ..., "loss": ..., "metrics": [...]}.
// [[Rcpp::export]]
void cpp_compile(SEXP model, SEXP compile_config) {
  kattn_r::model_of(model, "model").compile_from_config(kattn_r::as_config(compile_config));
}

// [[Rcpp::export]]
Rcpp::List cpp_fit(SEXP model, Rcpp::List x, Rcpp::List y, int batch_size, int epochs, bool verbose,
                   bool shuffle, Rcpp::Nullable<Rcpp::NumericVector> seed,
                   Rcpp::Nullable<Rcpp::List> validation_x,
                   Rcpp::Nullable<Rcpp::List> validation_y) {
  kattn::Model& m = kattn_r::model_of(model, "model");
  kattn::FitArgs args{
      .batch_size = batch_size,
      .epochs = epochs,
      .verbose = verbose ? kattn::FitArgs::Verbose::kLine : kattn::FitArgs::Verbose::kSilent,
      .shuffle = shuffle,
      .progress = &Rcpp::Rcout};
  if (seed.isNotNull()) args.seed = static_cast<uint64_t>(Rcpp::as<double>(seed.get()));
  if (validation_x.isNotNull()) {
    args.validation_x = model_inputs(m, Rcpp::List(validation_x.get()), "fit(validation_data)");
    args.validation_y = model_targets(m, Rcpp::List(validation_y.get()), "fit(validation_data)");
  }
  const kattn::History history = m.fit(model_inputs(m, x, "fit"), model_targets(m, y, "fit"), args);
  Rcpp::List metrics;
  Rcpp::CharacterVector names;
  for (const auto& [name, values] : history.history) {
    metrics.push_back(Rcpp::NumericVector(values.begin(), values.end()));
    names.push_back(name);
  }
  metrics.attr("names") = names;
  return metrics;
}

// [[Rcpp::export]]
Rcpp::NumericVector cpp_evaluate(SEXP model, Rcpp::List x, Rcpp::List y, int batch_size) {
  const kattn::Model& m = kattn_r::model_of(model, "model");
  return logs_to_r(
      m.evaluate(model_inputs(m, x, "evaluate"), model_targets(m, y, "evaluate"), batch_size));
}
