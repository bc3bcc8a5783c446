#include "kattn/models/deserialize.hpp"

#include "models/operation_registry.hpp"

namespace kattn {

std::shared_ptr<Operation> deserialize_layer(const Config& entry,
                                             const KerasVersion& keras_version) {
  return detail::operation_from_config(entry, keras_version);
}

}  // namespace kattn
