// JSON rendering of the status model for `marsadm status --json`, written
// with nlohmann-json. The document follows the versioned schema in
// docu/status-schema.json; docu/marsadm.md ("status") explains each field.
#ifndef MARS_USERSPACE_MARSADM_JSON_STATUS_H_
#define MARS_USERSPACE_MARSADM_JSON_STATUS_H_

#include <nlohmann/json.hpp>

#include "status_model.h"

namespace mars::cli {

// The value of "schema_version". Bump it (and the schema's const) when a
// field is removed or changes meaning; adding an optional field does not.
inline constexpr int kStatusSchemaVersion = 1;

nlohmann::ordered_json StatusToJson(const ClusterStatus& status,
                                    const char* generator);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_JSON_STATUS_H_
