// Runs initdb and postgres from the installed PostgreSQL (/usr/lib/postgresql/N/bin). Both
// refuse to run as root, so under root they run as the `postgres` system user.
#include "tests/fleet/store/postgres_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/support/free_port.h"

namespace outpost::fleet::testing {
namespace {

namespace fs = std::filesystem;

struct Server {
  pid_t pid = -1;
  fs::path dir;
  std::string url;
  int port = 0;
};

std::mutex g_mutex;
Server g_server;
std::atomic<int> g_databases{0};

// The newest installed PostgreSQL's bin directory, or "" when there is none.
fs::path FindPostgresBin() {
  if (const char* env = std::getenv("OUTPOST_POSTGRES_BIN"))  // another installation
    return fs::exists(fs::path(env) / "initdb") ? fs::path(env) : fs::path();
  std::vector<std::pair<int, fs::path>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const fs::path bin = entry.path() / "bin";
    if (fs::exists(bin / "initdb") && fs::exists(bin / "postgres"))
      found.emplace_back(std::atoi(entry.path().filename().c_str()), bin);
  }
  if (found.empty()) return {};
  return std::max_element(found.begin(), found.end())->second;
}

using outpost::testing::FreeLoopbackPort;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

// Forks and execs `args` as `user` (when root), output appended to `log`. With `tie_to_parent`
// the child is killed (SIGQUIT: PostgreSQL's immediate shutdown) when this thread exits.
pid_t Spawn(const std::vector<std::string>& args, const passwd* user, const fs::path& log, bool tie_to_parent) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid != 0) return pid;
  const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
  }
  const int null = open("/dev/null", O_RDONLY);
  if (null >= 0) dup2(null, 0);
  if (user && (setgid(user->pw_gid) != 0 || setuid(user->pw_uid) != 0)) _exit(126);
  if (tie_to_parent) prctl(PR_SET_PDEATHSIG, SIGQUIT);  // after setuid, which clears it
  execv(argv[0], argv.data());
  _exit(127);
}

void StopLocked() {
  if (g_server.pid > 0) {
    kill(g_server.pid, SIGINT);  // fast shutdown: disconnects clients, no checkpoint wait for them
    int status = 0;
    waitpid(g_server.pid, &status, 0);
    g_server.pid = -1;
  }
  if (!g_server.dir.empty()) {
    std::error_code ec;
    fs::remove_all(g_server.dir, ec);
  }
  g_server = Server{};
}

void StopAtExit() {
  std::lock_guard<std::mutex> lock(g_mutex);
  StopLocked();
}

Expected<std::string> StartLocked() {
  if (g_server.pid > 0) return g_server.url;
  const fs::path bin = FindPostgresBin();
  if (bin.empty())
    return Error("PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin or $OUTPOST_POSTGRES_BIN): "
                 "run scripts/setup.sh");
  const passwd* user = nullptr;
  if (geteuid() == 0) {
    user = getpwnam("postgres");
    if (!user) return Error("running as root but there is no `postgres` system user to run PostgreSQL as: "
                            "run scripts/setup.sh");
  }
  char pattern[] = "/tmp/outpost_pg_XXXXXX";
  if (!mkdtemp(pattern)) return Error("cannot create a temporary directory for PostgreSQL");
  g_server.dir = pattern;
  if (user && chown(pattern, user->pw_uid, user->pw_gid) != 0) {
    StopLocked();
    return Error("cannot give the temporary directory to the postgres user");
  }
  const fs::path data = g_server.dir / "data", log = g_server.dir / "server.log";
  const pid_t init = Spawn({(bin / "initdb").string(), "-D", data.string(), "-U", "postgres", "-A", "trust", "-E",
                            "UTF8", "--locale=C", "-N"},
                           user, log, false);
  int status = 0;
  waitpid(init, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string output = ReadFile(log);
    StopLocked();
    return Error("initdb failed:\n" + output);
  }
  static bool registered = false;
  if (!registered) {
    std::atexit(StopAtExit);
    registered = true;
  }
  for (int attempt = 0; attempt < 3; ++attempt) {  // the free port may be taken before postgres binds it
    g_server.port = FreeLoopbackPort();
    g_server.pid = Spawn({(bin / "postgres").string(), "-D", data.string(), "-p", std::to_string(g_server.port),
                          "-h", "127.0.0.1", "-k", g_server.dir.string(), "-F", "-c", "full_page_writes=off",
                          "-c", "synchronous_commit=off", "-c", "max_connections=200", "-c", "shared_buffers=32MB",
                          "-c", "deadlock_timeout=100ms"},
                         user, log, true);
    const std::string conninfo =
        "host=127.0.0.1 port=" + std::to_string(g_server.port) + " user=postgres dbname=postgres connect_timeout=2";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    bool exited = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (PQping(conninfo.c_str()) == PQPING_OK) {
        g_server.url = "postgresql://postgres@127.0.0.1:" + std::to_string(g_server.port) + "/postgres";
        return g_server.url;
      }
      if (waitpid(g_server.pid, &status, WNOHANG) == g_server.pid) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // no event to wait on: poll the server
    }
    if (!exited) break;
    g_server.pid = -1;
  }
  std::string output = ReadFile(log);
  StopLocked();
  return Error("PostgreSQL did not start:\n" + output);
}

}  // namespace

Expected<std::string> StartTemporaryPostgres() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return StartLocked();
}

// A schema rather than a CREATE DATABASE: as empty to the store, and 20 times faster to make
// (PostgreSQL copies a whole template for a database).
Expected<std::string> CreateTemporaryPostgresDatabase() {
  auto base = StartTemporaryPostgres();
  if (!base) return base.error();
  const std::string name = "test_" + std::to_string(getpid()) + "_" + std::to_string(++g_databases);
  PGconn* conn = PQconnectdb(base.value().c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult* r = PQexec(conn, ("CREATE SCHEMA " + name).c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) error = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(conn);
  if (!error.empty()) return Error("cannot create a test database: " + error);
  return base.value() + "?options=-csearch_path%3D" + name;
}

void StopTemporaryPostgres() {
  std::lock_guard<std::mutex> lock(g_mutex);
  StopLocked();
}

void PostgresEnvironment::SetUp() {
  auto url = StartTemporaryPostgres();
  ASSERT_TRUE(url.ok()) << url.message();
}

void PostgresEnvironment::TearDown() { StopTemporaryPostgres(); }

}  // namespace outpost::fleet::testing
