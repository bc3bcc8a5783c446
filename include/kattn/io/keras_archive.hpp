// .keras files as Keras 3 saves them (`model.save("model.keras")`): a zip archive with three
// members, read and written here without interpreting the model:
//   metadata.json      {"keras_version": "3.16.0", "date_saved": "2026-11-22@03:09:05"}
//   config.json        the serialized model (class_name, config, build_config, ...)
//   model.weights.h5   the weights, see weight_store.hpp
// Other members (assets/...) are ignored when reading.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "kattn/core/config.hpp"
#include "kattn/io/hdf5_file.hpp"
#include "kattn/io/weight_store.hpp"
#include "kattn/io/zip_archive.hpp"

namespace kattn {

struct KerasArchive {
  Config config;  // config.json, a JSON object
  // metadata.json, a JSON object (null: written as Keras 3.16.0); date_saved is added (now)
  // when it has none.
  Config metadata;
  WeightStore weights;
};

struct KerasArchiveLimits {
  ZipLimits zip;
  Hdf5Limits hdf5;
  // Largest metadata.json (Keras writes some 60 bytes) and config.json (Keras writes about a
  // kilobyte per layer) read; larger ones are refused before they are inflated. Parsed, JSON
  // takes up to some eight times its text: 4 MiB of config stays within 40 MiB.
  size_t max_metadata_bytes = size_t{1} << 20;  // 1 MiB
  size_t max_config_bytes = size_t{1} << 22;    // 4 MiB
};

// A .keras file read in steps, as loading a model needs it: metadata.json and config.json at
// once, model.weights.h5 when asked, with a size limit the model built from the config sets.
class KerasArchiveReader {
 public:
  // Opens the archive and reads metadata.json and config.json; every member must be there.
  static KerasArchiveReader open(const std::filesystem::path& path,
                                 const KerasArchiveLimits& limits = {});
  // The same from the bytes of a .keras file (copied); `what` names it in errors.
  static KerasArchiveReader from_bytes(std::span<const std::byte> bytes, std::string_view what,
                                       const KerasArchiveLimits& limits = {});

  const Config& config() const { return config_; }
  const Config& metadata() const { return metadata_; }
  // The size model.weights.h5 declares, uncompressed.
  size_t weights_bytes() const;
  // model.weights.h5, refused before it is inflated when it declares more than `max_bytes`
  // (`why` says where that limit comes from, for the error).
  WeightStore read_weights(size_t max_bytes, std::string_view why) const;
  // "zip archive '<path>': member '<member>'", as errors name a member.
  std::string member_what(std::string_view member) const;

 private:
  KerasArchiveReader(ZipReader zip, KerasArchiveLimits limits);

  ZipReader zip_;
  KerasArchiveLimits limits_;
  Config metadata_;
  Config config_;
};

// Errors are FileErrors naming the archive and the member:
//   zip archive 'model.keras': member 'config.json' is missing
//   zip archive 'model.keras': member 'config.json': malformed JSON at byte 17: ...
//   zip archive 'model.keras': member 'model.weights.h5': dataset 'layers/attention/vars/0' has
//   dtype float64, expected float32
KerasArchive load_keras_archive(const std::filesystem::path& path,
                                const KerasArchiveLimits& limits = {});
// The same from the bytes of a .keras file; `what` names it in errors.
KerasArchive parse_keras_archive(std::span<const std::byte> bytes, std::string_view what,
                                 const KerasArchiveLimits& limits = {});

// Writes the three members in Keras's order (metadata.json, config.json, model.weights.h5),
// stored uncompressed as Keras stores them unless `compression` says otherwise, through a
// temporary file renamed into place: `path` is either left as it was or holds the whole archive.
// ValueError when config or metadata is not a JSON object.
void save_keras_archive(const std::filesystem::path& path, const KerasArchive& archive,
                        ZipCompression compression = ZipCompression::kStored);
// The bytes save_keras_archive writes.
std::string keras_archive_bytes(const KerasArchive& archive,
                                ZipCompression compression = ZipCompression::kStored);

}  // namespace kattn
