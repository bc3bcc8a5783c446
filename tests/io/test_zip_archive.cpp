#include <gtest/gtest.h>
#include <zip.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "kattn/core/error.hpp"
#include "kattn/io/zip_archive.hpp"

namespace kattn {
namespace {

using testing::bytes_of;
using testing::message_of;

std::string some_text(size_t size) {
  std::string text;
  for (size_t i = 0; text.size() < size; ++i) text += "line " + std::to_string(i % 97) + "\n";
  text.resize(size);
  return text;
}

std::vector<ZipEntry> sample_entries() {
  return {
      ZipEntry{"metadata.json", R"({"keras_version": "3.16.0"})", ZipCompression::kStored},
      ZipEntry{"big.txt", some_text(100000), ZipCompression::kDeflated},
      ZipEntry{"empty", "", ZipCompression::kStored},
  };
}

void put_u32(std::string& bytes, size_t at, uint32_t value) {
  for (size_t i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

// Offsets of the local header and of the central directory entry of the first member.
struct Headers {
  size_t local;
  size_t central;
};
Headers first_member_headers(const std::string& zip) {
  return {zip.find("PK\x03\x04"), zip.find("PK\x01\x02")};
}

TEST(ZipArchive, StoredAndDeflatedMembersRoundTrip) {
  const std::vector<ZipEntry> entries = sample_entries();
  const std::string zip = make_zip(entries, "test.zip");
  const ZipReader reader = ZipReader::from_bytes(bytes_of(zip), "test.zip");
  ASSERT_EQ(reader.members().size(), 3u);
  for (size_t i = 0; i < entries.size(); ++i) {
    const ZipMemberInfo& info = reader.members()[i];
    EXPECT_EQ(info.name, entries[i].name);
    EXPECT_EQ(info.size, entries[i].bytes.size());
    EXPECT_EQ(info.compression, entries[i].compression);
    EXPECT_EQ(reader.read(entries[i].name), entries[i].bytes);
  }
  EXPECT_LT(reader.members()[1].compressed_size, 10000u);  // deflate did compress
  EXPECT_TRUE(reader.contains("big.txt"));
  EXPECT_FALSE(reader.contains("other"));
}

TEST(ZipArchive, SameEntriesGiveSameBytes) {
  EXPECT_EQ(make_zip(sample_entries(), "a"), make_zip(sample_entries(), "b"));
}

TEST(ZipArchive, ReadsGoldenKerasFileFromDisk) {
  const auto path = testing::data_dir() / "golden" / "attention_self_dot_causal" / "model.keras";
  const ZipReader reader = ZipReader::open(path);
  std::vector<std::string> names;
  for (const ZipMemberInfo& info : reader.members()) {
    names.push_back(info.name);
    EXPECT_EQ(info.compression, ZipCompression::kStored);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"metadata.json", "config.json", "model.weights.h5"}));
  EXPECT_TRUE(reader.read("model.weights.h5").starts_with("\x89HDF\r\n\x1a\n"));
}

TEST(ZipArchive, MissingMemberIsNamed) {
  const std::string zip = make_zip(sample_entries(), "test.zip");
  const ZipReader reader = ZipReader::from_bytes(bytes_of(zip), "model.keras");
  EXPECT_EQ(message_of<FileError>([&] { reader.read("config.json"); }),
            "zip archive 'model.keras': member 'config.json' is missing");
}

TEST(ZipArchive, NotAZip) {
  EXPECT_EQ(
      message_of<FileError>([] { ZipReader::from_bytes(bytes_of("hello world"), "x.keras"); }),
      "zip archive 'x.keras': not a zip archive");
  // libzip alone would take an empty file for an archive with no members.
  EXPECT_EQ(message_of<FileError>([] { ZipReader::from_bytes({}, "x.keras"); }),
            "zip archive 'x.keras': not a zip archive (it is empty)");
}

TEST(ZipArchive, TruncatedArchive) {
  const std::string zip = make_zip(sample_entries(), "test.zip");
  const std::string half = zip.substr(0, zip.size() / 2);
  EXPECT_EQ(message_of<FileError>([&] { ZipReader::from_bytes(bytes_of(half), "x.keras"); }),
            "zip archive 'x.keras': truncated (the end of central directory record is missing)");
}

TEST(ZipArchive, MissingFile) {
  EXPECT_EQ(message_of<FileError>([] { ZipReader::open("/nonexistent/model.keras"); }),
            "zip archive '/nonexistent/model.keras': no such file");
}

TEST(ZipArchive, CrcMismatchInStoredMember) {
  std::string zip = make_zip({{ZipEntry{"config.json", "{\"a\": 1}"}}}, "test.zip");
  const size_t data = zip.find("{\"a\": 1}");
  ASSERT_NE(data, std::string::npos);
  zip[data + 6] = '2';
  const ZipReader reader = ZipReader::from_bytes(bytes_of(zip), "x.keras");
  EXPECT_EQ(message_of<FileError>([&] { reader.read("config.json"); }),
            "zip archive 'x.keras': member 'config.json' is corrupt (CRC mismatch)");
}

TEST(ZipArchive, CorruptDeflateStream) {
  std::string zip =
      make_zip({{ZipEntry{"big.txt", some_text(5000), ZipCompression::kDeflated}}}, "test.zip");
  const Headers headers = first_member_headers(zip);
  const size_t data = headers.local + 30 + std::strlen("big.txt");
  // 0xff starts a block of the reserved type 3: invalid for every inflater.
  for (size_t i = data; i < data + 16; ++i) zip[i] = '\xff';
  const ZipReader reader = ZipReader::from_bytes(bytes_of(zip), "x.keras");
  EXPECT_EQ(message_of<FileError>([&] { reader.read("big.txt"); }),
            "zip archive 'x.keras': member 'big.txt' is corrupt (invalid deflate data)");
}

TEST(ZipArchive, RefusesDeclaredSizeAboveLimitBeforeReading) {
  std::string zip = make_zip({{ZipEntry{"model.weights.h5", "0123456789"}}}, "test.zip");
  const Headers headers = first_member_headers(zip);
  put_u32(zip, headers.local + 22, 0xfffffff0u);  // uncompressed size
  put_u32(zip, headers.central + 24, 0xfffffff0u);
  const ZipReader reader =
      ZipReader::from_bytes(bytes_of(zip), "x.keras", ZipLimits{.max_member_bytes = 1 << 20});
  EXPECT_EQ(message_of<FileError>([&] { reader.read("model.weights.h5"); }),
            "zip archive 'x.keras': member 'model.weights.h5' declares 4294967280 bytes, more "
            "than the limit of 1048576");
}

TEST(ZipArchive, RefusesImpossibleCompressionRatio) {
  std::string zip =
      make_zip({{ZipEntry{"config.json", some_text(5000), ZipCompression::kDeflated}}}, "test.zip");
  const Headers headers = first_member_headers(zip);
  put_u32(zip, headers.local + 22, 0xfffffff0u);
  put_u32(zip, headers.central + 24, 0xfffffff0u);
  const ZipReader reader = ZipReader::from_bytes(bytes_of(zip), "x.keras");
  const std::string compressed = std::to_string(reader.members()[0].compressed_size);
  EXPECT_EQ(message_of<FileError>([&] { reader.read("config.json"); }),
            "zip archive 'x.keras': member 'config.json' declares 4294967280 bytes from " +
                compressed + " compressed bytes, an impossible compression ratio");
}

TEST(ZipArchive, MemberShorterThanDeclaredIsTruncated) {
  std::string zip =
      make_zip({{ZipEntry{"big.txt", some_text(5000), ZipCompression::kDeflated}}}, "test.zip");
  const Headers headers = first_member_headers(zip);
  put_u32(zip, headers.local + 22, 6000);
  put_u32(zip, headers.central + 24, 6000);
  const ZipReader reader = ZipReader::from_bytes(bytes_of(zip), "x.keras");
  EXPECT_EQ(message_of<FileError>([&] { reader.read("big.txt"); }),
            "zip archive 'x.keras': member 'big.txt' is truncated: 5000 of 6000 bytes");
}

TEST(ZipArchive, RefusesDuplicateNamesWhenWriting) {
  const std::vector<ZipEntry> entries = {ZipEntry{"a", "1"}, ZipEntry{"a", "2"}};
  EXPECT_EQ(message_of<FileError>([&] { make_zip(entries, "out.keras"); }),
            "zip archive 'out.keras': member 'a' is given twice");
}

TEST(ZipArchive, NamesAMemberThatAppearsTwice) {
  const std::vector<ZipEntry> entries = {ZipEntry{"config.json", "1"},
                                         ZipEntry{"configXjson", "2"}};
  std::string zip = make_zip(entries, "x.keras");
  // Both headers of the second member renamed onto the first.
  for (size_t at = zip.find("configXjson"); at != std::string::npos;
       at = zip.find("configXjson", at)) {
    zip[at + 6] = '.';
  }
  EXPECT_EQ(message_of<FileError>([&] { ZipReader::from_bytes(bytes_of(zip), "x.keras"); }),
            "zip archive 'x.keras': member 'config.json' appears more than once");
}

TEST(ZipArchive, ReadsAnArchiveWithBytesPrependedAsPythonDoes) {
  const std::string zip = "#!/bin/sh\nexit 0\n" + make_zip(sample_entries(), "x.keras");
  const ZipReader reader = ZipReader::from_bytes(bytes_of(zip), "x.keras");
  EXPECT_EQ(reader.read("big.txt"), some_text(100000));
  EXPECT_EQ(reader.members().size(), 3u);
}

class ZipFiles : public testing::TempDirTest {};

TEST_F(ZipFiles, ReadsAnArchiveWithBytesPrependedFromDisk) {
  const auto path = dir_ / "stub.keras";
  write_file_atomically(path, "#!/bin/sh\nexit 0\n" + make_zip(sample_entries(), "x"));
  EXPECT_EQ(ZipReader::open(path).read("big.txt"), some_text(100000));
}

TEST_F(ZipFiles, ReadsADeflatedMemberOver4GiBInPieces) {
  // 4 GiB + 1 of zeros, deflated (zip64): libzip 1.7 fails one read of that size. The zeros
  // come from calloc, which costs no memory until written.
  constexpr zip_uint64_t kSize = (zip_uint64_t{1} << 32) + 1;
  std::unique_ptr<char, decltype(&std::free)> zeros(static_cast<char*>(std::calloc(kSize, 1)),
                                                    &std::free);
  ASSERT_NE(zeros, nullptr);
  const auto path = dir_ / "big.zip";
  int error = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_EXCL, &error);
  ASSERT_NE(archive, nullptr);
  zip_source_t* source = zip_source_buffer(archive, zeros.get(), kSize, 0);
  ASSERT_NE(source, nullptr);
  const zip_int64_t index = zip_file_add(archive, "zeros", source, 0);
  ASSERT_GE(index, 0);
  ASSERT_EQ(zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_DEFLATE, 1),
            0);
  ASSERT_EQ(zip_close(archive), 0);

  const ZipReader reader = ZipReader::open(path);
  ASSERT_EQ(reader.members()[0].size, kSize);
  uint64_t seen = 0;
  bool all_zero = true;
  size_t largest = 0;
  reader.read_chunks("zeros", [&](std::string_view piece) {
    seen += piece.size();
    largest = std::max(largest, piece.size());
    all_zero = all_zero && piece.find_first_not_of('\0') == std::string_view::npos;
  });
  EXPECT_EQ(seen, kSize);
  EXPECT_TRUE(all_zero);
  EXPECT_LE(largest, size_t{1} << 20);
}

TEST_F(ZipFiles, WriteThenOpenFromDisk) {
  const auto path = dir_ / "out.zip";
  write_zip(path, sample_entries());
  EXPECT_EQ(files(), (std::vector<std::string>{"out.zip"}));
  const ZipReader reader = ZipReader::open(path);
  EXPECT_EQ(reader.what(), path.string());
  EXPECT_EQ(reader.read("big.txt"), some_text(100000));
}

TEST_F(ZipFiles, FailedWriteLeavesNoFile) {
  const auto path = dir_ / "missing" / "out.zip";
  EXPECT_THROW(write_zip(path, sample_entries()), FileError);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "missing"));
  EXPECT_TRUE(files().empty());
}

TEST_F(ZipFiles, ReadingADirectoryIsRefused) {
  EXPECT_EQ(message_of<FileError>([&] { ZipReader::open(dir_); }),
            "zip archive '" + dir_.string() + "': is a directory");
}

}  // namespace
}  // namespace kattn
