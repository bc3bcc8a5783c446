# keras3's set_random_seed(): R's generator and kattn's, seeded together.

#' Make a program's random draws repeat
#'
#' keras3's `set_random_seed()`: seeds R's generator (`set.seed(seed)`) and kattn's stream of
#' seeds, from which every unseeded initializer, dropout and noise layer and `fit()`'s shuffling
#' draws. A program that builds, trains and samples in the same order then gives the same weights
#' and results on every run. The numbers are kattn's own: the same seed does not give Keras's.
#'
#' @param seed An integer.
#' @return `NULL`, invisibly.
#' @examples
#' dense_weights <- function() {
#'   dense <- layer_dense(units = 3)
#'   dense(layer_input(shape = 2))
#'   get_weights(dense)
#' }
#' set_random_seed(1)
#' first <- dense_weights()
#' set_random_seed(1)
#' identical(dense_weights(), first)
#' @export
set_random_seed <- function(seed) {
  if (!is.numeric(seed) || length(seed) != 1) {
    stop(sprintf("`seed`: expected one whole number, received %s", deparse(seed)), call. = FALSE)
  }
  seed <- as_integer_arg(seed, "seed")
  set.seed(seed)
  cpp_set_random_seed(seed)
  invisible(NULL)
}
