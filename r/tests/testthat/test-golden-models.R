# The golden .keras models (Keras 3.16 files): loaded and run in R, they give Keras's outputs
# within the cases' tolerance, and exactly what the kattn C++ library gives for them.

test_that("golden models load and predict as in Keras and in C++", {
  cases <- list.dirs(golden_dir("golden-models"), recursive = FALSE)
  expect_gte(length(cases), 20)
  for (dir in cases) {
    case <- read_case(dir)
    model <- load_model(file.path(dir, case$model_file))
    inputs <- lapply(case$inputs, function(input) read_npy(file.path(dir, input$file)))
    names(inputs) <- vapply(case$inputs, `[[`, "", "name")
    outputs <- predict(model, rev(inputs))  # named: any order
    if (length(case$outputs) == 1) outputs <- list(outputs)
    for (i in seq_along(case$outputs)) {
      file <- case$outputs[[i]]$file
      expect_within(outputs[[i]], read_npy(file.path(dir, file)), case$tolerance$atol,
                    case$tolerance$rtol, paste(case$case, file))
      cpp <- list.files(file.path(dir, "cpp"), pattern = sprintf("^output_%d_", i - 1),
                        full.names = TRUE)
      expect_length(cpp, 1)
      expect_identical(outputs[[i]], read_npy(cpp), label = paste(case$case, file, "from R"))
    }
  }
})
