// R arrays (column-major) to kattn's row-major tensors and back, and .npy files.
#include <cmath>
#include <limits>

#include "kattn/io/npy.hpp"
#include "kattn_r.h"

namespace kattn_r {
namespace {

// Calls visit(c, r) for every element: c its offset in row-major (C) order, r its offset in the
// column-major R array of the same dims.
template <typename Visit>
void for_each_element(const kattn::Shape& shape, Visit visit) {
  const int64_t total = kattn::num_elements(shape);
  if (total == 0) return;
  const size_t rank = shape.size();
  std::vector<int64_t> r_strides(rank), index(rank, 0);
  int64_t stride = 1;
  for (size_t axis = 0; axis < rank; ++axis) {
    r_strides[axis] = stride;
    stride *= shape[axis];
  }
  int64_t r = 0;
  for (int64_t c = 0; c < total; ++c) {
    visit(c, r);
    for (size_t axis = rank; axis-- > 0;) {
      if (++index[axis] < shape[axis]) {
        r += r_strides[axis];
        break;
      }
      r -= (shape[axis] - 1) * r_strides[axis];
      index[axis] = 0;
    }
  }
}

std::string type_name(SEXP x) { return Rf_type2char(TYPEOF(x)); }

[[noreturn]] void refuse(const std::string& what, const std::string& expected, SEXP x) {
  Rcpp::stop("%s: expected %s, received %s", what, expected, type_name(x));
}

template <typename Tensor, typename Read>
Tensor from_r(SEXP x, Read read) {
  Tensor tensor(array_shape(x));
  auto* out = tensor.data();
  for_each_element(tensor.shape(), [&](int64_t c, int64_t r) { out[c] = read(r); });
  return tensor;
}

template <int RType, typename Tensor, typename Write>
SEXP to_r(const Tensor& source, Write write) {
  const auto tensor = source.contiguous();
  const kattn::Shape& shape = tensor.shape();
  Rcpp::Vector<RType> out(static_cast<R_xlen_t>(tensor.size()));
  const auto* in = tensor.data();
  for_each_element(shape, [&](int64_t c, int64_t r) { out[r] = write(in[c]); });
  if (!shape.empty()) {
    Rcpp::IntegerVector dim(shape.begin(), shape.end());
    out.attr("dim") = dim;
  }
  return out;
}

}  // namespace

kattn::Shape array_shape(SEXP x) {
  SEXP dim = Rf_getAttrib(x, R_DimSymbol);
  if (dim == R_NilValue) return {static_cast<int64_t>(Rf_xlength(x))};
  const Rcpp::IntegerVector dims(dim);
  return kattn::Shape(dims.begin(), dims.end());
}

bool is_array(SEXP x) {
  if (Rf_getAttrib(x, R_DimSymbol) != R_NilValue) return true;
  return (Rf_isReal(x) || Rf_isInteger(x) || Rf_isLogical(x)) && Rf_xlength(x) > 1;
}

kattn::DType natural_dtype(SEXP x, const std::string& what) {
  switch (TYPEOF(x)) {
    case REALSXP:
      return kattn::DType::kFloat32;
    case INTSXP:
      return kattn::DType::kInt32;
    case LGLSXP:
      return kattn::DType::kBool;
    default:
      refuse(what, "a double, integer or logical array", x);
  }
}

kattn::Tensor as_float_tensor(SEXP x, const std::string& what) {
  if (TYPEOF(x) == REALSXP) {
    const double* values = REAL(x);
    return from_r<kattn::Tensor>(x, [&](int64_t r) { return static_cast<float>(values[r]); });
  }
  if (TYPEOF(x) == INTSXP) {
    const int* values = INTEGER(x);
    return from_r<kattn::Tensor>(x, [&](int64_t r) {
      return values[r] == NA_INTEGER ? std::numeric_limits<float>::quiet_NaN()
                                     : static_cast<float>(values[r]);
    });
  }
  refuse(what + " (float32)", "a numeric array", x);
}

kattn::Int32Tensor as_int32_tensor(SEXP x, const std::string& what) {
  if (TYPEOF(x) == INTSXP) {
    const int* values = INTEGER(x);
    return from_r<kattn::Int32Tensor>(x, [&](int64_t r) {
      if (values[r] == NA_INTEGER) Rcpp::stop("%s (int32): expected no NA, received NA", what);
      return static_cast<int32_t>(values[r]);
    });
  }
  if (TYPEOF(x) == REALSXP) {
    const double* values = REAL(x);
    return from_r<kattn::Int32Tensor>(x, [&](int64_t r) {
      const double value = values[r];
      if (!(std::floor(value) == value) || std::fabs(value) > 2147483647.0) {
        Rcpp::stop("%s (int32): expected whole numbers within int32, received %g", what, value);
      }
      return static_cast<int32_t>(value);
    });
  }
  refuse(what + " (int32)", "an integer or whole-number array", x);
}

kattn::Mask as_mask(SEXP x, const std::string& what) {
  if (TYPEOF(x) != LGLSXP) refuse(what + " (bool)", "a logical array", x);
  const int* values = LOGICAL(x);
  return from_r<kattn::Mask>(x, [&](int64_t r) {
    if (values[r] == NA_LOGICAL) Rcpp::stop("%s (bool): expected TRUE or FALSE, received NA", what);
    return values[r] != 0;
  });
}

kattn::AnyTensor as_tensor(SEXP x, kattn::DType dtype, const std::string& what) {
  switch (dtype) {
    case kattn::DType::kFloat32:
      return as_float_tensor(x, what);
    case kattn::DType::kInt32:
      return as_int32_tensor(x, what);
    case kattn::DType::kBool:
      return as_mask(x, what);
  }
  Rcpp::stop("%s: unknown dtype", what);
}

SEXP as_r_array(const kattn::Tensor& tensor) {
  return to_r<REALSXP>(tensor, [](float value) { return static_cast<double>(value); });
}

SEXP as_r_array(const kattn::TensorF64& tensor) {
  return to_r<REALSXP>(tensor, [](double value) { return value; });
}

SEXP as_r_array(const kattn::Int32Tensor& tensor) {
  return to_r<INTSXP>(tensor, [](int32_t value) { return static_cast<int>(value); });
}

SEXP as_r_array(const kattn::Mask& tensor) {
  return to_r<LGLSXP>(tensor, [](bool value) { return value ? 1 : 0; });
}

SEXP as_r_array(const kattn::AnyTensor& tensor) {
  return std::visit([](const auto& typed) { return as_r_array(typed); }, tensor);
}

}  // namespace kattn_r

// [[Rcpp::export]]
SEXP cpp_read_npy(std::string path) {
  return std::visit(
      [](const auto& typed) -> SEXP {
        if constexpr (std::is_same_v<std::decay_t<decltype(typed)>, kattn::Int64Tensor>) {
          // R has no 64-bit integers: int64 arrives as doubles, exact up to 2^53.
          const kattn::Int64Tensor values = typed.contiguous();
          kattn::TensorF64 doubles(values.shape());
          for (int64_t i = 0; i < values.size(); ++i) {
            doubles.data()[i] = static_cast<double>(values.data()[i]);
          }
          return kattn_r::as_r_array(doubles);
        } else {
          return kattn_r::as_r_array(typed);
        }
      },
      kattn::read_npy(path));
}

// [[Rcpp::export]]
void cpp_write_npy(SEXP x, std::string path) {
  const std::string what = "write_npy(x)";
  switch (kattn_r::natural_dtype(x, what)) {
    case kattn::DType::kFloat32:
      kattn::write_npy(path, kattn_r::as_float_tensor(x, what));
      break;
    case kattn::DType::kInt32:
      kattn::write_npy(path, kattn_r::as_int32_tensor(x, what));
      break;
    case kattn::DType::kBool:
      kattn::write_npy(path, kattn_r::as_mask(x, what));
      break;
  }
}
