# The golden data the tests read: the project's tests/data/golden (Keras 3.16's public cases of
# the four attention layers: inputs, masks, weights, outputs, scores) and tests/data/golden-models
# (.keras models with their inputs and outputs, and the same models' outputs from the kattn
# C++ library), copied into the package's tests/ when the package is staged (scripts/r-package).
golden_dir <- function(...) test_path("..", ...)

read_case <- function(dir) jsonlite::fromJSON(file.path(dir, "case.json"), simplifyVector = TRUE,
                                              simplifyDataFrame = FALSE)

# abs(actual - expected) <= atol + rtol * abs(expected), elementwise, with matching dims.
expect_within <- function(actual, expected, atol, rtol, label) {
  expect_identical(dim(actual), dim(expected), label = paste(label, "dims"))
  excess <- abs(actual - expected) - (atol + rtol * abs(expected))
  expect_true(all(excess <= 0), label = sprintf("%s within atol %g rtol %g (worst excess %g)",
                                                label, atol, rtol, max(excess)))
}

layer_function <- function(layer_class) {
  switch(layer_class,
         Attention = layer_attention,
         AdditiveAttention = layer_additive_attention,
         MultiHeadAttention = layer_multi_head_attention,
         GroupedQueryAttention = layer_group_query_attention,
         stop("no R function for ", layer_class))
}
