/*
 * time-command: times a whole program that cannot time itself (dd, in bench/run.mjs's streaming
 * scenario). Runs COMMAND ARGS... as a child (fork, execvp), waits for it and prints the usual
 * result line: the milliseconds from before fork to after the child was reaped (the child's
 * exec and exit included, about a millisecond) and the child's peak RSS. The child's stdout and
 * stderr are this program's; a child that fails makes this program fail.
 *
 * usage: time-command COMMAND [ARGS...]
 */
#include <sys/wait.h>
#include "bench.h"

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: time-command COMMAND [ARGS...]\n");
    return 2;
  }
  if (fflush(stdout) != 0) die("stdout");

  double start = now_ms();
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    execvp(argv[1], argv + 1);
    fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
    _exit(127);
  }
  int status = 0;
  struct rusage usage;
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) die("wait4");
  }
  double ms = now_ms() - start;

  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "%s failed (wait status %d)\n", argv[1], status);
    return 1;
  }
  print_result(ms, usage.ru_maxrss);
  return 0;
}
