#include <gtest/gtest.h>

#include <cstddef>
#include <filesystem>
#include <string>

#include "kattn/core/error.hpp"
#include "kattn/io/file.hpp"
#include "kattn/io/npy.hpp"

namespace kattn {
namespace {

std::span<const std::byte> as_bytes(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

std::string error_of(const std::string& bytes) {
  try {
    parse_npy(as_bytes(bytes), "test.npy");
  } catch (const FileError& e) {
    return e.what();
  }
  return "no error";
}

// A version 1.0 file with the given header dict and payload.
std::string npy_with_header(const std::string& dict, const std::string& payload) {
  std::string header = dict;
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string bytes = "\x93NUMPY\x01";
  bytes += '\0';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  return bytes + header + payload;
}

class NpyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kattn_npy_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(NpyFile, Float32RoundTrips) {
  const Tensor t({2, 3}, {0, 1.5f, -2, 3, 4, 5});
  write_npy(dir_ / "t.npy", t);
  const Tensor back = read_npy_tensor(dir_ / "t.npy");
  EXPECT_EQ(back.shape(), t.shape());
  EXPECT_EQ(back.to_vector(), t.to_vector());
}

TEST_F(NpyFile, WritesTheSameBytesAsNumpySave) {
  const auto golden = std::filesystem::path(KATTN_TEST_DATA_DIR) / "golden";
  for (const char* file :
       {"attention_dot_tq1/query.npy",
        "attention_dot_scale0_key0_qm1_vm0_causal0_scores0/query_mask.npy",
        "attention_concat_scale1_key1_qm1_vm1_causal1_scores1/weights/luong/scale.npy"}) {
    const std::string numpy_bytes = read_file_bytes(golden / file);
    const NpyArray array = read_npy(golden / file);
    const std::string ours = std::visit([](const auto& a) { return to_npy_bytes(a); }, array);
    EXPECT_EQ(ours, numpy_bytes) << file;
  }
}

TEST_F(NpyFile, BoolAndIntegerRoundTrip) {
  const Mask m({3}, {true, false, true});
  write_npy(dir_ / "m.npy", m);
  EXPECT_EQ(read_npy_mask(dir_ / "m.npy").to_vector(), m.to_vector());
  const Int32Tensor i32({2}, {7, -3});
  write_npy(dir_ / "i.npy", i32);
  EXPECT_EQ(std::get<Int32Tensor>(read_npy(dir_ / "i.npy")).to_vector(), i32.to_vector());
  const Int64Tensor i64({1, 1}, {int64_t{1} << 40});
  write_npy(dir_ / "l.npy", i64);
  EXPECT_EQ(std::get<Int64Tensor>(read_npy(dir_ / "l.npy")).to_vector(), i64.to_vector());
}

TEST_F(NpyFile, ScalarAndStridedViewsAreWrittenInOrder) {
  write_npy(dir_ / "s.npy", Tensor::full({}, 0.7f));
  const Tensor s = read_npy_tensor(dir_ / "s.npy");
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.data()[0], 0.7f);
  const Tensor t({2, 2}, {1, 2, 3, 4});
  write_npy(dir_ / "tt.npy", t.transpose(0, 1));
  EXPECT_EQ(read_npy_tensor(dir_ / "tt.npy").to_vector(), (std::vector<float>{1, 3, 2, 4}));
}

TEST(Npy, Float64IsReadAndCastToFloat32) {
  double values[2] = {0.25, -1e10};
  std::string payload(reinterpret_cast<const char*>(values), sizeof values);
  const NpyArray array =
      parse_npy(as_bytes(npy_with_header(
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", payload)),
                "f8.npy");
  EXPECT_EQ(std::get<Tensor>(array).to_vector(), (std::vector<float>{0.25f, -1e10f}));
}

TEST(Npy, FortranOrderIsReadIntoCOrder) {
  // numpy.save of np.asfortranarray([[1, 2, 3], [4, 5, 6]]): the first axis runs fastest.
  const float values[6] = {1, 4, 2, 5, 3, 6};
  const std::string payload(reinterpret_cast<const char*>(values), sizeof values);
  const NpyArray array =
      parse_npy(as_bytes(npy_with_header(
                    "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", payload)),
                "f.npy");
  const Tensor t = std::get<Tensor>(array);
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.to_vector(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  // Rank 3, and a bool array: axes reversed in the same way.
  const std::string bits = {0, 1, 1, 0, 0, 0, 1, 1};  // (2, 2, 2) in Fortran order
  const Mask m = std::get<Mask>(
      parse_npy(as_bytes(npy_with_header(
                    "{'descr': '|b1', 'fortran_order': True, 'shape': (2, 2, 2), }", bits)),
                "m.npy"));
  // element (i, j, k) sits at i + 2 j + 4 k
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t k = 0; k < 2; ++k) {
        EXPECT_EQ(m(i, j, k), bits[static_cast<size_t>(i + 2 * j + 4 * k)] != 0);
      }
}

TEST(Npy, ReadsKerasGoldenFile) {
  const Tensor q = read_npy_tensor(std::filesystem::path(KATTN_TEST_DATA_DIR) /
                                   "golden/attention_dot_tq1/query.npy");
  EXPECT_EQ(q.rank(), 3);
  EXPECT_EQ(q.dim(1), 1);
}

TEST(Npy, MalformedFilesGiveClearErrors) {
  EXPECT_EQ(error_of("hello"), "malformed .npy 'test.npy': not a .npy file (no \\x93NUMPY magic)");
  const std::string f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  EXPECT_EQ(error_of(npy_with_header(f4, std::string(15, '\0'))),
            "malformed .npy 'test.npy': truncated data: the shape (2, 2) needs 16 bytes, the file "
            "has 15");
  EXPECT_EQ(error_of(npy_with_header(f4, "").substr(0, 40)),
            "malformed .npy 'test.npy': truncated header");
  EXPECT_EQ(
      error_of(
          npy_with_header("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", "abcd")),
      "malformed .npy 'test.npy': unsupported dtype '>f4' (expected one of '<f4', '<f8', '|b1', "
      "'<i4', '<i8')");
  EXPECT_EQ(error_of(npy_with_header("{'descr': '<f4', 'shape': (1,), }", "abcd")),
            "malformed .npy 'test.npy': the header lacks one of 'descr', 'fortran_order', 'shape'");
  EXPECT_EQ(
      error_of(npy_with_header(
          "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000, 1000000), }", "")),
      "malformed .npy 'test.npy': the shape is absurdly large");
  EXPECT_EQ(error_of(npy_with_header("{'descr': '|b1', 'fortran_order': False, 'shape': (1,), }",
                                     std::string(1, '\x07'))),
            "malformed .npy 'test.npy': a bool element is neither 0 nor 1");
  std::string v9 = npy_with_header(f4, std::string(16, '\0'));
  v9[6] = '\x09';
  EXPECT_EQ(error_of(v9),
            "malformed .npy 'test.npy': unsupported format version 9 (expected 1, 2 or 3)");
}

TEST(Npy, AShapeOfThousandsOfAxesIsRefusedBriefly) {
  std::string shape;
  for (int i = 0; i < 5000; ++i) shape += "1, ";
  const std::string message = error_of(
      npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape + "), }", ""));
  EXPECT_EQ(message, "malformed .npy 'test.npy': the shape has more than numpy's 64 dimensions");
}

TEST(Npy, NamesTheDtypeAFileStores) {
  const std::string bytes = npy_with_header(
      "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", std::string(8, '\0'));
  const auto file = parse_npy_file(std::as_bytes(std::span(bytes.data(), bytes.size())), "x");
  EXPECT_EQ(file.dtype, "float64");
  EXPECT_TRUE(std::holds_alternative<Tensor>(file.array));
}

TEST(Npy, WrongDtypeForTheCallerIsAnError) {
  const auto path = std::filesystem::path(KATTN_TEST_DATA_DIR) /
                    "golden/attention_dot_scale0_key0_qm1_vm0_causal0_scores0/query_mask.npy";
  try {
    read_npy_tensor(path);
    FAIL() << "expected FileError";
  } catch (const FileError& e) {
    EXPECT_EQ(std::string(e.what()),
              "wrong dtype in '" + path.string() +
                  "': expected float32 or float64 values, found bool values");
  }
}

TEST(Npy, MissingFileNamesThePath) {
  try {
    read_npy("/nonexistent/kattn/x.npy");
    FAIL() << "expected FileError";
  } catch (const FileError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot read '/nonexistent/kattn/x.npy': No such file or directory");
  }
}

TEST_F(NpyFile, FailedWriteLeavesNoFileBehind) {
  const auto path = dir_ / "missing_dir" / "t.npy";
  EXPECT_THROW(write_npy(path, Tensor({1})), FileError);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "missing_dir"));
}

}  // namespace
}  // namespace kattn
