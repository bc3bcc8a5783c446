# Layers as keras3 makes them: a layer is an R function of class `kattn_layer`; calling it on
# symbolic tensors adds a node to a model graph, calling it on R arrays computes the result.

# keras3's integer arguments: R doubles become integers (vectors stay vectors).
as_integer_arg <- function(x, name) {
  if (is.null(x) || is.integer(x)) return(x)
  if (is.list(x)) return(lapply(x, as_integer_arg, name = name))
  if (!is.numeric(x) || any(is.na(x) | x != round(x))) {
    stop(sprintf("`%s`: expected whole numbers, received %s", name, deparse(x)), call. = FALSE)
  }
  as.integer(x)
}

# keras3's 1-based axes: a positive axis counts from 1 in R and from 0 in Keras; negative
# axes count from the end in both.
as_axis_arg <- function(x, name) {
  if (is.null(x)) return(NULL)
  if (length(x) > 1) return(lapply(x, as_axis_arg, name = name))
  axis <- as_integer_arg(x, name)
  if (axis == 0L) stop(sprintf("`%s` is 1-based, received 0", name), call. = FALSE)
  if (axis > 0L) axis - 1L else axis
}

# The config of the calling layer_*() function: every argument but `object` / `inputs` and the
# ones left NULL (Keras's default then applies), with `...` (name, dtype, trainable and any
# other constructor argument). `integers` and `axes` name the arguments keras3 converts.
capture_config <- function(env, fn, integers = character(), axes = character()) {
  params <- setdiff(names(formals(fn)), c("object", "inputs", "..."))
  args <- lapply(stats::setNames(nm = params), function(param) get(param, envir = env))
  if ("..." %in% names(formals(fn))) args <- c(args, eval(quote(list(...)), env))
  for (name in intersect(integers, names(args))) args[[name]] <- as_integer_arg(args[[name]], name)
  for (name in intersect(axes, names(args))) args[[name]] <- as_axis_arg(args[[name]], name)
  args[!vapply(args, is.null, logical(1))]
}

# Makes the layer of `class_name` from the calling function's arguments. Returns it, or, when
# the caller was given its first argument (`object` or `inputs`), the layer called on that
# (keras3's composition): as the one argument, or with `spread`, a list as the call's
# arguments (list(query, value, attention_mask = m) is layer(query, value, attention_mask = m)).
create_layer <- function(class_name, integers = character(), axes = character(),
                         spread = FALSE) {
  env <- parent.frame()
  fn <- sys.function(sys.parent())
  layer <- new_layer(class_name, capture_config(env, fn, integers, axes))
  target <- intersect(names(formals(fn))[1], c("object", "inputs"))
  if (length(target) == 0 || eval(call("missing", as.name(target)), env)) return(layer)
  object <- get(target, envir = env)
  if (is.null(object)) return(layer)
  if (!spread) return(layer(object))
  do.call(layer, if (is.list(object)) object else list(object))
}

# An unnamed layer takes kattn's auto name, numbered as Keras numbers them in the session (the
# first unnamed Dense is "dense", the next "dense_1"), with the same counters as kattn's C++ layers
# and operation nodes.
new_layer <- function(class_name, config) {
  layer_object(cpp_create_layer(class_name, config))
}

layer_object <- function(handle) {
  force(handle)
  layer <- function(...) call_layer(handle, ...)
  structure(layer, class = c("kattn_layer", "function"), handle = handle)
}

layer_handle <- function(layer) {
  handle <- attr(layer, "handle", exact = TRUE)
  if (!inherits(layer, "kattn_layer") || is.null(handle)) {
    stop("expected a kattn layer (from a layer_*() function)", call. = FALSE)
  }
  handle
}

# layer(...): unnamed arguments are Keras's positional call arguments, named ones its keywords
# (mask, training, use_causal_mask, return_attention_scores, attention_mask, ...).
call_layer <- function(handle, ...) {
  args <- list(...)
  named <- if (is.null(names(args))) rep(FALSE, length(args)) else names(args) != ""
  cpp_call_layer(handle, unname(args[!named]), args[named])
}

#' @export
print.kattn_layer <- function(x, ...) {
  info <- cpp_layer_info(layer_handle(x))
  cat(sprintf("<%s name=%s, built=%s>\n", info$class_name, info$name, info$built))
  invisible(x)
}

#' Symbolic tensors
#'
#' [layer_input()] and layers called on symbolic tensors give `kattn_tensor`s, Keras's
#' KerasTensors: a shape (`NA` for Keras's `None`), a dtype and the layer that made them. `+`,
#' `-`, `*` and `/` on them (or with a number) record keras.ops nodes, as Python's operators
#' do: `x + res` is a residual connection.
#'
#' @param x,e1,e2 Symbolic tensors (or a number for one side of an operator).
#' @param ... Not used.
#' @return `print()` returns `x` invisibly; the operators return a symbolic tensor.
#' @name kattn_tensor
NULL

#' @rdname kattn_tensor
#' @export
print.kattn_tensor <- function(x, ...) {
  info <- cpp_tensor_info(x)
  dims <- ifelse(is.na(info$shape), "None", as.character(info$shape))
  cat(sprintf("<KerasTensor shape=(%s), dtype=%s, name=%s>\n",
              paste(dims, collapse = ", "), info$dtype, info$producer))
  invisible(x)
}

#' @rdname kattn_tensor
#' @export
Ops.kattn_tensor <- function(e1, e2) {
  if (!.Generic %in% c("+", "-", "*", "/")) {
    stop(sprintf("symbolic tensors take +, -, * and /, not %s", .Generic), call. = FALSE)
  }
  if (missing(e2)) {
    return(if (.Generic == "-") cpp_tensor_arithmetic("-", e1, NULL) else e1)
  }
  cpp_tensor_arithmetic(.Generic, e1, e2)
}

#' An input of a functional model
#'
#' keras3's `layer_input()` (Keras's `keras.Input`): the symbolic tensor a functional model
#' starts from.
#'
#' @param shape The shape without the batch axis: `NA` (or `NULL` in a list) for a size left
#'   open, e.g. `c(NA)` for token ids of any length, `c(NA, 8)` for sequences of 8 features.
#' @param batch_size A fixed batch size, or `NULL`.
#' @param dtype `"float32"` (the default), `"int32"` or `"bool"`.
#' @param sparse,tensor,optional Not supported: only `NULL`/`FALSE`.
#' @param batch_shape The whole shape with the batch axis, instead of `shape`.
#' @param name The input's name (unique within a model; Keras's numbered default otherwise).
#' @return A symbolic tensor ([kattn_tensor]).
#' @export
layer_input <- function(shape = NULL, batch_size = NULL, dtype = NULL, sparse = NULL,
                        batch_shape = NULL, name = NULL, tensor = NULL, optional = FALSE) {
  if (!is.null(sparse) && !identical(sparse, FALSE)) stop("layer_input(sparse): kattn has no sparse tensors", call. = FALSE)
  if (!is.null(tensor)) stop("layer_input(tensor): not supported", call. = FALSE)
  if (!identical(optional, FALSE)) stop("layer_input(optional): not supported", call. = FALSE)
  shape <- normalize_shape(shape)
  batch_shape <- normalize_shape(batch_shape)
  if (!is.null(batch_size)) {
    if (is.null(shape)) stop("layer_input(batch_size) needs `shape`", call. = FALSE)
    batch_shape <- c(as_integer_arg(batch_size, "batch_size"), shape)
    shape <- NULL
  }
  if (is.null(shape) && is.null(batch_shape)) {
    stop("layer_input(): give `shape` or `batch_shape`", call. = FALSE)
  }
  cpp_input(shape, batch_shape, if (is.null(dtype)) "float32" else dtype,
            if (is.null(name)) "" else name)
}

normalize_shape <- function(shape) {
  if (is.null(shape)) return(NULL)
  if (is.list(shape)) shape <- vapply(shape, function(d) if (is.null(d)) NA_real_ else as.numeric(d), 1)
  shape[is.na(shape)] <- NA
  if (any(!is.na(shape) & (shape < 0 | shape != round(shape)))) {
    stop(sprintf("shape: expected sizes (whole numbers, NA for any), received %s",
                 deparse(shape)), call. = FALSE)
  }
  as.integer(shape)
}
