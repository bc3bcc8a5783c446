// The text-similarity network of the Keras documentation for layers.Attention (model.hpp),
// run, saved as a .keras file Keras loads, and loaded back.
//
// usage: text_similarity [OUTPUT.keras]     (default: text_similarity.keras)
#include <cstdio>
#include <iostream>
#include <vector>

#include "model.hpp"

namespace {

void print_scores(const char* label, const kattn::Tensor& scores) {
  std::printf("%s", label);
  for (float score : scores.to_vector()) std::printf(" %.6f", static_cast<double>(score));
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "text_similarity.keras";
  try {
    const kattn::Model model = text_similarity_model();
    std::cout << model.summary();

    // Two pairs of token sequences (batch 2): queries of 5 tokens, values of 7.
    const kattn::Int32Tensor query_tokens({2, 5}, {3, 14, 15, 9, 2, 6, 5, 35, 8, 9});
    const kattn::Int32Tensor value_tokens({2, 7}, {7, 9, 3, 2, 38, 4, 6, 2, 6, 4, 33, 8, 3, 27});
    const kattn::Tensor scores =
        std::get<kattn::Tensor>(model.predict({query_tokens, value_tokens}).front());
    print_scores("similarity:", scores);

    kattn::save_model(model, path);
    const kattn::Model reloaded = kattn::load_model(path);
    const kattn::Tensor reloaded_scores =
        std::get<kattn::Tensor>(reloaded.predict({query_tokens, value_tokens}).front());
    print_scores("reloaded:  ", reloaded_scores);
    const bool identical = reloaded_scores.to_vector() == scores.to_vector();
    std::printf("saved %s; the reloaded model's outputs are %s\n", path,
                identical ? "identical" : "DIFFERENT");
    return identical ? 0 : 1;
  } catch (const kattn::Error& e) {
    std::cerr << "text_similarity: " << e.what() << "\n";
    return 2;
  }
}
