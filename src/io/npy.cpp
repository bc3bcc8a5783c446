#include "kattn/io/npy.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include "kattn/core/error.hpp"
#include "kattn/io/file.hpp"

namespace kattn {

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
// Refuses arrays above 2^40 elements before any allocation (absurd sizes in hostile files).
constexpr int64_t kMaxElements = int64_t{1} << 40;
// numpy 2's largest number of dimensions.
constexpr size_t kMaxRank = 64;

[[noreturn]] void malformed(std::string_view what, std::string_view problem) {
  throw FileError("malformed .npy '" + std::string(what) + "': " + std::string(problem));
}

// The header dict as numpy writes it: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
struct Header {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
};

// A cursor over the header's Python literal.
class LiteralParser {
 public:
  LiteralParser(std::string_view text, std::string_view what) : text_(text), what_(what) {}

  Header parse_header() {
    Header header;
    bool has_descr = false, has_order = false, has_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') {
        ++pos_;
        break;
      }
      const std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        header.descr = parse_string();
        has_descr = true;
      } else if (key == "fortran_order") {
        header.fortran_order = parse_bool();
        has_order = true;
      } else if (key == "shape") {
        header.shape = parse_shape();
        has_shape = true;
      } else {
        malformed(what_, "unexpected header key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != '}') {
        malformed(what_, "expected ',' or '}' in the header");
      }
    }
    if (!has_descr || !has_order || !has_shape) {
      malformed(what_, "the header lacks one of 'descr', 'fortran_order', 'shape'");
    }
    return header;
  }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) malformed(what_, std::string("expected '") + c + "' in the header");
    ++pos_;
  }
  std::string parse_string() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') malformed(what_, "expected a string in the header");
    const size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) malformed(what_, "unterminated string in the header");
    std::string value(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return value;
  }
  bool parse_bool() {
    skip_space();
    if (text_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    malformed(what_, "expected True or False for 'fortran_order'");
  }
  Shape parse_shape() {
    Shape shape;
    expect('(');
    while (true) {
      skip_space();
      if (peek() == ')') {
        ++pos_;
        return shape;
      }
      int64_t value = 0;
      bool digits = false;
      while (peek() >= '0' && peek() <= '9') {
        if (value > (std::numeric_limits<int64_t>::max() - 9) / 10) {
          malformed(what_, "a dimension in 'shape' is too large");
        }
        value = value * 10 + (peek() - '0');
        ++pos_;
        digits = true;
      }
      if (peek() == 'L') ++pos_;  // Python 2 long literals
      if (!digits) malformed(what_, "expected a non-negative integer in 'shape'");
      if (shape.size() == kMaxRank) {
        malformed(what_,
                  "the shape has more than numpy's " + std::to_string(kMaxRank) + " dimensions");
      }
      shape.push_back(value);
      skip_space();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != ')') {
        malformed(what_, "expected ',' or ')' in 'shape'");
      }
    }
  }

  std::string_view text_;
  std::string_view what_;
  size_t pos_ = 0;
};

template <typename T>
T load_element(const std::byte* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

template <typename T, typename Stored = T>
BasicTensor<T> load_array(const Shape& shape, const std::byte* data) {
  BasicTensor<T> array(shape);
  T* out = array.data();
  const int64_t count = array.size();
  for (int64_t i = 0; i < count; ++i) {
    out[i] = static_cast<T>(load_element<Stored>(data + i * static_cast<int64_t>(sizeof(Stored))));
  }
  return array;
}

Mask load_bool_array(const Shape& shape, const std::byte* data, std::string_view what) {
  Mask array(shape);
  bool* out = array.data();
  for (int64_t i = 0; i < array.size(); ++i) {
    const auto byte = static_cast<unsigned char>(data[i]);
    if (byte > 1) malformed(what, "a bool element is neither 0 nor 1");
    out[i] = byte == 1;
  }
  return array;
}

std::string_view dtype_of_descr(std::string_view descr) {
  if (descr == "<f4") return "float32";
  if (descr == "<f8") return "float64";
  if (descr == "<i4") return "int32";
  if (descr == "<i8") return "int64";
  return "bool";
}

int64_t item_size(std::string_view descr) {
  if (descr == "<f4" || descr == "<i4") return 4;
  if (descr == "<f8" || descr == "<i8") return 8;
  if (descr == "|b1") return 1;
  return 0;
}

std::string header_block(std::string_view descr, const Shape& shape) {
  std::string dict = "{'descr': '" + std::string(descr) +
                     "', 'fortran_order': False, 'shape': " + shape_to_string(shape) + ", }";
  // numpy pads with spaces so that magic + version + length + header is a multiple of 64,
  // the header ending in a newline.
  const size_t unpadded = kMagic.size() + 2 + 2 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string block(kMagic);
  block += '\x01';
  block += '\x00';
  block += static_cast<char>(dict.size() & 0xff);
  block += static_cast<char>((dict.size() >> 8) & 0xff);
  return block + dict;
}

template <typename T>
std::string npy_bytes(const BasicTensor<T>& array, std::string_view descr) {
  std::string bytes = header_block(descr, array.shape());
  const std::vector<T> values = array.to_vector();
  if constexpr (std::is_same_v<T, bool>) {
    for (bool value : values) bytes += static_cast<char>(value ? 1 : 0);
  } else {
    const size_t start = bytes.size();
    bytes.resize(start + values.size() * sizeof(T));
    // An empty array's vector may hold no buffer at all, and memcpy from null is undefined.
    if (!values.empty()) {
      std::memcpy(bytes.data() + start, values.data(), values.size() * sizeof(T));
    }
  }
  return bytes;
}

}  // namespace

NpyArray parse_npy(std::span<const std::byte> bytes, std::string_view what) {
  return parse_npy_file(bytes, what).array;
}

NpyFile parse_npy_file(std::span<const std::byte> bytes, std::string_view what) {
  const auto* text = reinterpret_cast<const char*>(bytes.data());
  if (bytes.size() < 10 || std::string_view(text, kMagic.size()) != kMagic) {
    malformed(what, "not a .npy file (no \\x93NUMPY magic)");
  }
  const auto major = static_cast<unsigned char>(text[6]);
  size_t header_length = 0;
  size_t header_start = 0;
  if (major == 1) {
    header_length = static_cast<unsigned char>(text[8]) |
                    static_cast<size_t>(static_cast<unsigned char>(text[9])) << 8;
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) malformed(what, "truncated header");
    for (int i = 3; i >= 0; --i) {
      header_length = header_length << 8 | static_cast<unsigned char>(text[8 + i]);
    }
    header_start = 12;
  } else {
    malformed(what,
              "unsupported format version " + std::to_string(major) + " (expected 1, 2 or 3)");
  }
  if (header_length > bytes.size() - header_start) malformed(what, "truncated header");
  const Header header =
      LiteralParser(std::string_view(text + header_start, header_length), what).parse_header();
  const int64_t itemsize = item_size(header.descr);
  if (itemsize == 0) {
    malformed(what, "unsupported dtype '" + header.descr +
                        "' (expected one of '<f4', '<f8', '|b1', '<i4', '<i8')");
  }
  // Every non-zero dimension counts toward the limit, even when another one is 0: the tensor's
  // strides multiply them all.
  int64_t count = 1;
  int64_t nonzero_count = 1;
  for (int64_t d : header.shape) {
    if (d > 0 && nonzero_count > kMaxElements / d) malformed(what, "the shape is absurdly large");
    if (d > 0) nonzero_count *= d;
    count *= d;
  }
  const size_t data_start = header_start + header_length;
  const auto available = static_cast<int64_t>(bytes.size() - data_start);
  if (count * itemsize > available) {
    malformed(what, "truncated data: the shape " + shape_to_string(header.shape) + " needs " +
                        std::to_string(count * itemsize) + " bytes, the file has " +
                        std::to_string(available));
  }
  const std::byte* data = bytes.data() + data_start;
  // Fortran order (first axis fastest) is C order of the reversed shape; the array is read so
  // and its axes reversed back into a C-order copy.
  Shape stored_shape = header.shape;
  if (header.fortran_order) std::reverse(stored_shape.begin(), stored_shape.end());
  NpyFile file{.array = {}, .dtype = std::string(dtype_of_descr(header.descr))};
  NpyArray& array = file.array;
  if (header.descr == "<f4") {
    array = load_array<float>(stored_shape, data);
  } else if (header.descr == "<f8") {
    array = load_array<float, double>(stored_shape, data);
  } else if (header.descr == "<i4") {
    array = load_array<int32_t>(stored_shape, data);
  } else if (header.descr == "<i8") {
    array = load_array<int64_t>(stored_shape, data);
  } else {
    array = load_bool_array(stored_shape, data, what);
  }
  if (!header.fortran_order) return file;
  array = std::visit(
      [](auto& stored) -> NpyArray {
        auto view = stored;
        for (int64_t a = 0, b = view.rank() - 1; a < b; ++a, --b) view = view.transpose(a, b);
        return view.contiguous();
      },
      array);
  return file;
}

NpyFile read_npy_file(const std::filesystem::path& path) {
  const std::string bytes = read_file_bytes(path);
  return parse_npy_file(std::as_bytes(std::span(bytes.data(), bytes.size())), path.string());
}

NpyArray read_npy(const std::filesystem::path& path) { return read_npy_file(path).array; }

Tensor read_npy_tensor(const std::filesystem::path& path) {
  NpyArray array = read_npy(path);
  if (auto* tensor = std::get_if<Tensor>(&array)) return *tensor;
  throw FileError("wrong dtype in '" + path.string() +
                  "': expected float32 or float64 values, found " +
                  (std::holds_alternative<Mask>(array) ? "bool" : "integer") + " values");
}

Mask read_npy_mask(const std::filesystem::path& path) {
  NpyArray array = read_npy(path);
  if (auto* mask = std::get_if<Mask>(&array)) return *mask;
  throw FileError("wrong dtype in '" + path.string() + "': expected bool values, found " +
                  (std::holds_alternative<Tensor>(array) ? "float" : "integer") + " values");
}

std::string to_npy_bytes(const Tensor& array) { return npy_bytes(array, "<f4"); }
std::string to_npy_bytes(const Mask& array) { return npy_bytes(array, "|b1"); }
std::string to_npy_bytes(const Int32Tensor& array) { return npy_bytes(array, "<i4"); }
std::string to_npy_bytes(const Int64Tensor& array) { return npy_bytes(array, "<i8"); }

void write_npy(const std::filesystem::path& path, const Tensor& array) {
  write_file_atomically(path, to_npy_bytes(array));
}
void write_npy(const std::filesystem::path& path, const Mask& array) {
  write_file_atomically(path, to_npy_bytes(array));
}
void write_npy(const std::filesystem::path& path, const Int32Tensor& array) {
  write_file_atomically(path, to_npy_bytes(array));
}
void write_npy(const std::filesystem::path& path, const Int64Tensor& array) {
  write_file_atomically(path, to_npy_bytes(array));
}

}  // namespace kattn
