#include "kattn/io/keras_archive.hpp"

#include <array>
#include <chrono>
#include <ctime>
#include <limits>

#include "kattn/core/error.hpp"
#include "kattn/core/keras_version.hpp"
#include "kattn/io/file.hpp"
#include "kattn/io/json.hpp"

namespace kattn {

namespace {

constexpr std::string_view kMetadataMember = "metadata.json";
constexpr std::string_view kConfigMember = "config.json";
constexpr std::string_view kWeightsMember = "model.weights.h5";

// The member's declared size, refused beyond `max_bytes` before anything is inflated.
void check_member_size(const ZipReader& zip, std::string_view member, size_t max_bytes,
                       std::string_view why) {
  for (const ZipMemberInfo& info : zip.members()) {
    if (info.name == member && info.size > max_bytes) {
      throw FileError("zip archive '" + zip.what() + "': member '" + std::string(member) +
                      "' declares " + std::to_string(info.size) + " bytes, more than the " +
                      std::to_string(max_bytes) + " " + std::string(why));
    }
  }
}

// Keras's date_saved: "%Y-%m-%d@%H:%M:%S" in local time.
std::string date_saved_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm local{};
  localtime_r(&now, &local);
  std::array<char, 32> text{};
  const size_t length = std::strftime(text.data(), text.size(), "%Y-%m-%d@%H:%M:%S", &local);
  return std::string(text.data(), length);
}

std::string weights_image(const WeightStore& weights, const std::string& archive) {
  Hdf5File file = Hdf5File::create("zip archive '" + archive + "': member '" +
                                   std::string(kWeightsMember) + "'");
  write_weight_store(file, weights);
  return file.image();
}

// The archive's bytes; `what` names it in errors ("zip archive 'model.keras'").
std::string archive_bytes(const KerasArchive& archive, ZipCompression compression,
                          const std::string& what) {
  if (!archive.config.is_object()) {
    throw ValueError("KerasArchive: config must be a JSON object. Received: config=" +
                     to_json_text(archive.config).substr(0, 80));
  }
  Config metadata = archive.metadata;
  if (metadata.is_null()) metadata = Config{{"keras_version", kKerasVersion.to_string()}};
  if (!metadata.is_object()) {
    throw ValueError("KerasArchive: metadata must be a JSON object. Received: metadata=" +
                     to_json_text(metadata).substr(0, 80));
  }
  if (!metadata.contains("date_saved")) metadata["date_saved"] = date_saved_now();
  const std::array<ZipEntry, 3> entries = {
      ZipEntry{std::string(kMetadataMember), to_json_text(metadata), compression},
      ZipEntry{std::string(kConfigMember), to_json_text(archive.config), compression},
      ZipEntry{std::string(kWeightsMember), weights_image(archive.weights, what), compression},
  };
  return make_zip(entries, what);
}

}  // namespace

KerasArchiveReader::KerasArchiveReader(ZipReader zip, KerasArchiveLimits limits)
    : zip_(std::move(zip)), limits_(limits) {
  // Every member is checked for presence first, so a missing one is reported before any parse.
  for (std::string_view member : {kMetadataMember, kConfigMember, kWeightsMember}) {
    if (!zip_.contains(member)) {
      throw FileError("zip archive '" + zip_.what() + "': member '" + std::string(member) +
                      "' is missing");
    }
  }
  check_member_size(zip_, kMetadataMember, limits_.max_metadata_bytes, "a metadata.json may hold");
  check_member_size(zip_, kConfigMember, limits_.max_config_bytes, "a config.json may hold");
  metadata_ = parse_json_object(zip_.read(kMetadataMember), member_what(kMetadataMember));
  config_ = parse_json_object(zip_.read(kConfigMember), member_what(kConfigMember));
}

KerasArchiveReader KerasArchiveReader::open(const std::filesystem::path& path,
                                            const KerasArchiveLimits& limits) {
  return KerasArchiveReader(ZipReader::open(path, limits.zip), limits);
}

KerasArchiveReader KerasArchiveReader::from_bytes(std::span<const std::byte> bytes,
                                                  std::string_view what,
                                                  const KerasArchiveLimits& limits) {
  return KerasArchiveReader(ZipReader::from_bytes(bytes, what, limits.zip), limits);
}

size_t KerasArchiveReader::weights_bytes() const {
  for (const ZipMemberInfo& info : zip_.members()) {
    if (info.name == kWeightsMember) return info.size;
  }
  return 0;
}

WeightStore KerasArchiveReader::read_weights(size_t max_bytes, std::string_view why) const {
  check_member_size(zip_, kWeightsMember, max_bytes, why);
  // The bytes pass to the HDF5 reader, which reads them in place.
  return read_weight_store(
      Hdf5File::from_image(zip_.read(kWeightsMember), member_what(kWeightsMember), limits_.hdf5));
}

std::string KerasArchiveReader::member_what(std::string_view member) const {
  return "zip archive '" + zip_.what() + "': member '" + std::string(member) + "'";
}

namespace {

KerasArchive read_archive(const KerasArchiveReader& reader) {
  return KerasArchive{reader.config(), reader.metadata(),
                      reader.read_weights(std::numeric_limits<size_t>::max(), "")};
}

}  // namespace

KerasArchive load_keras_archive(const std::filesystem::path& path,
                                const KerasArchiveLimits& limits) {
  return read_archive(KerasArchiveReader::open(path, limits));
}

KerasArchive parse_keras_archive(std::span<const std::byte> bytes, std::string_view what,
                                 const KerasArchiveLimits& limits) {
  return read_archive(KerasArchiveReader::from_bytes(bytes, what, limits));
}

std::string keras_archive_bytes(const KerasArchive& archive, ZipCompression compression) {
  return archive_bytes(archive, compression, "new .keras archive");
}

void save_keras_archive(const std::filesystem::path& path, const KerasArchive& archive,
                        ZipCompression compression) {
  write_file_atomically(path, archive_bytes(archive, compression, path.string()));
}

}  // namespace kattn
