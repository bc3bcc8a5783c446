#' NumPy files
#'
#' `read_npy()` reads a `.npy` file into an R array of the same dims, indexed as numpy indexes
#' it (C order); `write_npy()` writes an R array so that numpy reads the same array. float32
#' and float64 arrive as doubles, int32 as integers, int64 as doubles, bool as logicals;
#' doubles are written as float32, integers as int32 and logicals as bool. The file is written
#' whole or not at all.
#'
#' @param path The `.npy` file.
#' @param x An array (or vector) of doubles, integers or logicals.
#' @return `read_npy()`: the array. `write_npy()`: `path`, invisibly.
#' @examples
#' path <- tempfile(fileext = ".npy")
#' write_npy(array(1:24, c(2, 3, 4)), path)
#' read_npy(path)[2, 3, 4]
#' @export
read_npy <- function(path) cpp_read_npy(path.expand(path))

#' @rdname read_npy
#' @export
write_npy <- function(x, path) {
  cpp_write_npy(x, path.expand(path))
  invisible(path)
}
