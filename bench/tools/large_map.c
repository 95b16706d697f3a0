/* A 1 MiB config map through the C API: record v1, record with the map
 * unchanged, record with it changed, plan back to v2, commit; wall times.
 * Build: cc -O2 -Icapi bench/tools/large_map.c -Lbuild -lspinner_rollback -Wl,-rpath,$PWD/build
 * States: python3 bench/tools/large_map_states.py tests/data/shop_v1.json a.json b.json c.json
 * Run: ./large_map STORE.db a.json b.json c.json (docs/benchmarks.md, "Large config maps") */
#include <spinner_rollback.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static char *slurp(const char *p) { FILE *f = fopen(p, "rb"); fseek(f, 0, SEEK_END); long n = ftell(f); rewind(f); char *b = malloc(n + 1); fread(b, 1, n, f); b[n] = 0; fclose(f); return b; }
int main(int argc, char **argv) {
    char *a = slurp(argv[2]), *b = slurp(argv[3]), *c = slurp(argv[4]); spr_store *s = NULL; char *out = NULL, *plan = NULL;
    remove(argv[1]);
    spr_open(argv[1], "{\"key\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\",\"durability\":\"normal\"}", &s);
    double t0 = now(); spr_record(s, "shop", a, NULL, &out); spr_free(out); double r1 = now() - t0;
    t0 = now(); spr_record(s, "shop", b, NULL, &out); spr_free(out); double r2 = now() - t0;  /* map unchanged */
    t0 = now(); spr_record(s, "shop", c, NULL, &out); spr_free(out); double r3 = now() - t0;  /* map changed */
    t0 = now(); if (spr_plan_rollback(s, "shop", 2, NULL, &plan)) puts(spr_last_error()); double p = now() - t0;
    size_t n = strlen(plan);
    t0 = now(); if (spr_commit_rollback(s, plan, NULL, &out)) puts(spr_last_error()); double cm = now() - t0; spr_free(out);
    printf("%s: record v1 %.1f ms, record (map unchanged) %.1f ms, record (map changed) %.1f ms, plan %.1f ms (%zu bytes), commit %.1f ms\n",
           spr_version_string(), r1, r2, r3, p, n, cm);
    spr_free(plan); spr_close(s); return 0;
}
