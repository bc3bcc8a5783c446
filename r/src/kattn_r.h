// What the R bindings share: R values to kattn's tensors and configs and back, and the external
// pointers that hold kattn's objects for R.
#pragma once

#include <Rcpp.h>

#include <memory>
#include <string>

#include "kattn/core/config.hpp"
#include "kattn/core/keras_tensor.hpp"
#include "kattn/core/operation.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/core/value.hpp"
#include "kattn/models/model.hpp"

namespace kattn_r {

// R arrays index as numpy arrays of the same dims do (keras3 converts them with C order
// semantics): element [i, j, k] of an R array of dim c(B, T, D) is element (i, j, k) of the
// (B, T, D) tensor. A vector without dim is a rank-1 tensor; `what` names the value in errors.
kattn::Shape array_shape(SEXP x);
kattn::Tensor as_float_tensor(SEXP x, const std::string& what);
kattn::Int32Tensor as_int32_tensor(SEXP x, const std::string& what);
kattn::Mask as_mask(SEXP x, const std::string& what);
// The tensor of `dtype` from an R array (numbers for float32 and int32, logicals for bool).
kattn::AnyTensor as_tensor(SEXP x, kattn::DType dtype, const std::string& what);
// The dtype an R array becomes when nothing else says: double -> float32, integer -> int32,
// logical -> bool (as numpy converts them).
kattn::DType natural_dtype(SEXP x, const std::string& what);
// True for R values that are arrays rather than call literals: anything with a dim attribute,
// and numeric or logical vectors longer than one.
bool is_array(SEXP x);

// An R array of the tensor's dims (a plain number for a rank-0 tensor).
SEXP as_r_array(const kattn::Tensor& tensor);
SEXP as_r_array(const kattn::TensorF64& tensor);
SEXP as_r_array(const kattn::Int32Tensor& tensor);
SEXP as_r_array(const kattn::Mask& tensor);
SEXP as_r_array(const kattn::AnyTensor& tensor);

// The R values of set_weights() as tensors of the shapes `current` has: an R array must have
// those dims; a vector without dims is read in C order when its length fits. `source` names the
// layer or model in errors.
std::vector<kattn::Tensor> weights_like(const std::vector<kattn::Tensor>& current,
                                        const Rcpp::List& values, const std::string& source);
// One value as itself, several as the list (keras3 returns a list for several outputs).
SEXP single_or_list(const Rcpp::List& values);

// R values to JSON: NULL -> null, a named list -> an object, any other list -> an array, a
// length-one vector -> a scalar (NA -> null), a longer vector -> an array. And back: objects
// become named lists, arrays unnamed lists, integers R integers where they fit.
kattn::Config as_config(SEXP x);
SEXP as_r_value(const kattn::Config& config);

// The objects R holds. Each R object keeps its own shared pointer.
using LayerPtr = Rcpp::XPtr<std::shared_ptr<kattn::Operation>>;
using TensorPtr = Rcpp::XPtr<kattn::KerasTensor>;
using ModelPtr = Rcpp::XPtr<std::shared_ptr<kattn::Model>>;

SEXP wrap_layer(std::shared_ptr<kattn::Operation> operation);
SEXP wrap_tensor(kattn::KerasTensor tensor);
SEXP wrap_model(kattn::Model model);
// The object behind an R handle; an R error naming `what` when it is not one.
std::shared_ptr<kattn::Operation> layer_of(SEXP handle, const std::string& what);
const kattn::KerasTensor& tensor_of(SEXP handle, const std::string& what);
kattn::Model& model_of(SEXP handle, const std::string& what);
// True for an external pointer made by wrap_tensor.
bool is_tensor_handle(SEXP x);

}  // namespace kattn_r
