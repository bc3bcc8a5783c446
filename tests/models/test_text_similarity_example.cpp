// The text-similarity example builds the same model as the Keras-saved golden case text_dot
// (same architecture, names and sizes): its saved config.json and weight layout must be what
// Keras wrote there.
#include <gtest/gtest.h>

#include <cstdlib>

#include "kattn/io/keras_archive.hpp"
#include "models/model_test_util.hpp"

namespace kattn {
namespace {

TEST(TextSimilarityExample, SavesWhatKerasSavesForTheSameModel) {
  const std::filesystem::path saved =
      std::filesystem::temp_directory_path() / "kattn_text_similarity_example.keras";
  const std::string command =
      std::string(KATTN_BINARY_DIR) + "/bin/text_similarity " + saved.string() + " > /dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const KerasArchive ours = load_keras_archive(saved);
  std::filesystem::remove(saved);
  const KerasArchive keras =
      load_keras_archive(testing::golden_models_dir() / "text_dot" / "model.keras");

  EXPECT_EQ(ours.config, testing::without_shared_ids(keras.config));
  EXPECT_EQ(ours.metadata.value("keras_version", ""), "3.16.0");
  EXPECT_EQ(ours.weights.groups(), keras.weights.groups());
  ASSERT_EQ(ours.weights.datasets().size(), keras.weights.datasets().size());
  for (const auto& [path, value] : keras.weights.datasets()) {
    ASSERT_NE(ours.weights.find(path), nullptr) << path;
    EXPECT_EQ(ours.weights.find(path)->shape(), value.shape()) << path;
  }
}

}  // namespace
}  // namespace kattn
