// The SQLite driver: the embedded default for a single fleet server. One connection guarded by
// a mutex serves every caller (SQLite has one writer at a time anyway); WAL journal, a busy
// timeout for other processes on the same file, and foreign keys on.
#pragma once

#include <memory>
#include <string>

#include "fleet/store/sql_database.h"

namespace outpost::fleet {

// `path` is a file name (created when missing) or ":memory:" (a private database that lives
// as long as the returned object).
Expected<std::unique_ptr<SqlDatabase>> OpenSqliteDatabase(const std::string& path);

}  // namespace outpost::fleet
