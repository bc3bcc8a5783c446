// The training example: the documented text-similarity network trained in C++ must lower its
// loss, beat chance clearly on held-out pairs, and save the .keras file Keras saves for that
// model (the config and weight layout of the Keras-saved golden case text_dot).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "kattn/io/keras_archive.hpp"
#include "models/model_test_util.hpp"

namespace kattn {
namespace {

TEST(TrainTextSimilarityExample, LearnsAndSavesWhatKerasSaves) {
  const auto dir = std::filesystem::temp_directory_path();
  const std::filesystem::path saved = dir / "kattn_train_text_similarity.keras";
  const std::filesystem::path log = dir / "kattn_train_text_similarity.log";
  const std::string command = std::string(KATTN_BINARY_DIR) + "/bin/train_text_similarity " +
                              saved.string() + " 6 > " + log.string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove(log);

  double first = 0, last = 0, held_out_loss = 0, accuracy = 0;
  int epochs = 0;
  std::string line;
  while (std::getline(text, line)) {
    if (line.rfind("Epoch ", 0) == 0) ++epochs;
    std::sscanf(line.c_str(), "training loss: %lf in the first epoch, %lf in the last", &first,
                &last);
    std::sscanf(line.c_str(), "held-out pairs: loss %lf, accuracy %lf", &held_out_loss, &accuracy);
  }
  EXPECT_EQ(epochs, 6) << text.str();
  EXPECT_GT(first, 0.0) << text.str();
  EXPECT_LT(last, 0.7 * first) << text.str();
  EXPECT_GE(accuracy, 0.8) << text.str();

  const KerasArchive ours = load_keras_archive(saved);
  std::filesystem::remove(saved);
  const KerasArchive keras =
      load_keras_archive(testing::golden_models_dir() / "text_dot" / "model.keras");
  // The same model as Keras's, saved compiled: with its compile_config and the optimizer's
  // variables (the iteration count, the learning rate, two Adam slots per trainable weight).
  Config config = ours.config;
  EXPECT_EQ(config["compile_config"]["optimizer"]["class_name"], "Adam");
  EXPECT_EQ(config["compile_config"]["metrics"], Config::array({"accuracy"}));
  config["compile_config"] = Config::object();
  EXPECT_EQ(config, testing::without_shared_ids(keras.config));
  auto groups = ours.weights.groups();
  EXPECT_EQ(groups.at("optimizer/vars"), "adam");
  groups.erase("optimizer");
  groups.erase("optimizer/vars");
  EXPECT_EQ(groups, keras.weights.groups());
  ASSERT_NE(ours.weights.find_integer("optimizer/vars/0"), nullptr);
  EXPECT_GT(ours.weights.find_integer("optimizer/vars/0")->data()[0], 0);
  const size_t trainable = keras.weights.datasets().size();
  EXPECT_NE(ours.weights.find("optimizer/vars/" + std::to_string(1 + 2 * trainable)), nullptr);
  EXPECT_EQ(ours.weights.find("optimizer/vars/" + std::to_string(2 + 2 * trainable)), nullptr);
  for (const auto& [path, value] : keras.weights.datasets()) {
    ASSERT_NE(ours.weights.find(path), nullptr) << path;
    EXPECT_EQ(ours.weights.find(path)->shape(), value.shape()) << path;
  }
}

}  // namespace
}  // namespace kattn
