/*
 * c-durable: the reference of bench/run.mjs's per-call scenario. Replaces DIR/target COUNT times
 * with SIZE bytes, each time with exactly: open(tmp, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600),
 * write, fsync, close, rename(tmp, target), open(DIR, O_RDONLY|O_DIRECTORY), fsync, close.
 * The target is created once before the timed loop.
 *
 * usage: c-durable DIR COUNT SIZE
 */
#include <limits.h>
#include "bench.h"

int main(int argc, char **argv) {
  expect_args(argc, 4, "c-durable DIR COUNT SIZE");
  const char *dir = argv[1];
  long count = positive_arg(argv, 2);
  size_t size = (size_t)positive_arg(argv, 3);
  char target[PATH_MAX], tmp[PATH_MAX];
  PATH_OR_DIE(target, "%s/target", dir);
  PATH_OR_DIE(tmp, "%s/.target.tmp", dir);
  char *data = filled_buffer(size);
  create_file(target, data, size);
  fsync_directory(dir);

  double start = now_ms();
  for (long i = 0; i < count; i++) {
    replace_file(tmp, target, data, size);
    fsync_directory(dir);
  }
  double ms = now_ms() - start;

  print_result(ms, self_max_rss_kib());
  return 0;
}
