#' kattn: Keras attention layers and models without Python
#'
#' The four attention layers of Keras 3 and the functional API around them, with keras3's
#' names and arguments, computed by the kattn C++ library: no Python, TensorFlow or JAX.
#'
#' Layers are functions, as in keras3: `layer_attention()` gives a layer, which is then called
#' on inputs; `layer_attention(list(query, value))` makes one and calls it at once. Called on
#' symbolic tensors (from [layer_input()]) a layer builds a model graph; called on R arrays it
#' computes the result.
#'
#' R arrays index as the numpy arrays of the same dims: element `[b, t, d]` of an array of dim
#' `c(B, T, D)` is element `(b, t, d)` of the Keras tensor. Doubles become float32, integers
#' int32 and logicals bool (masks: `TRUE` keeps a step). Errors are kattn's, as R errors of
#' class `kattn::ValueError`, `kattn::FileError` or `kattn::NotSupportedError`.
#'
#' @useDynLib kattn, .registration = TRUE
#' @importFrom Rcpp sourceCpp
#' @keywords internal
"_PACKAGE"

#' Pipe
#'
#' The magrittr pipe, as keras3 exports it: `x %>% layer_dense(8)` is `layer_dense(x, 8)`.
#'
#' @importFrom magrittr %>%
#' @name %>%
#' @rdname pipe
#' @param lhs A value.
#' @param rhs A function call using the value.
#' @return The result of the call.
#' @export
NULL
