// Layers for R: made from their Keras config, called on symbolic tensors (building a functional
// model) or on R arrays (computing at once, as keras3 does on eager tensors), and their weights.
#include "kattn/models/deserialize.hpp"
#include "kattn/models/input.hpp"
#include "kattn_r.h"

namespace {

using kattn::KerasTensor;
using Arg = kattn::NodeArg<KerasTensor>;

// The arrays of a call on R arrays: each becomes a model input.
struct EagerCall {
  std::vector<KerasTensor> inputs;
  std::vector<kattn::AnyTensor> arrays;
};

// How a call's tensors are given: symbolic tensors or R arrays, never both.
enum class Mode { kNone, kSymbolic, kEager };

class CallReader {
 public:
  explicit CallReader(std::string layer) : layer_(std::move(layer)) {}

  Arg read(SEXP x, const std::string& what) {
    if (Rf_isNull(x)) return Arg();
    if (kattn_r::is_tensor_handle(x)) {
      enter(Mode::kSymbolic, what);
      return Arg::tensor(kattn_r::tensor_of(x, what));
    }
    if (TYPEOF(x) == VECSXP) {
      Arg::List items;
      for (R_xlen_t i = 0; i < Rf_xlength(x); ++i) {
        items.push_back(read(VECTOR_ELT(x, i), what + "[[" + std::to_string(i + 1) + "]]"));
      }
      return Arg::list(std::move(items));
    }
    if (kattn_r::is_array(x)) {
      enter(Mode::kEager, what);
      const kattn::DType dtype = kattn_r::natural_dtype(x, what);
      const kattn::Shape shape = kattn_r::array_shape(x);
      const std::string name = "array_" + std::to_string(eager_.inputs.size());
      eager_.inputs.push_back(kattn::Input(
          {.shape = kattn::Shape(shape.begin() + 1, shape.end()), .dtype = dtype, .name = name}));
      eager_.arrays.push_back(kattn_r::as_tensor(x, dtype, what));
      return Arg::tensor(eager_.inputs.back());
    }
    return Arg::literal(kattn_r::as_config(x));
  }

  Mode mode() const { return mode_; }
  const EagerCall& eager() const { return eager_; }

 private:
  void enter(Mode mode, const std::string& what) {
    if (mode_ != Mode::kNone && mode_ != mode) {
      Rcpp::stop(
          "%s: %s is %s, but the call's other tensors are %s; a call takes either symbolic "
          "tensors (from layer_input() and layers called on them) or R arrays",
          layer_, what, mode == Mode::kEager ? "an R array" : "a symbolic tensor",
          mode_ == Mode::kEager ? "R arrays" : "symbolic tensors");
    }
    mode_ = mode;
  }

  std::string layer_;
  Mode mode_ = Mode::kNone;
  EagerCall eager_;
};

kattn::Layer& weighted_layer(SEXP handle) {
  const std::shared_ptr<kattn::Operation> operation = kattn_r::layer_of(handle, "layer");
  kattn::Layer* layer = operation->layer();
  if (layer == nullptr) {
    Rcpp::stop("%s '%s' has no weights", operation->class_name(), operation->name());
  }
  return *layer;
}

}  // namespace

// keras.layers.deserialize({"class_name": ..., "config": ...}).
// [[Rcpp::export]]
SEXP cpp_create_layer(std::string class_name, SEXP config) {
  kattn::Config entry = {{"module", "keras.layers"},
                         {"class_name", class_name},
                         {"config", kattn_r::as_config(config)}};
  if (entry["config"].is_array() && entry["config"].empty())
    entry["config"] = kattn::Config::object();
  return kattn_r::wrap_layer(kattn::deserialize_layer(entry));
}

// [[Rcpp::export]]
Rcpp::List cpp_layer_info(SEXP layer) {
  const std::shared_ptr<kattn::Operation> operation = kattn_r::layer_of(layer, "layer");
  const kattn::Layer* weighted = operation->layer();
  return Rcpp::List::create(Rcpp::Named("name") = operation->name(),
                            Rcpp::Named("class_name") = operation->class_name(),
                            Rcpp::Named("built") = weighted == nullptr || weighted->built());
}

// [[Rcpp::export]]
SEXP cpp_layer_config(SEXP layer) {
  return kattn_r::as_r_value(kattn_r::layer_of(layer, "layer")->get_config());
}

// layer(*args, **kwargs) on symbolic tensors (symbolic outputs) or on R arrays (R arrays: a
// model of the one call, run at once; `training` is then the run's).
// [[Rcpp::export]]
SEXP cpp_call_layer(SEXP layer, Rcpp::List args, Rcpp::List kwargs) {
  const std::shared_ptr<kattn::Operation> operation = kattn_r::layer_of(layer, "layer");
  const std::string source = operation->class_name() + " '" + operation->name() + "'";
  CallReader reader(source);
  kattn::NodeArguments<KerasTensor> arguments;
  for (R_xlen_t i = 0; i < args.size(); ++i) {
    arguments.args.push_back(reader.read(args[i], "argument " + std::to_string(i + 1)));
  }
  const Rcpp::CharacterVector names =
      kwargs.size() == 0 ? Rcpp::CharacterVector() : Rcpp::CharacterVector(kwargs.names());
  for (R_xlen_t i = 0; i < kwargs.size(); ++i) {
    const std::string name(names[i]);
    arguments.kwargs.emplace(name, reader.read(kwargs[i], name));
  }
  if (reader.mode() == Mode::kNone) {
    Rcpp::stop("%s: called on no tensor; pass symbolic tensors (layer_input()) or R arrays",
               source);
  }
  kattn::PredictArgs predict;
  if (reader.mode() == Mode::kEager) {
    if (const auto training = arguments.kwargs.find("training");
        training != arguments.kwargs.end()) {
      const auto* literal = std::get_if<kattn::Config>(&training->second.value);
      if (literal == nullptr || !(literal->is_boolean() || literal->is_null())) {
        Rcpp::stop("%s: training: expected TRUE, FALSE or NULL", source);
      }
      predict.training = literal->is_boolean() && literal->get<bool>();
      arguments.kwargs.erase(training);
    }
  }
  const std::vector<KerasTensor> outputs = kattn::call_symbolic(operation, std::move(arguments));
  Rcpp::List results(outputs.size());
  if (reader.mode() == Mode::kSymbolic) {
    for (size_t i = 0; i < outputs.size(); ++i) {
      results[static_cast<R_xlen_t>(i)] = kattn_r::wrap_tensor(outputs[i]);
    }
  } else {
    const kattn::Model model(reader.eager().inputs, outputs, "call");
    const std::vector<kattn::AnyTensor> values = model.predict(reader.eager().arrays, predict);
    for (size_t i = 0; i < values.size(); ++i) {
      results[static_cast<R_xlen_t>(i)] = kattn_r::as_r_array(values[i]);
    }
  }
  return kattn_r::single_or_list(results);
}

// [[Rcpp::export]]
Rcpp::List cpp_layer_get_weights(SEXP layer) {
  const std::vector<kattn::Tensor> weights = weighted_layer(layer).get_weights();
  Rcpp::List list(weights.size());
  for (size_t i = 0; i < weights.size(); ++i) {
    list[static_cast<R_xlen_t>(i)] = kattn_r::as_r_array(weights[i]);
  }
  return list;
}

namespace kattn_r {

std::vector<kattn::Tensor> weights_like(const std::vector<kattn::Tensor>& current,
                                        const Rcpp::List& values, const std::string& source) {
  if (static_cast<size_t>(values.size()) != current.size()) {
    Rcpp::stop("%s: set_weights: expected %d weights, received %d", source,
               static_cast<int>(current.size()), static_cast<int>(values.size()));
  }
  std::vector<kattn::Tensor> tensors;
  for (size_t i = 0; i < current.size(); ++i) {
    const std::string what = source + ": weight " + std::to_string(i + 1);
    SEXP value = values[static_cast<R_xlen_t>(i)];
    kattn::Tensor tensor = kattn_r::as_float_tensor(value, what);
    const kattn::Shape& expected = current[i].shape();
    if (Rf_getAttrib(value, R_DimSymbol) == R_NilValue && tensor.size() == current[i].size()) {
      tensor = tensor.reshape(expected);
    }
    if (tensor.shape() != expected) {
      Rcpp::stop("%s: expected shape %s, received %s", what, kattn::shape_to_string(expected),
                 kattn::shape_to_string(tensor.shape()));
    }
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

SEXP single_or_list(const Rcpp::List& values) {
  return values.size() == 1 ? static_cast<SEXP>(values[0]) : static_cast<SEXP>(values);
}

}  // namespace kattn_r

// [[Rcpp::export]]
void cpp_layer_set_weights(SEXP layer, Rcpp::List values) {
  kattn::Layer& weighted = weighted_layer(layer);
  const std::string source = weighted.class_name() + " '" + weighted.name() + "'";
  weighted.set_weights(kattn_r::weights_like(weighted.get_weights(), values, source));
}

// keras.Input(shape=..., batch_shape=..., dtype=..., name=...); -1 or NA for None.
// [[Rcpp::export]]
SEXP cpp_input(Rcpp::Nullable<Rcpp::IntegerVector> shape,
               Rcpp::Nullable<Rcpp::IntegerVector> batch_shape, std::string dtype,
               std::string name) {
  const auto to_shape = [](const Rcpp::IntegerVector& dims) {
    kattn::Shape out;
    for (const int dim : dims) out.push_back(dim == NA_INTEGER ? -1 : dim);
    return out;
  };
  const std::optional<kattn::DType> type = kattn::dtype_from_name(dtype);
  if (!type) {
    Rcpp::stop("layer_input(dtype): expected \"float32\", \"int32\" or \"bool\", received \"%s\"",
               dtype);
  }
  kattn::InputArgs args{.dtype = *type, .name = name};
  if (shape.isNotNull()) args.shape = to_shape(Rcpp::IntegerVector(shape.get()));
  if (batch_shape.isNotNull()) args.batch_shape = to_shape(Rcpp::IntegerVector(batch_shape.get()));
  return kattn_r::wrap_tensor(kattn::Input(args));
}

// [[Rcpp::export]]
Rcpp::List cpp_tensor_info(SEXP tensor) {
  const KerasTensor& symbolic = kattn_r::tensor_of(tensor, "tensor");
  Rcpp::IntegerVector shape;
  for (const int64_t dim : symbolic.shape()) {
    shape.push_back(dim < 0 ? NA_INTEGER : static_cast<int>(dim));
  }
  const std::string producer = symbolic.node() ? symbolic.node()->operation->name() : "";
  return Rcpp::List::create(Rcpp::Named("shape") = shape,
                            Rcpp::Named("dtype") = std::string(kattn::dtype_name(symbolic.dtype())),
                            Rcpp::Named("producer") = producer,
                            Rcpp::Named("masked") = symbolic.keras_mask().has_value());
}

// a + b, a - b, a * b, a / b and -a on symbolic tensors, as Python's operators record them
// (keras.ops nodes); one side may be a number.
// [[Rcpp::export]]
SEXP cpp_tensor_arithmetic(std::string op, SEXP a, SEXP b) {
  const auto number = [&](SEXP x) { return Rcpp::as<double>(x); };
  const bool a_tensor = kattn_r::is_tensor_handle(a);
  const bool b_tensor = kattn_r::is_tensor_handle(b);
  const auto apply = [&](auto binary) -> KerasTensor {
    if (a_tensor && b_tensor)
      return binary(kattn_r::tensor_of(a, "e1"), kattn_r::tensor_of(b, "e2"));
    if (a_tensor) return binary(kattn_r::tensor_of(a, "e1"), number(b));
    return binary(number(a), kattn_r::tensor_of(b, "e2"));
  };
  if (op == "-" && Rf_isNull(b)) return kattn_r::wrap_tensor(-kattn_r::tensor_of(a, "e1"));
  if (op == "+")
    return kattn_r::wrap_tensor(apply([](const auto& x, const auto& y) { return x + y; }));
  if (op == "-")
    return kattn_r::wrap_tensor(apply([](const auto& x, const auto& y) { return x - y; }));
  if (op == "*")
    return kattn_r::wrap_tensor(apply([](const auto& x, const auto& y) { return x * y; }));
  if (op == "/")
    return kattn_r::wrap_tensor(apply([](const auto& x, const auto& y) { return x / y; }));
  Rcpp::stop("operator %s: symbolic tensors take +, -, * and /", op);
}
