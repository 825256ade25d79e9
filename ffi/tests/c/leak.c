/*
 * Deliberately leaks one library buffer: c_suite expects LeakSanitizer to
 * report it, which shows the sanitizer set-up of the other programs would
 * catch a leak through the C API. The pointer is wiped (explicit_bzero is
 * never optimised away) so no stale stack copy keeps it reachable.
 */
#define _DEFAULT_SOURCE
#include "check.h"

static void __attribute__((noinline)) leak(void) {
  VsBuf out;
  VsError *error = NULL;
  ok(vs_path_parse(S("src/leaked.ts"), &out, &error), &error, "parse");
  explicit_bzero(&out, sizeof out);
}

int main(void) {
  leak();
  return summary("c leak");
}
