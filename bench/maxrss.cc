// Runs a command and writes its peak resident set size (KiB) to a file:
//
//   maxrss OUT_FILE COMMAND [ARGS...]      exit status: the command's
//
// Why not wait4() from the Python driver directly: Linux carries the exec'ing process's
// high-water mark across exec, so a child forked from a 40 MiB Python process reports at
// least 40 MiB whatever it runs. Forked from this small launcher, the floor is ~1 MiB.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: maxrss OUT_FILE COMMAND [ARGS...]\n");
    return 2;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("maxrss: fork");
    return 2;
  }
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    std::perror("maxrss: exec");
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  if (wait4(pid, &status, 0, &usage) < 0) {
    std::perror("maxrss: wait4");
    return 2;
  }
  if (FILE* f = std::fopen(argv[1], "w")) {
    std::fprintf(f, "%ld\n", usage.ru_maxrss);
    std::fclose(f);
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
