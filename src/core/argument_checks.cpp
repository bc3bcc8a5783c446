#include "core/argument_checks.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace kattn::detail {

std::string python_float(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  // Python's repr: the shortest round-tripping digits, written positionally when the decimal
  // exponent lies in [-4, 16) (always with a fractional part) and in exponent form otherwise.
  char buffer[64];
  const auto result =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  const std::string text(buffer, result.ptr);  // "-1.2345e+02"
  const size_t e = text.find('e');
  const bool negative = text[0] == '-';
  std::string digits = text.substr(negative ? 1 : 0, e - (negative ? 1 : 0));
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exponent = std::stoi(text.substr(e + 1));
  std::string out;
  if (negative) out.push_back('-');
  if (exponent < -4 || exponent >= 16) {
    out.append(digits, 0, 1);
    if (digits.size() > 1) out.append(".").append(digits, 1);
    out.append(text, e);
    return out;
  }
  if (exponent < 0) {
    out.append("0.").append(static_cast<size_t>(-exponent - 1), '0').append(digits);
    return out;
  }
  const auto integral = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= integral) {
    out.append(digits).append(integral - digits.size(), '0').append(".0");
  } else {
    out.append(digits, 0, integral).append(".").append(digits, integral);
  }
  return out;
}

void check_dropout_rate(ErrorSource source, double dropout) {
  if (!(dropout >= 0.0 && dropout < 1.0)) {
    throw_value_error(source, "Invalid value for argument `dropout`", "a float in [0, 1)",
                      "dropout=" + python_float(dropout));
  }
}

}  // namespace kattn::detail
