# Every public golden case of the four attention layers, through the R API: the layer made by
# its keras3 function from the case's config, called (on R arrays, or in a functional model
# when the query's mask comes from a Masking layer), its weights set from the case, and the
# outputs and scores compared with Keras's.

run_golden_case <- function(dir) {
  case <- read_case(dir)
  read <- function(file) read_npy(file.path(dir, file))
  inputs <- lapply(case$layer_call$inputs, function(input) read(input$file))
  names(inputs) <- vapply(case$layer_call$inputs, `[[`, "", "name")
  masks <- lapply(case$layer_call$masks, function(mask) read(mask$file))
  names(masks) <- vapply(case$layer_call$masks, `[[`, "", "name")
  call_args <- case$call_args[c("use_causal_mask", "return_attention_scores")]
  weights <- lapply(case$weights, function(weight) read(weight$file))

  layer <- do.call(layer_function(case$layer_class), case$config)
  dense <- case$layer_class %in% c("Attention", "AdditiveAttention")
  arguments <- function(tensors, masks) {
    if (dense) {
      mask <- if (length(masks) > 0) list(masks$query_mask, masks$value_mask) else NULL
      return(c(list(unname(tensors)), list(mask = mask), call_args))
    }
    c(unname(tensors), masks, call_args)
  }

  if ("Masking" %in% case$model$extra_layers) {
    # MultiHeadAttention reads the query's mask from the query tensor only.
    same <- vapply(case$layer_call$inputs, function(i) identical(i$same_tensor_as, "query"), TRUE)
    feeds <- list(layer_input(shape = dim(inputs$query)[-1]))
    symbolic <- list(layer_masking(feeds[[1]], mask_value = 0))
    for (i in seq_along(inputs)[-1]) {
      if (same[i]) {
        symbolic[[i]] <- symbolic[[1]]
      } else {
        feeds[[length(feeds) + 1]] <- layer_input(shape = dim(inputs[[i]])[-1])
        symbolic[[i]] <- feeds[[length(feeds)]]
      }
    }
    other_masks <- masks[names(masks) != "query_mask"]
    mask_feeds <- lapply(other_masks, function(m) layer_input(shape = dim(m)[-1], dtype = "bool"))
    outputs <- do.call(layer, arguments(symbolic, mask_feeds))
    model <- keras_model(c(feeds, unname(mask_feeds)), outputs)
    set_weights(layer, weights)
    run <- function() predict(model, c(unname(inputs[!same]), unname(other_masks)))
  } else {
    run <- function() do.call(layer, arguments(inputs, masks))
    run()  # builds the layer, as Keras's first call does
    set_weights(layer, weights)
  }
  results <- run()
  if (!isTRUE(call_args$return_attention_scores)) results <- list(results)
  tolerance <- case$tolerance
  for (i in seq_along(case$layer_call$outputs)) {
    expected <- case$layer_call$outputs[[i]]
    expect_within(results[[i]], read(expected$file), tolerance$atol, tolerance$rtol,
                  paste(case$case, expected$name))
  }
}

test_that("every golden case of the four attention layers matches Keras", {
  cases <- list.dirs(golden_dir("golden"), recursive = FALSE)
  expect_equal(length(cases), 308)
  classes <- character()
  for (dir in cases) {
    run_golden_case(dir)
    classes <- c(classes, read_case(dir)$layer_class)
  }
  expect_setequal(unique(classes), c("Attention", "AdditiveAttention", "MultiHeadAttention",
                                     "GroupedQueryAttention"))
})
