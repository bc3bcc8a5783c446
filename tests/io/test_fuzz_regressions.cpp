// Inputs the fuzz targets (fuzz/) once crashed on, kept so the fixes stay fixed. Every file in
// tests/io/fuzz_regressions/ goes through every reader; each must load or fail with a FileError.
#include <gtest/gtest.h>

#include <variant>

#include "io_test_util.hpp"
#include "kattn/core/error.hpp"
#include "kattn/io/json.hpp"
#include "kattn/io/keras_archive.hpp"
#include "kattn/io/npy.hpp"

namespace kattn {
namespace {

using testing::bytes_of;
using testing::message_of;
namespace fs = std::filesystem;

fs::path regressions_dir() { return testing::data_dir().parent_path() / "io" / "fuzz_regressions"; }

template <typename Body>
void loads_or_fails_cleanly(Body&& body) {
  try {
    body();
  } catch (const FileError&) {
  }
}

TEST(FuzzRegressions, EveryInputThroughEveryReader) {
  int64_t inputs = 0;
  for (const auto& entry : fs::directory_iterator(regressions_dir())) {
    SCOPED_TRACE(entry.path().filename().string());
    const std::string bytes = read_file_bytes(entry.path());
    // What loads must save and load back, as in the fuzz targets.
    loads_or_fails_cleanly([&] {
      const KerasArchive archive = parse_keras_archive(bytes_of(bytes), "fuzz.keras");
      const std::string saved = keras_archive_bytes(archive);
      EXPECT_EQ(parse_keras_archive(bytes_of(saved), "saved.keras").weights.groups(),
                archive.weights.groups());
    });
    loads_or_fails_cleanly([&] {
      const WeightStore store = parse_weights_h5(bytes_of(bytes), "fuzz.h5");
      const std::string saved = weights_h5_bytes(store);
      EXPECT_EQ(parse_weights_h5(bytes_of(saved), "saved.h5").groups(), store.groups());
    });
    loads_or_fails_cleanly([&] { parse_json(bytes, "fuzz.json"); });
    loads_or_fails_cleanly([&] {
      const NpyArray array = parse_npy(bytes_of(bytes), "fuzz.npy");
      const std::string saved = std::visit([](const auto& a) { return to_npy_bytes(a); }, array);
      EXPECT_EQ(parse_npy(bytes_of(saved), "saved.npy").index(), array.index());
    });
    ++inputs;
  }
  EXPECT_GE(inputs, 6);
}

TEST(FuzzRegressions, EmptyNpyArrayWritesBack) {
  // memcpy from the null data pointer of an empty vector (UBSan).
  const std::string bytes = read_file_bytes(regressions_dir() / "npy_empty_array_memcpy_null.npy");
  const Tensor array = std::get<Tensor>(parse_npy(bytes_of(bytes), "x.npy"));
  EXPECT_EQ(array.shape(), Shape{0});
  EXPECT_EQ(std::get<Tensor>(parse_npy(bytes_of(to_npy_bytes(array)), "y.npy")).shape(), Shape{0});
}

TEST(FuzzRegressions, HugeAxesBesideAZeroAxisAreRefused) {
  // Shape (0, 3000041, 10008041, 10008006, 8): zero elements, but strides overflowed int64.
  const std::string bytes =
      read_file_bytes(regressions_dir() / "npy_zero_axis_stride_overflow.npy");
  EXPECT_EQ(message_of<FileError>([&] { parse_npy(bytes_of(bytes), "x.npy"); }),
            "malformed .npy 'x.npy': the shape is absurdly large");
}

TEST(FuzzRegressions, DuplicateMemberNamesAreRefused) {
  // A heap string "input_layer\0..." loaded whole, then could not be written back (see
  // Hdf5File.NameWithANulCharacterEndsThere); the same file names two members of a group alike,
  // which libhdf5's lookups by binary search cannot tell apart.
  const std::string bytes = read_file_bytes(regressions_dir() / "h5_name_with_nul.h5");
  EXPECT_EQ(message_of<FileError>([&] { parse_weights_h5(bytes_of(bytes), "x.h5"); }),
            "x.h5: group 'layers/multi_head_attention/query_dense/vars' has two members named "
            "'1'");
}

TEST(FuzzRegressions, AttributeShorterThanItsTypeIsRefused) {
  // HDF5 copied 16 bytes out of a 9-byte attribute value (ASan heap-buffer-overflow).
  const std::string bytes =
      read_file_bytes(regressions_dir() / "h5_attribute_shorter_than_type.h5");
  EXPECT_EQ(message_of<FileError>([&] { parse_weights_h5(bytes_of(bytes), "x.h5"); }),
            "x.h5: the attribute message at byte 12480 of "
            "'layers/multi_head_attention/key_dense/vars' declares a malformed variable-length "
            "string type");
}

TEST(FuzzRegressions, Hdf5InputThatLeakedInsideLibhdf5FailsCleanly) {
  const std::string bytes = read_file_bytes(regressions_dir() / "h5_hdf5_internal_leak.h5");
  EXPECT_THROW(parse_weights_h5(bytes_of(bytes), "x.h5"), FileError);
}

}  // namespace
}  // namespace kattn
