// Keras's model.summary() for functional and Sequential models, in plain text.
#include <algorithm>
#include <sstream>

#include "kattn/models/model.hpp"
#include "models/text.hpp"

namespace kattn {

namespace {

// 1234567 -> "1,234,567", as Keras prints parameter counts.
std::string grouped(int64_t number) {
  const std::string digits = std::to_string(number);
  std::string text;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
    text += digits[i];
  }
  return text;
}

std::string bytes_text(int64_t params) {
  const double bytes = static_cast<double>(params) * 4.0;
  std::ostringstream text;
  text.setf(std::ios::fixed);
  text.precision(2);
  if (bytes < 1024) {
    text << bytes << " B";
  } else if (bytes < 1024.0 * 1024.0) {
    text << bytes / 1024.0 << " KB";
  } else {
    text << bytes / (1024.0 * 1024.0) << " MB";
  }
  return text.str();
}

}  // namespace

std::string Model::summary() const {
  struct Row {
    std::string layer, shape, params, connected;
  };
  std::vector<Row> rows;
  int64_t trainable = 0, non_trainable = 0;
  // Every operation, keras.ops nodes included (Keras's model._operations); a Sequential's layers
  // only (Keras prints model.layers, without the InputLayer, and no connections).
  for (const std::shared_ptr<Operation>& operation : operations_) {
    if (operation->is_input() && !operation->is_layer()) continue;
    if (sequential_ && (operation->is_input() || !operation->is_layer())) continue;
    Row row{operation->name() + " (" + operation->class_name() + ")", "", "0", ""};
    std::vector<std::shared_ptr<Node>> nodes;
    for (const std::shared_ptr<Node>& node : nodes_) {
      if (node->operation == operation) nodes.push_back(node);
    }
    std::sort(nodes.begin(), nodes.end(),
              [](const auto& a, const auto& b) { return a->call_index < b->call_index; });
    std::vector<std::string> shapes, connected;
    if (!nodes.empty()) {
      for (const Shape& shape : nodes.front()->output_shapes)
        shapes.push_back(detail::python_shape(shape));
    }
    for (const std::shared_ptr<Node>& node : nodes) {
      for (const KerasTensor& input : node->input_tensors()) {
        connected.push_back(input.node()->operation->name() + "[" +
                            std::to_string(saved_node_index(*input.node())) + "][" +
                            std::to_string(input.tensor_index()) + "]");
      }
    }
    // Several outputs as Keras prints the list of their shapes.
    row.shape = shapes.size() == 1 ? shapes.front() : "[" + detail::join(shapes) + "]";
    row.connected = detail::join(connected);
    if (row.connected.empty()) row.connected = "-";
    if (const Layer* layer = operation->layer()) {
      int64_t count = 0;
      for (const Variable& variable : layer->weights()) {
        count += variable.value.size();
        (variable.trainable && layer->trainable() ? trainable : non_trainable) +=
            variable.value.size();
      }
      row.params = grouped(count);
    }
    rows.push_back(row);
  }
  const Row header{"Layer (type)", "Output Shape", "Param #", sequential_ ? "" : "Connected to"};
  if (sequential_) {
    for (Row& row : rows) row.connected.clear();
  }
  size_t widths[4] = {header.layer.size(), header.shape.size(), header.params.size(),
                      header.connected.size()};
  for (const Row& row : rows) {
    widths[0] = std::max(widths[0], row.layer.size());
    widths[1] = std::max(widths[1], row.shape.size());
    widths[2] = std::max(widths[2], row.params.size());
    widths[3] = std::max(widths[3], row.connected.size());
  }
  std::ostringstream out;
  const auto line = [&](char c) {
    out << std::string(widths[0] + widths[1] + widths[2] + widths[3] + (sequential_ ? 6 : 9), c)
        << "\n";
  };
  const auto print = [&](const Row& row) {
    out << row.layer << std::string(widths[0] - row.layer.size() + 3, ' ') << row.shape
        << std::string(widths[1] - row.shape.size() + 3, ' ')
        << std::string(widths[2] - row.params.size(), ' ') << row.params
        << (sequential_ ? "" : "   " + row.connected) << "\n";
  };
  out << "Model: \"" << name_ << "\"\n";
  line('=');
  print(header);
  line('=');
  for (const Row& row : rows) print(row);
  line('=');
  out << " Total params: " << grouped(trainable + non_trainable) << " ("
      << bytes_text(trainable + non_trainable) << ")\n";
  out << " Trainable params: " << grouped(trainable) << " (" << bytes_text(trainable) << ")\n";
  out << " Non-trainable params: " << grouped(non_trainable) << " (" << bytes_text(non_trainable)
      << ")\n";
  return out.str();
}

}  // namespace kattn
