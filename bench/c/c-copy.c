/*
 * c-copy: the reference of bench/run.mjs's streaming scenario, what `dd if=SRC of=DST bs=1M
 * conv=fsync` does, timing itself: open SRC, open DST (O_WRONLY|O_CREAT|O_TRUNC, like dd), then
 * read up to BLOCK bytes and write what was read until EOF, fsync DST, close both. The timed
 * part is everything from the first open to the last close.
 *
 * usage: c-copy SRC DST BLOCK
 */
#include "bench.h"

int main(int argc, char **argv) {
  expect_args(argc, 4, "c-copy SRC DST BLOCK");
  size_t block = (size_t)positive_arg(argv, 3);
  char *buffer = malloc(block);
  if (buffer == NULL) die("malloc");

  double start = now_ms();
  int in = open_or_die(argv[1], O_RDONLY | O_CLOEXEC, 0);
  int out = open_or_die(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  for (;;) {
    ssize_t n = read(in, buffer, block);
    if (n < 0) die("read");
    if (n == 0) break;
    write_all(out, buffer, (size_t)n);
  }
  fsync_or_die(out);
  close_or_die(out);
  close_or_die(in);
  double ms = now_ms() - start;

  print_result(ms, self_max_rss_kib());
  return 0;
}
