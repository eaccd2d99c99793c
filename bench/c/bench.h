/*
 * Shared helpers of the C reference programs of bench/run.mjs: a monotonic clock, argument
 * parsing, checked system calls and the one JSON result line every benchmark child prints.
 * Every failing call ends the program with a message on stderr and exit status 1.
 */
#ifndef DURABLE_WRITE_BENCH_H
#define DURABLE_WRITE_BENCH_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Ends the program: `what` failed with errno. */
static inline void die(const char *what) {
  fprintf(stderr, "%s: %s\n", what, strerror(errno));
  exit(1);
}

/* Milliseconds on CLOCK_MONOTONIC. */
static inline double now_ms(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) die("clock_gettime");
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* argv[index] as a positive count; ends the program on anything else. */
static inline long positive_arg(char **argv, int index) {
  char *end = NULL;
  long value = strtol(argv[index], &end, 10);
  if (*argv[index] == '\0' || *end != '\0' || value <= 0) {
    fprintf(stderr, "argument %d must be a positive integer, not '%s'\n", index, argv[index]);
    exit(2);
  }
  return value;
}

/* Ends the program with usage text unless argc is exactly `expected`. */
static inline void expect_args(int argc, int expected, const char *usage) {
  if (argc != expected) {
    fprintf(stderr, "usage: %s\n", usage);
    exit(2);
  }
}

/* open(2) that ends the program on failure. */
static inline int open_or_die(const char *path, int flags, mode_t mode) {
  int fd = open(path, flags, mode);
  if (fd < 0) die(path);
  return fd;
}

/* Writes all `size` bytes of `data` to fd (retrying short writes); ends the program on failure. */
static inline void write_all(int fd, const char *data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0) die("write");
    data += n;
    size -= (size_t)n;
  }
}

static inline void fsync_or_die(int fd) {
  if (fsync(fd) != 0) die("fsync");
}

static inline void close_or_die(int fd) {
  if (close(fd) != 0) die("close");
}

static inline void rename_or_die(const char *from, const char *to) {
  if (rename(from, to) != 0) die(from);
}

/* The file half of a durable replacement: open(tmp, O_CREAT|O_EXCL), write, fsync, close, rename over target. */
static inline void replace_file(const char *tmp, const char *target, const char *data, size_t size) {
  int fd = open_or_die(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  write_all(fd, data, size);
  fsync_or_die(fd);
  close_or_die(fd);
  rename_or_die(tmp, target);
}

/* open(dir, O_RDONLY|O_DIRECTORY), fsync, close. */
static inline void fsync_directory(const char *dir) {
  int fd = open_or_die(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  fsync_or_die(fd);
  close_or_die(fd);
}

/* Creates (or replaces) `path` with `size` bytes of `data`, fsynced; for setup before timing. */
static inline void create_file(const char *path, const char *data, size_t size) {
  int fd = open_or_die(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  write_all(fd, data, size);
  fsync_or_die(fd);
  close_or_die(fd);
}

/* A buffer of `size` bytes of 'x', never freed (the program exits soon after). */
static inline char *filled_buffer(size_t size) {
  char *data = malloc(size);
  if (data == NULL) die("malloc");
  memset(data, 'x', size);
  return data;
}

/* snprintf into `out` (PATH_MAX-sized by the callers); ends the program if it does not fit. */
#define PATH_OR_DIE(out, ...)                                                     \
  do {                                                                            \
    int n_ = snprintf((out), sizeof(out), __VA_ARGS__);                           \
    if (n_ < 0 || (size_t)n_ >= sizeof(out)) {                                    \
      fprintf(stderr, "path too long\n");                                         \
      exit(2);                                                                    \
    }                                                                             \
  } while (0)

/* This process's peak resident set size in KiB (Linux reports ru_maxrss in KiB). */
static inline long self_max_rss_kib(void) {
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0) die("getrusage");
  return usage.ru_maxrss;
}

/* The one result line bench/run.mjs reads: the timed loop's milliseconds and the peak RSS. */
static inline void print_result(double ms, long max_rss_kib) {
  printf("{\"ms\": %.4f, \"maxRssKiB\": %ld}\n", ms, max_rss_kib);
  if (fflush(stdout) != 0) die("stdout");
}

#endif
