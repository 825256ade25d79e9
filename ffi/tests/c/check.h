/* Tiny test helpers shared by the C test programs. */
#ifndef VS_CHECK_H
#define VS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "velocity_sync.h"

static int checks_passed = 0;
static int checks_failed = 0;

#define CHECK(cond, ...)                                              \
  do {                                                                \
    if (cond) {                                                       \
      checks_passed++;                                                \
    } else {                                                          \
      checks_failed++;                                                \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                   \
      fprintf(stderr, "\n");                                          \
    }                                                                 \
  } while (0)

/* Bytes of a C string, for (pointer, length) arguments. */
#define S(text) (const uint8_t *)(text), strlen(text)
#define B(buf) (buf).data, (buf).len

/* Asserts a call succeeded; prints the error otherwise and frees it.
   `errp` is the address the call wrote its error to: it is read here,
   after the call (C leaves argument evaluation order open). */
static inline int ok(VsStatus status, VsError **errp, const char *what) {
  VsError *error = *errp;
  *errp = NULL;
  if (status == VS_STATUS_OK) {
    checks_passed++;
    return 1;
  }
  checks_failed++;
  fprintf(stderr, "FAIL %s: status %d, %s: %s\n", what, (int)status,
          vs_error_code(error), vs_error_message(error));
  vs_error_free(error);
  return 0;
}

/* Asserts a call failed with `status` and `code`; frees the error. */
static inline void refused(VsStatus status, VsError **errp, VsStatus want_status,
                    const char *want_code, const char *what) {
  VsError *error = *errp;
  *errp = NULL;
  const char *code = vs_error_code(error);
  if (status == want_status && code && strcmp(code, want_code) == 0 &&
      vs_error_message(error) && vs_error_message(error)[0]) {
    checks_passed++;
  } else {
    checks_failed++;
    fprintf(stderr, "FAIL %s: want status %d code %s, got status %d code %s\n",
            what, (int)want_status, want_code, (int)status,
            code ? code : "(none)");
  }
  vs_error_free(error);
}

/* Whether a buffer holds exactly the C string `text`. */
static inline int buf_is(VsBuf buf, const char *text) {
  return buf.data && buf.len == strlen(text) && memcmp(buf.data, text, buf.len) == 0;
}

static inline int summary(const char *name) {
  printf("%s: %d passed, %d failed\n", name, checks_passed, checks_failed);
  return checks_failed == 0 ? 0 : 1;
}

#endif
