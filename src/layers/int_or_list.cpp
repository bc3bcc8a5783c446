#include "kattn/layers/int_or_list.hpp"

namespace kattn {

IntOrList IntOrList::read(ConfigReader& reader, std::string_view key, const IntOrList& fallback) {
  const Config value = reader.get(key, fallback.to_json());
  if (value.is_number_integer()) return IntOrList(value.get<int64_t>());
  if (!value.is_array()) reader.fail(key, "an int or a list of ints");
  std::vector<int64_t> list;
  for (const Config& item : value) {
    if (!item.is_number_integer()) reader.fail(key, "an int or a list of ints");
    list.push_back(item.get<int64_t>());
  }
  return IntOrList(std::move(list));
}

Config IntOrList::to_json() const {
  if (is_int) return values[0];
  Config list = Config::array();
  for (const int64_t value : values) list.push_back(value);
  return list;
}

std::string IntOrList::to_string() const {
  if (is_int) return std::to_string(values[0]);
  std::string text = "(";
  for (size_t i = 0; i < values.size(); ++i) {
    text += (i > 0 ? ", " : "") + std::to_string(values[i]);
  }
  return text + (values.size() == 1 ? ",)" : ")");
}

}  // namespace kattn
