# Training as keras3 writes it: compile(), fit(), evaluate(), with kattn's optimizers and losses.

#' Training a model
#'
#' keras3's `compile()`, `fit()` and `evaluate()`, computed by kattn.
#'
#' `compile()` sets the optimizer, loss and metrics, as Keras's `compile_from_config`
#' reads them: an optimizer name (`"adam"`, `"sgd"`, `"adamw"`) or one of [optimizer_adam()],
#' [optimizer_sgd()], [optimizer_adamw()]; a loss name (`"binary_crossentropy"`,
#' `"sparse_categorical_crossentropy"`, `"mean_squared_error"`, ...); metric names
#' (`"accuracy"`, ...). kattn refuses, by name, what it does not have (Keras's default
#' optimizer, `"rmsprop"`, among them).
#'
#' `fit()` trains for `epochs` passes over `x` and `y` in shuffled batches and returns the
#' history (one value per epoch of the loss and each metric, and of their `val_` versions with
#' `validation_data`). `evaluate()` gives the loss and metrics at inference.
#'
#' @param object A model.
#' @param optimizer,loss,metrics The optimizer, loss and metrics.
#' @param x The input arrays (as for [predict.kattn_model()]).
#' @param y The targets: an array, or a list of arrays (one per output).
#' @param batch_size The batch size (`NULL`: 32).
#' @param epochs The number of passes over the data.
#' @param validation_data `list(x, y)`, evaluated after each epoch.
#' @param shuffle Whether batches are drawn in a new random order each epoch.
#' @param verbose `"auto"`, 1 or 2: a line per epoch; 0: silent.
#' @param ... Not supported (an error names them).
#' @return `compile()`: `object`, invisibly. `fit()`: a `kattn_history` with `metrics` (one
#'   vector per log) and `params`. `evaluate()`: a named vector of the loss and metrics.
#' @examples
#' x <- layer_input(shape = 2)
#' model <- keras_model(x, layer_dense(x, 1))
#' compile(model, optimizer = optimizer_sgd(0.1), loss = "mean_squared_error")
#' data <- matrix(runif(64), 32, 2)
#' history <- fit(model, data, data[, 1, drop = FALSE] - data[, 2, drop = FALSE],
#'                epochs = 3, verbose = 0)
#' history$metrics$loss
#' @export
compile <- function(object, ...) UseMethod("compile")

#' @rdname compile
#' @export
compile.kattn_model <- function(object, optimizer = "rmsprop", loss = NULL, metrics = NULL,
                                ...) {
  check_no_dots(list(...), "compile")
  config <- list(optimizer = unclass(optimizer), loss = loss,
                 metrics = if (is.null(metrics)) NULL else as.list(metrics))
  cpp_compile(object, config[!vapply(config, is.null, logical(1))])
  invisible(object)
}

#' @rdname compile
#' @export
fit <- function(object, ...) UseMethod("fit")

#' @rdname compile
#' @export
fit.kattn_model <- function(object, x = NULL, y = NULL, ..., batch_size = NULL, epochs = 1L,
                            validation_data = NULL, shuffle = TRUE, verbose = "auto") {
  check_no_dots(list(...), "fit")
  batch_size <- if (is.null(batch_size)) 32L else as_integer_arg(batch_size, "batch_size")
  epochs <- as_integer_arg(epochs, "epochs")
  validation_x <- NULL
  validation_y <- NULL
  if (!is.null(validation_data)) {
    if (!is.list(validation_data) || length(validation_data) != 2) {
      stop("fit(validation_data): expected list(x, y)", call. = FALSE)
    }
    validation_x <- model_arrays(object, validation_data[[1]], "fit(validation_data)")
    validation_y <- target_arrays(validation_data[[2]])
  }
  metrics <- cpp_fit(object, model_arrays(object, x, "fit"), target_arrays(y), batch_size,
                     epochs, !identical(verbose, 0) && !identical(verbose, 0L), isTRUE(shuffle),
                     NULL, validation_x, validation_y)
  structure(list(params = list(epochs = epochs, batch_size = batch_size), metrics = metrics),
            class = "kattn_history")
}

#' @rdname compile
#' @export
evaluate <- function(object, ...) UseMethod("evaluate")

#' @rdname compile
#' @export
evaluate.kattn_model <- function(object, x = NULL, y = NULL, ..., batch_size = NULL,
                                 verbose = "auto") {
  check_no_dots(list(...), "evaluate")
  batch_size <- if (is.null(batch_size)) 32L else as_integer_arg(batch_size, "batch_size")
  cpp_evaluate(object, model_arrays(object, x, "evaluate"), target_arrays(y), batch_size)
}

target_arrays <- function(y) if (is.list(y)) unname(y) else list(y)

#' @export
print.kattn_history <- function(x, ...) {
  cat(sprintf("Trained for %d epochs (batch size %d). Final epoch:\n", x$params$epochs,
              x$params$batch_size))
  last <- vapply(x$metrics, function(values) values[length(values)], numeric(1))
  cat(paste(sprintf("  %s: %.4f", names(last), last), collapse = "\n"), "\n")
  invisible(x)
}

#' Optimizers
#'
#' keras3's optimizers that kattn has, for [compile()]: Keras's `Adam`, `SGD` and `AdamW` with
#' their arguments.
#'
#' @param learning_rate The learning rate.
#' @param beta_1,beta_2,epsilon,amsgrad Adam's moments, epsilon and AMSGrad.
#' @param weight_decay AdamW's decoupled weight decay.
#' @param momentum,nesterov SGD's momentum and Nesterov momentum.
#' @param ... Other arguments of the Keras optimizer (`clipnorm`, `clipvalue`, ...).
#' @return An optimizer config (a `kattn_optimizer`).
#' @export
optimizer_adam <- function(learning_rate = 0.001, beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-07,
                           amsgrad = FALSE, ...) {
  optimizer_config("Adam")
}

#' @rdname optimizer_adam
#' @export
optimizer_adamw <- function(learning_rate = 0.001, weight_decay = 0.004, beta_1 = 0.9,
                            beta_2 = 0.999, epsilon = 1e-07, amsgrad = FALSE, ...) {
  optimizer_config("AdamW")
}

#' @rdname optimizer_adam
#' @export
optimizer_sgd <- function(learning_rate = 0.01, momentum = 0, nesterov = FALSE, ...) {
  optimizer_config("SGD")
}

optimizer_config <- function(class_name) {
  config <- capture_config(parent.frame(), sys.function(sys.parent()))
  structure(list(module = "keras.optimizers", class_name = class_name, config = config,
                 registered_name = NULL),
            class = "kattn_optimizer")
}
