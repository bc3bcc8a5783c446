// keras3's set_random_seed(): kattn's own stream of seeds for everything unseeded.
#include "kattn/core/random.hpp"

#include "kattn_r.h"

// [[Rcpp::export]]
void cpp_set_random_seed(int seed) { kattn::set_random_seed(seed); }
