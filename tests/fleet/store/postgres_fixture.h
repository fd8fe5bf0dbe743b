// A throwaway PostgreSQL server for tests: a fresh cluster in a temporary directory, listening
// only on 127.0.0.1 (and a unix socket in that directory) on a free port, trust authentication,
// fsync off. It is stopped and its directory removed when the test program exits, and killed
// with the program if that crashes.
//
// Any test program can use it:
//   auto url = outpost::fleet::testing::CreateTemporaryPostgresDatabase();   // a new empty database
//   ASSERT_TRUE(url.ok()) << url.message();
// When PostgreSQL is not installed this fails with a message naming scripts/setup.sh: the
// PostgreSQL tests fail rather than skip. OUTPOST_POSTGRES_BIN names another installation's bin
// directory.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "common/expected.h"

namespace outpost::fleet::testing {

// Starts the server on first use (from the main thread: the server is tied to the thread that
// started it) and returns the URL of its "postgres" database. Later calls return the same URL.
Expected<std::string> StartTemporaryPostgres();

// Creates a new, empty namespace on the server (starting it when needed) and returns a URL that
// works in it: a schema of its own, selected by the URL's search_path ("...?options=...", so
// further URL parameters are appended with '&'). To the fleet store it is a new database.
Expected<std::string> CreateTemporaryPostgresDatabase();

// Stops the server and removes its directory (also done at exit).
void StopTemporaryPostgres();

// Starts the server before the first test and stops it after the last:
//   ::testing::AddGlobalTestEnvironment(new outpost::fleet::testing::PostgresEnvironment);
class PostgresEnvironment : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;
};

}  // namespace outpost::fleet::testing
