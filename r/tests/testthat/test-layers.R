# keras3's ways of making and calling layers.

q <- array(seq_len(2 * 3 * 4) / 24, c(2, 3, 4))
v <- array(cos(seq_len(2 * 5 * 4)), c(2, 5, 4))

test_that("a layer function gives the layer, or calls it on what it is given", {
  layer <- layer_attention()
  expect_s3_class(layer, "kattn_layer")
  expect_equal(dim(layer(list(q, v))), c(2, 3, 4))
  expect_equal(dim(layer_attention(list(q, v))), c(2, 3, 4))
  query <- layer_input(shape = c(NA, 4))
  expect_s3_class(layer_attention(list(query, query)), "kattn_tensor")
  expect_output(print(query + query), "shape=\\(None, None, 4\\), dtype=float32")
  expect_equal(dim(layer_multi_head_attention(list(q, v), num_heads = 2, key_dim = 3)),
               c(2, 3, 4))
  expect_equal(dim(layer_group_query_attention(list(q, v), head_dim = 2, num_query_heads = 4,
                                               num_key_value_heads = 2)), c(2, 3, 4))
})

test_that("call arguments: masks, causal masks, scores and training", {
  attention <- layer_attention()
  value_mask <- matrix(c(TRUE, TRUE, FALSE, FALSE, FALSE, TRUE, TRUE, TRUE, TRUE, FALSE), 2)
  result <- attention(list(q, v), mask = list(NULL, value_mask), use_causal_mask = TRUE,
                      return_attention_scores = TRUE)
  scores <- result[[2]]
  expect_equal(dim(scores), c(2, 3, 5))
  expect_equal(apply(scores, c(1, 2), sum), matrix(1, 2, 3), tolerance = 1e-6)
  expect_true(all(scores[1, , 3:5] == 0))  # masked values
  expect_true(all(scores[2, 1, 2:5] == 0))  # the future, for the first query step
  mha <- layer_multi_head_attention(num_heads = 2, key_dim = 2, dropout = 0.5)
  attention_mask <- array(TRUE, c(2, 3, 5))
  inference <- mha(q, v, attention_mask = attention_mask)
  expect_identical(mha(q, v, attention_mask = attention_mask, training = FALSE), inference)
  expect_false(identical(mha(q, v, attention_mask = attention_mask, training = TRUE), inference))
})

test_that("arguments follow keras3: configs, integers, 1-based axes, Keras's names", {
  layer <- layer_attention(use_scale = TRUE, score_mode = "concat", name = "luong")
  config <- get_config(layer)
  expect_identical(config$name, "luong")
  expect_true(config$use_scale)
  expect_identical(config$score_mode, "concat")
  dense <- get_config(layer_dense(units = 3.0))
  expect_identical(dense$units, 3L)
  expect_error(layer_dense(units = 2.5), "`units`: expected whole numbers")
  expect_equal(dim(layer_concatenate(list(q, v), axis = 2)), c(2, 8, 4))
  expect_equal(dim(layer_concatenate(q, q, axis = -1)), c(2, 3, 8))
  first <- get_config(layer_masking())$name
  second <- get_config(layer_masking())$name
  expect_match(second, "^masking_[0-9]+$")
  expect_false(identical(first, second))
})

test_that("weights are Keras's, in Keras's order", {
  mha <- layer_multi_head_attention(num_heads = 2, key_dim = 3, name = "mha")
  mha(q, v)
  weights <- get_weights(mha)
  expect_equal(lapply(weights, dim), list(c(4, 2, 3), c(2, 3), c(4, 2, 3), c(2, 3), c(4, 2, 3),
                                          c(2, 3), c(2, 3, 4), 4))
  zeroed <- lapply(weights, function(w) w * 0)
  set_weights(mha, zeroed)
  expect_true(all(mha(q, v) == 0))
  expect_error(set_weights(mha, weights[-1]), "expected 8 weights, received 7")
  expect_error(set_weights(mha, c(list(matrix(0, 4, 6)), weights[-1])),
               "weight 1: expected shape \\(4, 2, 3\\), received \\(4, 6\\)")
})

test_that("errors are kattn's, as R errors", {
  expect_error(layer_dense(units = -1), class = "kattn::ValueError")
  expect_error(layer_dense(units = -1), "Expected a positive integer. Received: units=-1")
  expect_error(layer_attention(score_mode = "cosine"), "score_mode")
  expect_error(layer_attention()(list(q, layer_input(shape = c(3, 4)))),
               "is a symbolic tensor, but the call's other tensors are R arrays")
  expect_error(layer_attention()(list(q, array(0, c(2, 5, 3)))), class = "kattn::ValueError")
  expect_error(layer_input(shape = c(NA), dtype = "float16"), "expected \"float32\"")
})
