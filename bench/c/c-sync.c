/*
 * c-sync: the reference of bench/run.mjs's syncAll scenario: sync(2) called COUNT times in a
 * timed loop (sync reports no errors, so there is nothing to check).
 *
 * usage: c-sync COUNT
 */
#include "bench.h"

int main(int argc, char **argv) {
  expect_args(argc, 2, "c-sync COUNT");
  long count = positive_arg(argv, 1);

  double start = now_ms();
  for (long i = 0; i < count; i++) sync();
  double ms = now_ms() - start;

  print_result(ms, self_max_rss_kib());
  return 0;
}
