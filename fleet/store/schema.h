// The fleet store's tables and indexes, one text for SQLite and PostgreSQL.
#pragma once

#include "fleet/store/sql_database.h"

namespace outpost::fleet {

// The schema version this build writes; recorded in the schema_version table.
// Version 2: devices.public_key.
constexpr int64_t kFleetSchemaVersion = 2;

// Creates every table and index that is missing, migrates a database an older build wrote
// (schema.cc, kMigrations) and records the version. Idempotent, and safe
// when several servers start at once on one PostgreSQL database (an advisory lock serializes
// them; SQLite's BEGIN IMMEDIATE does the same). Refuses a database written by a newer build.
Expected<Unit> CreateSchema(SqlDatabase& db, int64_t now_ms);

}  // namespace outpost::fleet
