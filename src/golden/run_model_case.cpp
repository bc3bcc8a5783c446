// Golden cases run from their model.keras: the layer-level set's case.json `model` section and
// the whole-model set's case.json describe the inputs and outputs the same way.
#include "golden/loaded_case.hpp"
#include "kattn/io/file.hpp"
#include "kattn/io/json.hpp"
#include "kattn/io/npy.hpp"
#include "kattn/models/model.hpp"

namespace kattn {

namespace {

AnyTensor model_input(const NpyArray& array) {
  if (const auto* tensor = std::get_if<Tensor>(&array)) return *tensor;
  if (const auto* mask = std::get_if<Mask>(&array)) return *mask;
  if (const auto* ids = std::get_if<Int32Tensor>(&array)) return *ids;
  throw Error("an int64 input array; the models take float32, int32 and bool inputs");
}

void expect_load_error(const std::filesystem::path& dir, const Config& manifest,
                       GoldenCaseResult& result) {
  try {
    load_model(dir / manifest.value("model_file", "model.keras"));
  } catch (const NotSupportedError& e) {
    const std::string message = e.what();
    for (const Config& name : manifest.value("unsupported_classes", Config::array())) {
      if (message.find(name.get<std::string>()) == std::string::npos) {
        result.message = "the error does not name " + name.get<std::string>() + ": " + message;
        return;
      }
    }
    result.status = CaseStatus::kPassed;
    return;
  }
  result.message = "the model loaded, but Keras's golden case expects it to be refused";
}

}  // namespace

bool is_whole_model_case(const std::filesystem::path& dir) {
  std::error_code ec;
  return is_golden_case(dir) && !std::filesystem::exists(dir / "layer.json", ec);
}

GoldenCaseResult run_golden_case_via_model(const std::filesystem::path& dir) {
  return golden::run_case(dir, [&](GoldenCaseResult& result) {
    const Config manifest = parse_json_object(read_file_bytes(dir / "case.json"),
                                              "'" + (dir / "case.json").string() + "'");
    const bool layer_level = manifest.contains("model");
    const Config& description = layer_level ? manifest["model"] : manifest;
    result.layer_class = layer_level ? manifest.value("layer_class", "") : "model";
    if (!layer_level && manifest.value("expect_error", false)) {
      expect_load_error(dir, manifest, result);
      return result.status;
    }
    const Model model =
        load_model(dir / description.value(layer_level ? "file" : "model_file", "model.keras"));
    std::vector<AnyTensor> inputs;
    for (const Config& input : description.at("inputs")) {
      inputs.push_back(model_input(read_npy(dir / input.at("file").get<std::string>())));
    }
    const std::vector<AnyTensor> outputs = model.predict(inputs);
    const Config& expected = description.at("outputs");
    if (outputs.size() != expected.size()) {
      throw Error("the model has " + std::to_string(outputs.size()) + " outputs, the case " +
                  std::to_string(expected.size()));
    }
    const Tolerance tolerance = golden::case_tolerance(manifest);
    for (size_t i = 0; i < outputs.size(); ++i) {
      const std::string file = expected[i].at("file").get<std::string>();
      const Tensor* actual = std::get_if<Tensor>(&outputs[i]);
      if (actual == nullptr) throw Error("output " + file + " is not float32");
      result.comparisons.push_back(compare_arrays(expected[i].value("name", file), *actual,
                                                  read_npy_tensor(dir / file), tolerance));
    }
    return golden::verdict(result);
  });
}

}  // namespace kattn
