# R arrays index as numpy arrays of the same dims, in and out of kattn.

test_that("read_npy indexes as numpy does (C order)", {
  for (dir in list.dirs(golden_dir("golden"), recursive = FALSE)[1:3]) {
    path <- file.path(dir, "query.npy")
    query <- read_npy(path)
    # The raw file: a header, then float32 values in C order (the last axis fastest).
    bytes <- readBin(path, "raw", file.size(path))
    header_length <- readBin(bytes[9:10], "integer", size = 2, endian = "little")
    values <- readBin(bytes[-seq_len(10 + header_length)], "numeric", size = 4,
                      n = length(query), endian = "little")
    d <- dim(query)
    c_strides <- rev(cumprod(c(1, rev(d)[-length(d)])))
    for (trial in 1:5) {
      index <- vapply(d, function(n) sample.int(n, 1), integer(1))
      expect_identical(query[matrix(index, 1)], values[sum((index - 1) * c_strides) + 1])
    }
  }
})

test_that("write_npy and read_npy round-trip doubles, integers and logicals", {
  path <- tempfile(fileext = ".npy")
  doubles <- array(seq(0.5, 12, by = 0.5), c(2, 3, 4))
  write_npy(doubles, path)
  expect_identical(read_npy(path), doubles)
  integers <- array(1:24, c(4, 3, 2))
  write_npy(integers, path)
  expect_identical(read_npy(path), integers)
  logicals <- matrix(c(TRUE, FALSE, TRUE, TRUE, FALSE, FALSE), 2)
  write_npy(logicals, path)
  expect_identical(read_npy(path), logicals)
  expect_error(write_npy(c(TRUE, NA), path), "expected TRUE or FALSE, received NA")
  expect_error(read_npy(tempfile()), class = "kattn::FileError")
})

test_that("a model's outputs keep the batch order and the C-order layout", {
  x <- layer_input(shape = c(3, 2))
  model <- keras_model(x, layer_dense(x, 2, use_bias = FALSE, kernel_initializer = "identity"))
  input <- array(1:12 / 4, c(2, 3, 2))
  expect_equal(predict(model, input), input, tolerance = 1e-7)
})

test_that("arrays are converted to each input's dtype, with clear errors", {
  tokens <- layer_input(shape = c(NA), dtype = "int32", name = "tokens")
  model <- keras_model(tokens, layer_embedding(tokens, input_dim = 5, output_dim = 2))
  from_doubles <- predict(model, matrix(c(1, 2, 3, 4), 2))
  expect_identical(from_doubles, predict(model, matrix(1:4, 2)))
  expect_error(predict(model, matrix(c(1.5, 2), 1)),
               "input 'tokens' \\(int32\\): expected whole numbers within int32, received 1.5")
  expect_error(predict(model, list(matrix(1:4, 2), matrix(1:4, 2))),
               "takes 1 inputs, received 2 arrays")
  expect_error(predict(model, list(other = matrix(1:4, 2))), "no array for input 'tokens'")
})
