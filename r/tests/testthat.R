library(testthat)
library(kattn)

test_check("kattn")
