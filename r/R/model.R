# Functional models: built from symbolic tensors, loaded from .keras files, run and saved.

#' Functional models
#'
#' `keras_model()` makes a Keras functional model from its inputs and outputs (symbolic
#' tensors from [layer_input()] and layers called on them); `load_model()` loads a `.keras`
#' file Keras (or kattn) saved, compiled when it was saved compiled, or a Keras 2 `.h5` model
#' file (tf.keras 2's `save_model(model, "model.h5")`), uncompiled; `save_model()` writes the
#' `.keras` file Keras writes, which Keras's `load_model()` loads.
#'
#' @param inputs,outputs A symbolic tensor or a list of them.
#' @param ... `keras_model()`: `name`. Other functions: not supported (an error names them).
#' @param model `save_model()`: the model. `load_model()`: the `.keras` or `.h5` file's path.
#' @param filepath The `.keras` file to write.
#' @param overwrite Whether an existing file may be replaced.
#' @param zipped Only `NULL` or `TRUE`: kattn writes zipped `.keras` files.
#' @param custom_objects Not supported (`NULL`): kattn's custom layers are registered in C++.
#' @param compile Whether a model saved compiled loads compiled (`FALSE`: its compile
#'   configuration is dropped).
#' @param safe_mode Accepted for keras3's signature: kattn never runs code from a file.
#' @return `keras_model()`, `load_model()`: a model (`kattn_model`). `save_model()`: `model`,
#'   invisibly.
#' @examples
#' x <- layer_input(shape = c(NA, 4))
#' y <- layer_attention(list(x, x))
#' model <- keras_model(x, y)
#' path <- tempfile(fileext = ".keras")
#' save_model(model, path)
#' reloaded <- load_model(path)
#' @export
keras_model <- function(inputs, outputs, ...) {
  args <- list(...)
  unknown <- setdiff(names(args), "name")
  if (length(unknown) > 0 || (length(args) > 0 && is.null(names(args)))) {
    stop(sprintf("keras_model(): kattn takes `name` besides inputs and outputs, received %s",
                 paste(deparse(names(args)), collapse = "")), call. = FALSE)
  }
  name <- if (is.null(args$name)) "" else args$name  # "": kattn's auto name, "functional", ...
  cpp_model(inputs, outputs, name)
}

#' @rdname keras_model
#' @export
load_model <- function(model, custom_objects = NULL, compile = TRUE, safe_mode = TRUE) {
  if (!is.null(custom_objects)) {
    stop("load_model(custom_objects): kattn's custom layers are registered in C++", call. = FALSE)
  }
  cpp_load_model(path.expand(model), isTRUE(compile))
}

#' @rdname keras_model
#' @export
save_model <- function(model, filepath, overwrite = FALSE, zipped = NULL, ...) {
  check_no_dots(list(...), "save_model")
  if (!is.null(zipped) && !isTRUE(zipped)) {
    stop("save_model(zipped): kattn writes zipped .keras files only", call. = FALSE)
  }
  if (!grepl("\\.keras$", filepath)) {
    stop(sprintf("save_model(filepath): expected a path ending in .keras, received '%s'",
                 filepath), call. = FALSE)
  }
  if (file.exists(filepath) && !isTRUE(overwrite)) {
    stop(sprintf("save_model(): '%s' exists; pass overwrite = TRUE to replace it", filepath),
         call. = FALSE)
  }
  cpp_save_model(model, path.expand(filepath))
  invisible(model)
}

check_no_dots <- function(dots, fn) {
  if (length(dots) == 0) return(invisible())
  labels <- if (is.null(names(dots))) rep("", length(dots)) else names(dots)
  labels[labels == ""] <- "an unnamed argument"
  stop(sprintf("%s(): kattn does not support %s", fn, paste(labels, collapse = ", ")),
       call. = FALSE)
}

# The model's arrays in input order: one array, or a list (named by input names, or in order).
model_arrays <- function(model, x, what) {
  info <- cpp_model_info(model)
  if (!is.list(x)) x <- list(x)
  if (!is.null(names(x)) && all(names(x) != "")) {
    missing_names <- setdiff(info$input_names, names(x))
    if (length(missing_names) > 0) {
      stop(sprintf("%s: no array for input %s of model '%s'", what,
                   paste0("'", missing_names, "'", collapse = ", "), info$name), call. = FALSE)
    }
    x <- x[info$input_names]
  }
  unname(x)
}

#' Running a model
#'
#' `predict()` runs a model on arrays: one array per model input (a list, in input order or
#' named by input names; a single array for a single input). It returns one array per output
#' (a list when the model has several outputs).
#'
#' @param object A model.
#' @param x The input arrays.
#' @param ... Not supported (an error names them).
#' @return The output array, or a list of them.
#' @export
predict.kattn_model <- function(object, x, ...) {
  check_no_dots(list(...), "predict")
  cpp_predict(object, model_arrays(object, x, "predict"), FALSE)
}

#' Model summaries
#'
#' Keras's `model.summary()`: one row per layer with its class, output shape, parameter count
#' and connections, then the totals. `print()` shows the same.
#'
#' @param object,x A model.
#' @param ... Not used.
#' @return The model, invisibly.
#' @export
summary.kattn_model <- function(object, ...) {
  cat(cpp_summary(object), sep = "")
  invisible(object)
}

#' @rdname summary.kattn_model
#' @export
print.kattn_model <- function(x, ...) summary.kattn_model(x)

#' Weights
#'
#' Keras's `get_weights()` and `set_weights()` for a layer or a model: the weights as arrays, in
#' Keras's order (`layer.weights`; a model's layers one after the other). `set_weights()` takes
#' the same list; each array must have its weight's dims (a vector without dims is read in C
#' order). A layer has weights once it is built (called once).
#'
#' @param object A layer or a model.
#' @param weights A list of arrays.
#' @param ... Not used.
#' @return `get_weights()`: a list of arrays. `set_weights()`: `object`, invisibly.
#' @export
get_weights <- function(object, ...) UseMethod("get_weights")

#' @export
get_weights.kattn_layer <- function(object, ...) cpp_layer_get_weights(layer_handle(object))

#' @export
get_weights.kattn_model <- function(object, ...) cpp_model_get_weights(object)

#' @rdname get_weights
#' @export
set_weights <- function(object, weights, ...) UseMethod("set_weights")

#' @export
set_weights.kattn_layer <- function(object, weights, ...) {
  cpp_layer_set_weights(layer_handle(object), weights)
  invisible(object)
}

#' @export
set_weights.kattn_model <- function(object, weights, ...) {
  cpp_model_set_weights(object, weights)
  invisible(object)
}

#' Configs and layers of a model
#'
#' `get_config()` gives Keras's `get_config()` as R lists: a layer's constructor arguments, or
#' a model's config.json object (`class_name`, `config` with its layers and connections).
#' `get_layer()` gives a model's layer by name or by 1-based position in `model.layers`
#' (InputLayers excluded).
#'
#' @param object A layer or a model.
#' @param name,index The layer's name, or its position.
#' @param ... Not used.
#' @return `get_config()`: a named list. `get_layer()`: the layer.
#' @export
get_config <- function(object, ...) UseMethod("get_config")

#' @export
get_config.kattn_layer <- function(object, ...) cpp_layer_config(layer_handle(object))

#' @export
get_config.kattn_model <- function(object, ...) cpp_model_config(object)

#' @rdname get_config
#' @export
get_layer <- function(object, name = NULL, index = NULL) {
  layers <- cpp_model_layers(object)
  if (!is.null(name)) {
    if (!name %in% names(layers)) {
      stop(sprintf("get_layer(): model has no layer '%s'; its layers: %s", name,
                   paste(names(layers), collapse = ", ")), call. = FALSE)
    }
    return(layer_object(layers[[name]]))
  }
  if (is.null(index) || index < 1 || index > length(layers)) {
    stop(sprintf("get_layer(): give a name or an index from 1 to %d", length(layers)),
         call. = FALSE)
  }
  layer_object(layers[[index]])
}
