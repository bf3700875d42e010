// `marsadm status --json` validates against docu/status-schema.json. No C++
// JSON Schema validator is packaged in Debian, so this file carries a small
// one for the subset the schema uses (type, const, enum, required,
// properties, additionalProperties, items, minimum, local $ref); it rejects
// any other keyword so the schema cannot silently outgrow it.
#include "json_status.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "status_test_util.h"

#ifndef MARS_SOURCE_DIR
#error "MARS_SOURCE_DIR must name the source tree (set by CMakeLists.txt)"
#endif

namespace mars::cli {
namespace {

using Json = nlohmann::json;
using testing::kSize;
using testing::StatusTree;

constexpr char kR[] = "resource-r0/";
std::string R(const std::string& name) { return kR + name; }

Json LoadSchema() {
  std::ifstream in(std::string(MARS_SOURCE_DIR) + "/docu/status-schema.json");
  EXPECT_TRUE(in.good());
  return Json::parse(in);
}

class Validator {
 public:
  explicit Validator(Json schema) : root_(std::move(schema)) {}

  // Errors of `instance` ("" path = document root); empty if valid.
  std::vector<std::string> Validate(const Json& instance) {
    errors_.clear();
    Check(root_, instance, "$");
    return errors_;
  }

 private:
  static bool HasType(const Json& value, const std::string& type) {
    if (type == "object") return value.is_object();
    if (type == "array") return value.is_array();
    if (type == "string") return value.is_string();
    if (type == "boolean") return value.is_boolean();
    if (type == "null") return value.is_null();
    if (type == "integer") return value.is_number_integer();
    if (type == "number") return value.is_number();
    ADD_FAILURE() << "schema uses unknown type " << type;
    return false;
  }

  const Json& Resolve(const std::string& ref) {
    const std::string prefix = "#/$defs/";
    if (ref.rfind(prefix, 0) != 0 ||
        !root_["$defs"].contains(ref.substr(prefix.size()))) {
      ADD_FAILURE() << "unsupported or dangling $ref " << ref;
      return root_;
    }
    return root_["$defs"][ref.substr(prefix.size())];
  }

  void Fail(const std::string& path, const std::string& what) {
    errors_.push_back(path + ": " + what);
  }

  void Check(const Json& schema, const Json& value, const std::string& path) {
    static const std::set<std::string> kKnown = {
        "$schema",     "$id",      "$defs",      "title",
        "description", "$ref",     "type",       "const",
        "enum",        "required", "properties", "additionalProperties",
        "items",       "minimum"};
    for (const auto& [keyword, unused] : schema.items()) {
      EXPECT_TRUE(kKnown.count(keyword))
          << "validator lacks keyword " << keyword;
    }
    if (schema.contains("$ref")) {
      Check(Resolve(schema["$ref"]), value, path);
    }
    if (schema.contains("type")) {
      const Json& type = schema["type"];
      bool ok = false;
      if (type.is_string()) {
        ok = HasType(value, type);
      } else {
        for (const Json& t : type) ok = ok || HasType(value, t);
      }
      if (!ok) Fail(path, "wrong type, expected " + type.dump());
    }
    if (schema.contains("const") && value != schema["const"]) {
      Fail(path, "is not " + schema["const"].dump());
    }
    if (schema.contains("enum")) {
      bool found = false;
      for (const Json& e : schema["enum"]) found = found || e == value;
      if (!found) Fail(path, value.dump() + " is not in the enum");
    }
    if (schema.contains("minimum") && value.is_number() &&
        value.get<double>() < schema["minimum"].get<double>()) {
      Fail(path, "below the minimum");
    }
    if (value.is_object()) {
      for (const Json& name : schema.value("required", Json::array())) {
        if (!value.contains(name.get<std::string>())) {
          Fail(path, "lacks required " + name.get<std::string>());
        }
      }
      const Json properties = schema.value("properties", Json::object());
      for (const auto& [name, member] : value.items()) {
        const std::string member_path = path + "." + name;
        if (properties.contains(name)) {
          Check(properties[name], member, member_path);
        } else if (schema.contains("additionalProperties")) {
          const Json& extra = schema["additionalProperties"];
          if (extra.is_boolean()) {
            if (!extra.get<bool>()) Fail(member_path, "is not allowed");
          } else {
            Check(extra, member, member_path);
          }
        }
      }
    }
    if (value.is_array() && schema.contains("items")) {
      for (size_t i = 0; i < value.size(); ++i) {
        Check(schema["items"], value[i], path + "[" + std::to_string(i) + "]");
      }
    }
  }

  Json root_;
  std::vector<std::string> errors_;
};

class JsonStatusTest : public StatusTree {
 protected:
  Json StatusJson(const std::string& host = "hostB",
                  const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"status", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const testing::RunResult r = Run(args, host);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    return Json::parse(r.out);
  }
  void ExpectValid(const Json& doc) {
    Validator validator(LoadSchema());
    for (const std::string& error : validator.Validate(doc)) {
      ADD_FAILURE() << error;
    }
  }
};

TEST_F(JsonStatusTest, ValidatorRejectsBadDocuments) {
  Healthy();
  Validator validator(LoadSchema());
  Json doc = StatusJson();
  ASSERT_TRUE(validator.Validate(doc).empty());
  Json missing = doc;
  missing.erase("host");
  EXPECT_FALSE(validator.Validate(missing).empty());
  Json extra = doc;
  extra["resources"][0]["hosts"][0]["surprise"] = 1;
  EXPECT_FALSE(validator.Validate(extra).empty());
  Json bad_enum = doc;
  bad_enum["resources"][0]["role"] = "Boss";
  EXPECT_FALSE(validator.Validate(bad_enum).empty());
  Json bad_type = doc;
  bad_type["resources"][0]["hosts"][0]["sync"]["rest_bytes"] = "many";
  EXPECT_FALSE(validator.Validate(bad_type).empty());
  Json bad_version = doc;
  bad_version["schema_version"] = 2;
  EXPECT_FALSE(validator.Validate(bad_version).empty());
}

TEST_F(JsonStatusTest, SchemaEnumsMatchTheModel) {
  const Json defs = LoadSchema()["$defs"];
  auto names = [](int count, auto name_of) {
    Json list = Json::array();
    for (int i = 0; i < count; ++i) list.push_back(name_of(i));
    return list;
  };
  EXPECT_EQ(defs["role"]["enum"], names(kRoleCount, [](int i) {
              return RoleName(static_cast<Role>(i));
            }));
  EXPECT_EQ(defs["disk_state"]["enum"], names(kDiskStateCount, [](int i) {
              return DiskStateName(static_cast<DiskState>(i));
            }));
  EXPECT_EQ(defs["repl_state"]["enum"], names(kReplStateCount, [](int i) {
              return ReplStateName(static_cast<ReplState>(i));
            }));
  EXPECT_EQ(defs["comm_state"]["enum"], names(kCommStateCount, [](int i) {
              return CommStateName(static_cast<CommState>(i));
            }));
  EXPECT_EQ(defs["severity"]["enum"], names(kSeverityCount, [](int i) {
              return SeverityName(static_cast<Severity>(i));
            }));
  EXPECT_EQ(defs["message_source"]["enum"],
            names(kMessageSourceCount, [](int i) {
              return MessageSourceName(static_cast<MessageSource>(i));
            }));
  EXPECT_EQ(LoadSchema()["properties"]["schema_version"]["const"],
            kStatusSchemaVersion);
}

TEST_F(JsonStatusTest, HealthySecondaryValidatesAndMatchesView) {
  Healthy();
  const Json doc = StatusJson();
  ExpectValid(doc);
  EXPECT_EQ(doc["schema_version"], 1);
  EXPECT_EQ(doc["host"], "hostB");
  EXPECT_EQ(doc["cluster_uuid"], "cluster-1");
  EXPECT_EQ(doc["module_loaded"], true);
  EXPECT_EQ(doc["cluster_hosts"].size(), 3u);
  ASSERT_EQ(doc["resources"].size(), 1u);
  const Json& r = doc["resources"][0];
  const testing::RunResult view = Run({"view", "r0"});
  EXPECT_EQ(r["view"].get<std::string>() + "\n", view.out);
  EXPECT_EQ(r["role"], "Secondary");
  EXPECT_EQ(r["disk_state"], "UpToDate");
  EXPECT_EQ(r["repl_state"], "Replaying");
  EXPECT_EQ(r["flags"], "dCASFR");
  EXPECT_EQ(r["primary_node"], "hostA");
  EXPECT_EQ(r["comm_state"], "Connected");
  ASSERT_EQ(r["hosts"].size(), 2u);
  const Json& b = r["hosts"][1];
  EXPECT_EQ(b["name"], "hostB");
  EXPECT_EQ(b["is_local"], true);
  EXPECT_EQ(b["replay"]["place"]["logfile"], "log-000000001-hostA");
  EXPECT_EQ(b["replay"]["place"]["position_bytes"], 4096);
  EXPECT_EQ(b["replay"]["lag_seconds"], 0.0);
  EXPECT_EQ(b["sync"]["percent"], 100.0);
  EXPECT_EQ(r["hosts"][0]["fetch"]["rest_bytes"], nullptr);
}

// A peer's fetch from its fetch-pos link, in the schema's fields.
TEST_F(JsonStatusTest, PeerFetchFromItsFetchPosition) {
  Healthy();
  Logfile(R("log-000000001-hostA"), 8192);
  Set(R("replay-hostA"), "log-000000001-hostA,8192,0");
  Set(R("actual-hostB/fetch-pos"), "log-000000001-hostA,6144");
  Set(R("actual-hostB/fetch-rate"), "1024");
  const Json doc = StatusJson("hostA");
  ExpectValid(doc);
  const Json& b = doc["resources"][0]["hosts"][1];
  ASSERT_EQ(b["name"], "hostB");
  EXPECT_EQ(b["is_local"], false);
  EXPECT_EQ(b["disk_state_text"], "OutDated[FR]");
  const Json& fetch = b["fetch"];
  EXPECT_EQ(fetch["place"]["logfile"], "log-000000001-hostA");
  EXPECT_EQ(fetch["place"]["number"], 1);
  EXPECT_EQ(fetch["place"]["origin"], "hostA");
  EXPECT_EQ(fetch["place"]["position_bytes"], 6144);
  EXPECT_EQ(fetch["history_position_bytes"], 6144);
  EXPECT_EQ(fetch["rest_bytes"], 2048);
  EXPECT_TRUE(fetch["lag_seconds"].is_number());
  EXPECT_EQ(fetch["reached"], false);
  EXPECT_EQ(fetch["rate_bytes_per_second"], 1024.0);
  EXPECT_EQ(fetch["eta_seconds"], 2);
  // Without the link: unknown, reached as its replay.
  Delete(R("actual-hostB/fetch-pos"));
  const Json without = StatusJson("hostA");
  ExpectValid(without);
  EXPECT_EQ(without["resources"][0]["hosts"][1]["fetch"]["rest_bytes"],
            nullptr);
  EXPECT_EQ(without["resources"][0]["hosts"][1]["fetch"]["place"], nullptr);
}

TEST_F(JsonStatusTest, ManyStatesValidate) {
  Healthy();
  ExpectValid(StatusJson("hostA"));
  ExpectValid(StatusJson("hostC"));  // a non-member: no resources
  Set(R("syncstatus-hostB"), "4096");
  Set(R("actual-hostB/is-syncing"), "1");
  Set(R("actual-hostB/sync-rate"), "1000");
  Set(R("actual-hostB/open-count"), "2");
  Set(R("actual-hostB/replay-code"), "-5");
  Set(R("actual-hostB/msg-err-x"), std::string("bad \xff byte"));
  Set(R("todo-hostB/connect"), "maybe");
  Logfile(R("log-000000001-hostA"), 8192);
  Set(R("replay-hostA"), "log-000000001-hostA,12288,0");
  std::vector<tree::VersionLink> a;
  std::vector<tree::VersionLink> b;
  Set(R("version-000000001-hostA"), VersionValue(&a, 1, "hostA", 4096));
  Set(R("version-000000001-hostB"), VersionValue(&b, 1, "hostB", 4096));
  Set("actual-hostA/msg-wrn-space", "low");
  SetAged("actual-hostA/time", "1", 100);
  const Json doc = StatusJson("hostB", {"r0"});
  ExpectValid(doc);
  const Json& r = doc["resources"][0];
  EXPECT_EQ(r["split_brain"]["detected"], true);
  EXPECT_EQ(r["comm_state"], "Unreachable");
  EXPECT_EQ(r["unreachable_peers"], Json::array({"hostA"}));
  EXPECT_EQ(r["hosts"][1]["sync"]["eta_seconds"], (kSize - 4096 + 999) / 1000);
  EXPECT_EQ(r["hosts"][1]["actual"]["replay_code"], -5);
  EXPECT_EQ(doc["messages"].size(), 1u);
  EXPECT_GE(r["messages"].size(), 2u);
  // Primary designation removed, module gone: still valid.
  Set(R("primary"), "(none)");
  setenv("MARS_PROC_DIR", (base_ + "/none").c_str(), 1);
  const Json later = StatusJson();
  ExpectValid(later);
  EXPECT_EQ(later["module_loaded"], false);
  EXPECT_EQ(later["resources"][0]["designated_primary"], nullptr);
}

TEST_F(JsonStatusTest, OutsideAClusterStillValidates) {
  const Json doc = StatusJson();
  ExpectValid(doc);
  EXPECT_EQ(doc["cluster_uuid"], nullptr);
  EXPECT_TRUE(doc["resources"].empty());
}

}  // namespace
}  // namespace mars::cli
