/* The baseline for bench/sync-overhead: call sync(2) argv[1] times (default 1). */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1;
  for (long i = 0; i < n; i++) sync();
  return 0;
}
