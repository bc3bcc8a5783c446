# The layers keras3's functional examples put around attention, with keras3's arguments.

#' Layers of functional models
#'
#' keras3's layers that models around attention use, computed by kattn: `layer_embedding()`
#' (Keras's `Embedding`), `layer_conv_1d()` (`Conv1D`), `layer_dense()` (`Dense`),
#' `layer_global_average_pooling_1d()` (`GlobalAveragePooling1D`), `layer_concatenate()`
#' (`Concatenate`), `layer_masking()` (`Masking`), `layer_dropout()` (`Dropout`) and
#' `layer_layer_normalization()` (`LayerNormalization`). Each is called as the attention
#' layers are (see [attention_layers]): without `object` it returns the layer; with a
#' symbolic tensor or an R array, the layer's output.
#'
#' @param object What to call the layer on at once (a symbolic tensor or an R array); missing
#'   or `NULL` returns the layer.
#' @param inputs `layer_concatenate()`: the tensors to join (a list; more may follow in `...`).
#' @param input_dim,output_dim The vocabulary size and the embedding size.
#' @param embeddings_initializer,embeddings_regularizer,embeddings_constraint The embedding
#'   matrix's initializer, regularizer and constraint.
#' @param mask_zero Whether id 0 is padding, masked downstream.
#' @param lora_rank Keras's LoRA rank (`NULL`: none).
#' @param filters,kernel_size,strides,dilation_rate,groups The convolution's sizes.
#' @param padding `"valid"`, `"same"` or `"causal"`.
#' @param data_format `"channels_last"` (`NULL`) or `"channels_first"`.
#' @param units The output size of `layer_dense()`.
#' @param activation An activation name (`"relu"`, `"sigmoid"`, ...) or `NULL` for none.
#' @param use_bias Whether the layer has a bias.
#' @param kernel_initializer,bias_initializer Initializers: a Keras name or a serialized
#'   initializer (a list).
#' @param kernel_regularizer,bias_regularizer,activity_regularizer Regularizers, or `NULL`.
#' @param kernel_constraint,bias_constraint Constraints, or `NULL`.
#' @param keepdims Whether pooling keeps the pooled axis.
#' @param axis The axis: 1-based as in keras3 (`-1`, the default, is the last).
#' @param mask_value The value whose steps `layer_masking()` masks.
#' @param rate,noise_shape,seed The dropout's rate, noise shape and seed.
#' @param epsilon,center,scale,beta_initializer,gamma_initializer,beta_regularizer,gamma_regularizer,beta_constraint,gamma_constraint
#'   LayerNormalization's arguments.
#' @param ... Other arguments of the Keras constructor (`name`, `trainable`, `dtype`, ...);
#'   for `layer_concatenate()`, unnamed ones are more inputs.
#' @return The layer, or the result of calling it on `object` / `inputs`.
#' @examples
#' tokens <- layer_input(shape = c(NA), dtype = "int32")
#' encoded <- tokens %>%
#'   layer_embedding(input_dim = 100, output_dim = 8) %>%
#'   layer_conv_1d(filters = 6, kernel_size = 3, padding = "same")
#' pooled <- layer_global_average_pooling_1d(encoded)
#' model <- keras_model(tokens, layer_dense(pooled, 1, activation = "sigmoid"))
#' @name core_layers
NULL

#' @rdname core_layers
#' @export
layer_embedding <- function(object, input_dim, output_dim, embeddings_initializer = "uniform",
                            embeddings_regularizer = NULL, embeddings_constraint = NULL,
                            mask_zero = FALSE, lora_rank = NULL, ...) {
  create_layer("Embedding", integers = c("input_dim", "output_dim", "lora_rank"))
}

#' @rdname core_layers
#' @export
layer_conv_1d <- function(object, filters, kernel_size, strides = 1L, padding = "valid",
                          data_format = NULL, dilation_rate = 1L, groups = 1L, activation = NULL,
                          use_bias = TRUE, kernel_initializer = "glorot_uniform",
                          bias_initializer = "zeros", kernel_regularizer = NULL,
                          bias_regularizer = NULL, activity_regularizer = NULL,
                          kernel_constraint = NULL, bias_constraint = NULL, ...) {
  create_layer("Conv1D",
               integers = c("filters", "kernel_size", "strides", "dilation_rate", "groups"))
}

#' @rdname core_layers
#' @export
layer_dense <- function(object, units, activation = NULL, use_bias = TRUE,
                        kernel_initializer = "glorot_uniform", bias_initializer = "zeros",
                        kernel_regularizer = NULL, bias_regularizer = NULL,
                        activity_regularizer = NULL, kernel_constraint = NULL,
                        bias_constraint = NULL, lora_rank = NULL, ...) {
  create_layer("Dense", integers = c("units", "lora_rank"))
}

#' @rdname core_layers
#' @export
layer_global_average_pooling_1d <- function(object, data_format = NULL, keepdims = FALSE, ...) {
  create_layer("GlobalAveragePooling1D")
}

#' @rdname core_layers
#' @export
layer_concatenate <- function(inputs, ..., axis = -1L) {
  dots <- list(...)
  named <- if (is.null(names(dots))) rep(FALSE, length(dots)) else names(dots) != ""
  if (missing(inputs) || is.null(inputs)) inputs <- list()
  if (!is.list(inputs)) inputs <- list(inputs)
  inputs <- c(inputs, dots[!named])
  config <- c(list(axis = as_axis_arg(axis, "axis")), dots[named])
  layer <- new_layer("Concatenate", config)
  if (length(inputs) > 0) layer(inputs) else layer
}

#' @rdname core_layers
#' @export
layer_masking <- function(object, mask_value = 0, ...) {
  create_layer("Masking")
}

#' @rdname core_layers
#' @export
layer_dropout <- function(object, rate, noise_shape = NULL, seed = NULL, ...) {
  create_layer("Dropout", integers = c("noise_shape", "seed"))
}

#' @rdname core_layers
#' @export
layer_layer_normalization <- function(object, axis = -1L, epsilon = 0.001, center = TRUE,
                                      scale = TRUE, beta_initializer = "zeros",
                                      gamma_initializer = "ones", beta_regularizer = NULL,
                                      gamma_regularizer = NULL, beta_constraint = NULL,
                                      gamma_constraint = NULL, ...) {
  create_layer("LayerNormalization", axes = "axis")
}
