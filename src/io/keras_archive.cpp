#include "kattn/io/keras_archive.hpp"

#include <array>
#include <chrono>
#include <ctime>

#include "kattn/error.hpp"
#include "kattn/io/file.hpp"
#include "kattn/io/json.hpp"

namespace kattn {

namespace {

constexpr std::string_view kMetadataMember = "metadata.json";
constexpr std::string_view kConfigMember = "config.json";
constexpr std::string_view kWeightsMember = "model.weights.h5";
// What metadata.json says when the archive to save carries none.
constexpr std::string_view kKerasVersion = "3.16.0";

std::string member_what(const ZipReader& zip, std::string_view member) {
  return "zip archive '" + zip.what() + "': member '" + std::string(member) + "'";
}

KerasArchive read_archive(const ZipReader& zip, const KerasArchiveLimits& limits) {
  KerasArchive archive;
  // Every member is checked for presence first, so a missing one is reported before any parse.
  for (std::string_view member : {kMetadataMember, kConfigMember, kWeightsMember}) {
    if (!zip.contains(member)) {
      throw FileError("zip archive '" + zip.what() + "': member '" + std::string(member) +
                      "' is missing");
    }
  }
  archive.metadata =
      parse_json_object(zip.read(kMetadataMember), member_what(zip, kMetadataMember));
  archive.config = parse_json_object(zip.read(kConfigMember), member_what(zip, kConfigMember));
  const std::string weights = zip.read(kWeightsMember);
  archive.weights = parse_weights_h5(std::as_bytes(std::span(weights.data(), weights.size())),
                                     member_what(zip, kWeightsMember), limits.hdf5);
  return archive;
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
  if (metadata.is_null()) {
    metadata = Config{{"keras_version", kKerasVersion}, {"date_saved", date_saved_now()}};
  }
  if (!metadata.is_object()) {
    throw ValueError("KerasArchive: metadata must be a JSON object. Received: metadata=" +
                     to_json_text(metadata).substr(0, 80));
  }
  const std::array<ZipEntry, 3> entries = {
      ZipEntry{std::string(kMetadataMember), to_json_text(metadata), compression},
      ZipEntry{std::string(kConfigMember), to_json_text(archive.config), compression},
      ZipEntry{std::string(kWeightsMember), weights_image(archive.weights, what), compression},
  };
  return make_zip(entries, what);
}

}  // namespace

KerasArchive load_keras_archive(const std::filesystem::path& path,
                                const KerasArchiveLimits& limits) {
  return read_archive(ZipReader::open(path, limits.zip), limits);
}

KerasArchive parse_keras_archive(std::span<const std::byte> bytes, std::string_view what,
                                 const KerasArchiveLimits& limits) {
  return read_archive(ZipReader::from_bytes(bytes, what, limits.zip), limits);
}

std::string keras_archive_bytes(const KerasArchive& archive, ZipCompression compression) {
  return archive_bytes(archive, compression, "new .keras archive");
}

void save_keras_archive(const std::filesystem::path& path, const KerasArchive& archive,
                        ZipCompression compression) {
  write_file_atomically(path, archive_bytes(archive, compression, path.string()));
}

}  // namespace kattn
