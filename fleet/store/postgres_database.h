// The PostgreSQL driver (libpq), for several fleet servers sharing one database. A bounded pool
// of connections; statements written with `?` placeholders are rewritten to $1, $2, ...;
// parameters travel as text; a transaction that hits a serialization failure or a deadlock is
// retried. Error messages never include the password.
#pragma once

#include <memory>
#include <string>

#include "fleet/store/sql_database.h"

namespace outpost::fleet {

// `url` is a libpq connection URI ("postgresql://user:password@host:port/db?..."). At most
// `connections` are open at once; callers beyond that wait for one to be returned. Connects
// once up front so that a wrong URL fails here, with a clear message.
Expected<std::unique_ptr<SqlDatabase>> OpenPostgresDatabase(const std::string& url, int connections);

// `?` -> `$1`, `$2`, ... outside quoted literals ('...'), quoted identifiers ("...") and
// comments. Exposed for tests.
std::string RewritePlaceholders(const std::string& sql);

}  // namespace outpost::fleet
