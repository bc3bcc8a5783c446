# Functional models in R: the documentation's text-similarity network built, trained, saved and
# loaded back; weights, configs and the errors of model calls.

text_similarity <- function() {
  query_input <- layer_input(shape = c(NA), dtype = "int32", name = "query_tokens")
  value_input <- layer_input(shape = c(NA), dtype = "int32", name = "value_tokens")
  token_embedding <- layer_embedding(input_dim = 20, output_dim = 8)
  cnn_layer <- layer_conv_1d(filters = 6, kernel_size = 2, padding = "same")
  query_seq_encoding <- cnn_layer(token_embedding(query_input))
  value_seq_encoding <- cnn_layer(token_embedding(value_input))
  attended <- layer_attention()(list(query_seq_encoding, value_seq_encoding))
  features <- layer_concatenate(list(layer_global_average_pooling_1d(query_seq_encoding),
                                     layer_global_average_pooling_1d(attended)))
  output <- features %>% layer_dense(8, activation = "tanh") %>%
    layer_dense(1, activation = "sigmoid")
  keras_model(list(query_input, value_input), output, name = "text_similarity")
}

# Pairs of sequences, each of tokens of one topic (ids 1-9 or 10-19), labelled by the query's
# topic: a task the network learns within a few epochs from any initialisation tried.
pairs <- function(n) {
  topics <- matrix(sample(0:1, 2 * n, replace = TRUE), n)
  tokens <- function(topic, length) {
    t(vapply(topic, function(t) sample(1:9, length, replace = TRUE) + 9L * t, integer(length)))
  }
  list(x = list(tokens(topics[, 1], 4), tokens(topics[, 2], 5)), y = matrix(topics[, 1] + 0))
}

test_that("the text-similarity model trains, evaluates, saves and loads back", {
  set_random_seed(3)  # the same data, weights and batches on every run
  model <- text_similarity()
  expect_output(summary(model), "global_average_pooling1d_?[0-9]* \\(GlobalAveragePooling1D\\)")
  compile(model, optimizer = optimizer_adam(learning_rate = 0.01), loss = "binary_crossentropy",
          metrics = "accuracy")
  train <- pairs(1000)
  before <- evaluate(model, train$x, train$y)
  expect_named(before, c("accuracy", "loss"), ignore.order = TRUE)
  history <- fit(model, train$x, train$y, epochs = 10, batch_size = 32, verbose = 0)
  expect_s3_class(history, "kattn_history")
  expect_length(history$metrics$loss, 10)
  # Twelve runs from random initialisations ended below 0.01 of the first epoch's loss.
  expect_lt(history$metrics$loss[10], 0.5 * history$metrics$loss[1])
  expect_lt(evaluate(model, train$x, train$y)[["loss"]], before[["loss"]])

  path <- tempfile(fileext = ".keras")
  save_model(model, path)
  expect_error(save_model(model, path), "exists; pass overwrite = TRUE")
  reloaded <- load_model(path)
  expect_identical(predict(reloaded, train$x), predict(model, train$x))
  expect_identical(get_config(reloaded), get_config(model))
  expect_identical(get_weights(reloaded), get_weights(model))
  # Saved compiled: training resumes from the optimizer's state; compile = FALSE drops it.
  expect_silent(fit(reloaded, train$x, train$y, epochs = 1, verbose = 0))
  uncompiled <- load_model(path, compile = FALSE)
  expect_identical(predict(uncompiled, train$x), predict(model, train$x))
  expect_error(fit(uncompiled, train$x, train$y, verbose = 0), "compile")
})

test_that("model weights and configs are Keras's", {
  model <- text_similarity()
  config <- get_config(model)
  expect_identical(config$class_name, "Functional")
  classes <- vapply(config$config$layers, `[[`, "", "class_name")
  expect_identical(classes[1:4], c("InputLayer", "InputLayer", "Embedding", "Conv1D"))
  names <- vapply(config$config$layers, `[[`, "", "name")
  expect_false(anyDuplicated(names) > 0)
  weights <- get_weights(model)
  expect_equal(lapply(weights[1:3], dim), list(c(20, 8), c(2, 8, 6), 6))
  set_weights(model, lapply(weights, function(w) w + 1))
  expect_equal(get_weights(model)[[1]], weights[[1]] + 1, tolerance = 1e-6)
  expect_identical(get_weights(get_layer(model, names[3])), get_weights(model)[1])
  expect_error(get_layer(model, "nope"), "model has no layer 'nope'")
  expect_error(set_weights(model, weights[-1]), "model 'text_similarity': set_weights")
})

test_that("residuals and arithmetic on symbolic tensors are keras.ops nodes", {
  x <- layer_input(shape = c(NA, 4))
  attended <- layer_multi_head_attention(list(x, x), num_heads = 2, key_dim = 2)
  y <- layer_layer_normalization(x + attended) * 2 - 1
  model <- keras_model(x, y)
  classes <- vapply(get_config(model)$config$layers, `[[`, "", "class_name")
  expect_true(all(c("Add", "Multiply", "Subtract") %in% classes))
  input <- array(runif(24), c(2, 3, 4))
  expect_equal(dim(predict(model, input)), c(2, 3, 4))
})

test_that("model errors are clear", {
  expect_error(load_model(tempfile(fileext = ".keras")), class = "kattn::FileError")
  bad <- tempfile(fileext = ".keras")
  writeLines("not a zip", bad)
  expect_error(load_model(bad), basename(bad))
  model <- text_similarity()
  expect_error(compile(model, optimizer = "rmsprop", loss = "binary_crossentropy"),
               class = "kattn::NotSupportedError")
  expect_error(fit(model, list(), NULL, callbacks = list()), "does not support callbacks")
  expect_error(keras_model(layer_input(shape = 2), layer_input(shape = 2)), class = "kattn::ValueError")
  target <- file.path(tempfile(), "missing-dir", "model.keras")
  expect_error(save_model(model, target))
  expect_false(file.exists(target))
})

test_that("set_random_seed() makes building and training repeat", {
  run <- function() {
    set_random_seed(11)
    model <- text_similarity()
    initial <- get_weights(model)
    compile(model, optimizer = optimizer_adam(learning_rate = 0.01), loss = "binary_crossentropy")
    train <- pairs(64)
    history <- fit(model, train$x, train$y, epochs = 2, batch_size = 16, verbose = 0)
    list(initial = initial, trained = get_weights(model), loss = history$metrics$loss)
  }
  first <- run()
  expect_identical(run(), first)
  set_random_seed(12)
  expect_false(identical(get_weights(text_similarity()), first$initial))
  expect_error(set_random_seed(1.5), "`seed`: expected whole numbers, received 1.5")
  expect_error(set_random_seed(c(1, 2)), "`seed`: expected one whole number, received c\\(1, 2\\)")
})
