// A model's inputs read from .npy files and its outputs' file names, shared by predict and demo.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "kattn/models/model.hpp"

namespace kattn::cli {

// The array in `file` as input `index` of `model` takes it. int64 ids (numpy's default
// integer) are narrowed to int32 when every value fits; any other dtype mismatch is a
// ValueError naming the input, the dtype it expects and the one the file holds.
AnyTensor read_model_input(const Model& model, size_t index, const std::filesystem::path& file);

// `name` as one part of a file name: at most 200 bytes, and every character other than letters,
// digits, '.', '-' and '_' written as '_'.
std::string file_name_part(const std::string& name);

// "output_<index>_<name>.npy", the golden sets' name for output `index` of `model` (the index
// keeps outputs of the same name apart); characters of the name other than letters, digits,
// '.', '-' and '_' become '_', so that the name stays one file name within the folder.
std::string output_file_name(const Model& model, size_t index);

}  // namespace kattn::cli
