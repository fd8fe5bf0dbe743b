// Opens a FleetStore on a fresh database of either kind, for the suites that run on both.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "fleet/store/fleet_store.h"
#include "tests/fleet/store/postgres_fixture.h"

namespace outpost::fleet::testing {

// "sqlite": a private in-memory database; "postgresql": a new database on the test server.
inline Expected<std::string> FreshDatabaseUrl(const std::string& backend) {
  if (backend == "sqlite") return std::string("sqlite::memory:");
  return CreateTemporaryPostgresDatabase();
}

inline std::string BackendName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

}  // namespace outpost::fleet::testing
