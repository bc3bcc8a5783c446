// Bytes -> a .keras archive (zip, JSON, HDF5) -> a model. Whatever loads must save and load
// back equal; a model that loads from it is run once on small inputs.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "kattn/core/error.hpp"
#include "kattn/io/keras_archive.hpp"
#include "kattn/models/model.hpp"

namespace {

// Small limits keep the fuzzer from spending its memory on legal but huge inputs.
kattn::KerasArchiveLimits limits() {
  kattn::KerasArchiveLimits limits;
  limits.zip.max_member_bytes = size_t{1} << 24;
  limits.hdf5.max_dataset_bytes = size_t{1} << 24;
  limits.hdf5.max_objects = 4096;
  return limits;
}

bool same_bits(const kattn::Tensor& a, const kattn::Tensor& b) {
  if (a.shape() != b.shape()) return false;
  const auto x = a.to_vector();
  const auto y = b.to_vector();
  return std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

// Loads the model the archive describes and runs it on inputs of length 3 for every None axis
// (zeros, so any vocabulary accepts the ids).
void run_model(std::span<const std::byte> bytes) {
  try {
    const kattn::Model model =
        kattn::load_model(kattn::KerasArchiveReader::from_bytes(bytes, "fuzz.keras", limits()));
    std::vector<kattn::AnyTensor> inputs;
    for (const kattn::KerasTensor& input : model.inputs()) {
      kattn::Shape shape = input.shape();
      for (int64_t& dim : shape) dim = dim < 0 ? 3 : dim;
      if (kattn::num_elements(shape) > 4096) return;
      switch (input.dtype()) {
        case kattn::DType::kFloat32:
          inputs.emplace_back(kattn::Tensor(shape));
          break;
        case kattn::DType::kInt32:
          inputs.emplace_back(kattn::Int32Tensor(shape));
          break;
        case kattn::DType::kBool:
          inputs.emplace_back(kattn::Mask::full(shape, true));
          break;
      }
    }
    (void)model.predict(inputs);
  } catch (const kattn::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  kattn::KerasArchive archive;
  try {
    archive = kattn::parse_keras_archive(bytes, "fuzz.keras", limits());
  } catch (const kattn::FileError&) {
    return 0;
  }
  const std::string saved = kattn::keras_archive_bytes(archive);
  const kattn::KerasArchive again = kattn::parse_keras_archive(
      std::as_bytes(std::span(saved.data(), saved.size())), "resaved.keras", limits());
  if (again.config != archive.config || again.metadata != archive.metadata ||
      again.weights.groups() != archive.weights.groups() ||
      again.weights.datasets().size() != archive.weights.datasets().size()) {
    std::abort();
  }
  for (const auto& [path, value] : archive.weights.datasets()) {
    const kattn::Tensor* other = again.weights.find(path);
    if (other == nullptr || !same_bits(value, *other)) std::abort();
  }
  run_model(bytes);
  return 0;
}
