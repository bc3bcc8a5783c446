#include <gtest/gtest.h>

#include <string>

#include "io_test_util.hpp"
#include "kattn/core/error.hpp"
#include "kattn/io/json.hpp"

namespace kattn {
namespace {

using testing::message_of;

TEST(Json, ParsesKerasConfig) {
  const std::string text =
      read_file_bytes(testing::data_dir() / "golden-models" / "text_dot" / "case.json");
  const Config config = parse_json_object(text, "case.json");
  EXPECT_EQ(config["case"], "text_dot");
}

TEST(Json, MalformedJsonNamesSourceAndByte) {
  EXPECT_EQ(message_of<FileError>([] { parse_json(R"({"a": 1,})", "config.json"); }),
            "config.json: malformed JSON at byte 8: syntax error while parsing object key - "
            "unexpected '}'; expected string literal");
  EXPECT_EQ(message_of<FileError>([] { parse_json("", "config.json"); }),
            "config.json: malformed JSON at byte 0: syntax error while parsing value - unexpected "
            "end of input; expected '[', '{', or a literal");
  EXPECT_EQ(message_of<FileError>([] { parse_json(R"({"a": 1} x)", "config.json"); }),
            "config.json: malformed JSON at byte 9: syntax error while parsing value - invalid "
            "literal; last read: '1} x'; expected end of input");
}

TEST(Json, TopLevelMustBeAnObject) {
  EXPECT_EQ(message_of<FileError>([] { parse_json_object("[1, 2]", "config.json"); }),
            "config.json: expected a JSON object at the top level, found an array");
  EXPECT_EQ(message_of<FileError>([] { parse_json_object("\"x\"", "config.json"); }),
            "config.json: expected a JSON object at the top level, found a string");
}

TEST(Json, RefusesDeepNestingBeforeParsing) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(message_of<FileError>([&] { parse_json(deep, "config.json"); }),
            "config.json: malformed JSON at byte 256: nested more than 256 levels deep");
  // Brackets inside strings do not count.
  std::string in_string(1, '"');
  in_string.append(1000, '[').append("\\\"\"");
  EXPECT_EQ(parse_json(in_string, "x").get<std::string>(), std::string(1000, '[') + "\"");
}

TEST(Json, NumberOutOfRangeIsAFileError) {
  // Found by fuzz_config_json: nlohmann reports overflow as out_of_range, not parse_error.
  const std::string text = read_file_bytes(testing::data_dir().parent_path() / "io" /
                                           "fuzz_regressions" / "config_json_number_overflow.json");
  EXPECT_EQ(message_of<FileError>([&] { parse_json(text, "config.json"); }),
            "config.json: malformed JSON: number overflow parsing "
            "'33333333333333333333333333336666666666666666666666.66666666666666666666666666666e66"
            "6666666666666666666666666666'");
}

TEST(Json, PrintsAsciiOnlyAndParsesBack) {
  const Config config = {{"name", "caf\xc3\xa9"}, {"units", 8}, {"rate", 0.1}};
  const std::string text = to_json_text(config);
  EXPECT_EQ(text, R"({"name":"caf\u00e9","rate":0.1,"units":8})");
  EXPECT_EQ(parse_json(text, "x"), config);
}

TEST(Json, MetadataRegressionReadsWithLayerArgs) {
  // Found by fuzz_config_json: ConfigReader getters returned references to temporaries.
  const std::string text =
      read_file_bytes(testing::data_dir().parent_path() / "io" / "fuzz_regressions" /
                      "config_json_dangling_fallback.json");
  const Config config = parse_json_object(text, "metadata.json");
  ConfigReader reader(config, {"Fuzz", "fuzz"});
  const LayerArgs args = read_layer_args(reader, "default_name");
  EXPECT_EQ(args.name, "default_name");
  EXPECT_TRUE(args.trainable);
  EXPECT_EQ(reader.get_int("num_heads", 3), 3);
  EXPECT_EQ(reader.get_number("dropout", 0.25), 0.25);
  EXPECT_EQ(reader.get_string("class_name", "Attention"), "Attention");
}

}  // namespace
}  // namespace kattn
