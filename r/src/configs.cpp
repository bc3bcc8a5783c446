// R values to Keras configs (JSON) and back, and the external pointers R holds.
#include <limits>

#include "kattn_r.h"

namespace kattn_r {
namespace {

kattn::Config scalar(SEXP x, R_xlen_t i) {
  switch (TYPEOF(x)) {
    case LGLSXP:
      return LOGICAL(x)[i] == NA_LOGICAL ? kattn::Config() : kattn::Config(LOGICAL(x)[i] != 0);
    case INTSXP:
      return INTEGER(x)[i] == NA_INTEGER ? kattn::Config() : kattn::Config(INTEGER(x)[i]);
    case REALSXP:
      return ISNA(REAL(x)[i]) ? kattn::Config() : kattn::Config(REAL(x)[i]);
    case STRSXP:
      return STRING_ELT(x, i) == NA_STRING ? kattn::Config()
                                           : kattn::Config(Rf_translateCharUTF8(STRING_ELT(x, i)));
    default:
      Rcpp::stop("a Keras config holds NULL, lists, logicals, numbers and strings; received %s",
                 Rf_type2char(TYPEOF(x)));
  }
}

bool has_names(SEXP x) {
  SEXP names = Rf_getAttrib(x, R_NamesSymbol);
  if (names == R_NilValue) return false;
  for (R_xlen_t i = 0; i < Rf_xlength(names); ++i) {
    if (STRING_ELT(names, i) == NA_STRING || CHAR(STRING_ELT(names, i))[0] == '\0') return false;
  }
  return true;
}

}  // namespace

kattn::Config as_config(SEXP x) {
  if (Rf_isNull(x)) return nullptr;
  if (TYPEOF(x) == VECSXP) {
    if (has_names(x)) {
      kattn::Config object = kattn::Config::object();
      SEXP names = Rf_getAttrib(x, R_NamesSymbol);
      for (R_xlen_t i = 0; i < Rf_xlength(x); ++i) {
        object[Rf_translateCharUTF8(STRING_ELT(names, i))] = as_config(VECTOR_ELT(x, i));
      }
      return object;
    }
    kattn::Config array = kattn::Config::array();
    for (R_xlen_t i = 0; i < Rf_xlength(x); ++i) array.push_back(as_config(VECTOR_ELT(x, i)));
    return array;
  }
  if (Rf_xlength(x) == 1 && Rf_getAttrib(x, R_DimSymbol) == R_NilValue) return scalar(x, 0);
  kattn::Config array = kattn::Config::array();
  for (R_xlen_t i = 0; i < Rf_xlength(x); ++i) array.push_back(scalar(x, i));
  return array;
}

SEXP as_r_value(const kattn::Config& config) {
  switch (config.type()) {
    case kattn::Config::value_t::null:
    case kattn::Config::value_t::discarded:
      return R_NilValue;
    case kattn::Config::value_t::boolean:
      return Rcpp::wrap(config.get<bool>());
    case kattn::Config::value_t::number_integer:
    case kattn::Config::value_t::number_unsigned: {
      if (config.is_number_integer() && config.get<int64_t>() > std::numeric_limits<int>::min() &&
          config.get<int64_t>() <= std::numeric_limits<int>::max()) {
        return Rcpp::wrap(static_cast<int>(config.get<int64_t>()));
      }
      return Rcpp::wrap(config.get<double>());
    }
    case kattn::Config::value_t::number_float:
      return Rcpp::wrap(config.get<double>());
    case kattn::Config::value_t::string:
      return Rcpp::wrap(config.get<std::string>());
    case kattn::Config::value_t::array: {
      Rcpp::List list(config.size());
      for (size_t i = 0; i < config.size(); ++i)
        list[static_cast<R_xlen_t>(i)] = as_r_value(config[i]);
      return list;
    }
    case kattn::Config::value_t::object: {
      Rcpp::List list(config.size());
      Rcpp::CharacterVector names(config.size());
      R_xlen_t i = 0;
      for (const auto& [key, value] : config.items()) {
        list[i] = as_r_value(value);
        names[i] = key;
        ++i;
      }
      list.attr("names") = names;
      return list;
    }
    case kattn::Config::value_t::binary:
      break;
  }
  Rcpp::stop("a config value R cannot hold");
}

namespace {

SEXP tag(const char* name) { return Rf_install(name); }

template <typename Pointer>
Pointer handle_of(SEXP handle, const char* kind, const std::string& what) {
  if (TYPEOF(handle) != EXTPTRSXP || R_ExternalPtrTag(handle) != tag(kind)) {
    Rcpp::stop("%s: expected a %s, received %s", what, kind, Rf_type2char(TYPEOF(handle)));
  }
  Pointer pointer(handle);
  if (pointer.get() == nullptr) {
    Rcpp::stop("%s: the %s no longer exists (saved R sessions do not keep kattn objects)", what,
               kind);
  }
  return pointer;
}

}  // namespace

SEXP wrap_layer(std::shared_ptr<kattn::Operation> operation) {
  return LayerPtr(new std::shared_ptr<kattn::Operation>(std::move(operation)), true,
                  tag("kattn layer"));
}

SEXP wrap_tensor(kattn::KerasTensor tensor) {
  TensorPtr handle(new kattn::KerasTensor(std::move(tensor)), true, tag("kattn tensor"));
  handle.attr("class") = "kattn_tensor";
  return handle;
}

SEXP wrap_model(kattn::Model model) {
  ModelPtr handle(
      new std::shared_ptr<kattn::Model>(std::make_shared<kattn::Model>(std::move(model))), true,
      tag("kattn model"));
  handle.attr("class") = "kattn_model";
  return handle;
}

std::shared_ptr<kattn::Operation> layer_of(SEXP handle, const std::string& what) {
  return *handle_of<LayerPtr>(handle, "kattn layer", what);
}

const kattn::KerasTensor& tensor_of(SEXP handle, const std::string& what) {
  return *handle_of<TensorPtr>(handle, "kattn tensor", what);
}

kattn::Model& model_of(SEXP handle, const std::string& what) {
  return **handle_of<ModelPtr>(handle, "kattn model", what);
}

bool is_tensor_handle(SEXP x) {
  return TYPEOF(x) == EXTPTRSXP && R_ExternalPtrTag(x) == tag("kattn tensor");
}

}  // namespace kattn_r
