/*
 * c-batch: the reference of bench/run.mjs's concurrency scenario, single-threaded. DIR holds
 * FILES files f0..f(FILES-1), created before the timed loop. Each of ROUNDS rounds replaces every
 * file with SIZE bytes (open tmp O_EXCL, write, fsync, close, rename), then makes the renames
 * durable with one open(DIR)+fsync+close for the whole round.
 *
 * usage: c-batch DIR FILES ROUNDS SIZE
 */
#include <limits.h>
#include "bench.h"

int main(int argc, char **argv) {
  expect_args(argc, 5, "c-batch DIR FILES ROUNDS SIZE");
  const char *dir = argv[1];
  long files = positive_arg(argv, 2);
  long rounds = positive_arg(argv, 3);
  size_t size = (size_t)positive_arg(argv, 4);
  char target[PATH_MAX], tmp[PATH_MAX];
  char *data = filled_buffer(size);
  for (long f = 0; f < files; f++) {
    PATH_OR_DIE(target, "%s/f%ld", dir, f);
    create_file(target, data, size);
  }
  fsync_directory(dir);

  double start = now_ms();
  for (long r = 0; r < rounds; r++) {
    for (long f = 0; f < files; f++) {
      PATH_OR_DIE(target, "%s/f%ld", dir, f);
      PATH_OR_DIE(tmp, "%s/.f%ld.tmp", dir, f);
      replace_file(tmp, target, data, size);
    }
    fsync_directory(dir);
  }
  double ms = now_ms() - start;

  print_result(ms, self_max_rss_kib());
  return 0;
}
