// Bytes -> an HDF5 weights file (model.weights.h5 without its zip around it, whose CRC would
// otherwise reject nearly every mutation before HDF5 sees it).
#include <cstdint>
#include <cstdlib>
#include <span>

#include "kattn/core/error.hpp"
#include "kattn/io/weight_store.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kattn::Hdf5Limits limits;
  limits.max_dataset_bytes = size_t{1} << 24;
  limits.max_objects = 4096;
  kattn::WeightStore store;
  try {
    store = kattn::parse_weights_h5(std::as_bytes(std::span(data, size)), "fuzz.h5", limits);
  } catch (const kattn::FileError&) {
    return 0;
  }
  const std::string saved = kattn::weights_h5_bytes(store);
  const kattn::WeightStore again =
      kattn::parse_weights_h5(std::as_bytes(std::span(saved.data(), saved.size())), "resaved.h5");
  if (again.groups() != store.groups() || again.datasets().size() != store.datasets().size()) {
    std::abort();
  }
  return 0;
}
