/*
 * A small host in C: record two deploys, compare them, plan a rollback to
 * the first and commit it, then mark it active. Usage: rollback STORE.db
 */
#include <spinner_rollback.h>

#include <stdio.h>
#include <stdlib.h>

/* Print the thread's last error and leave. */
static void die(const char *what) {
    fprintf(stderr, "%s failed: %s\n", what, spr_last_error());
    exit(1);
}

static const char *state_v1 =
    "{\"schemaVersion\":1,\"instances\":2,"
    "\"containers\":[{\"name\":\"web\",\"image\":{\"reference\":\"registry.example/shop:1.4\"},"
    "\"env\":[{\"name\":\"MODE\",\"value\":\"prod\"}]}]}";
static const char *state_v2 =
    "{\"schemaVersion\":1,\"instances\":3,"
    "\"containers\":[{\"name\":\"web\",\"image\":{\"reference\":\"registry.example/shop:1.5\"},"
    "\"env\":[{\"name\":\"MODE\",\"value\":\"prod\"},{\"name\":\"DEBUG\",\"value\":\"1\"}]}]}";

int main(int argc, char **argv) {
    spr_store *store = NULL;
    char *out = NULL;
    char *plan = NULL;

    if (argc != 2) {
        fprintf(stderr, "usage: %s STORE.db\n", argv[0]);
        return 64;
    }
    printf("spinner_rollback %s\n", spr_version_string());
    if (spr_open(argv[1], NULL, &store) != SPR_OK) die("spr_open");

    /* Each record returns {"outcome", "version", "reasons"}; we own `out`. */
    if (spr_record(store, "shop", state_v1, "{\"author\":\"alice\"}", &out) != SPR_OK) die("record v1");
    printf("v1: %s\n", out);
    spr_free(out);
    if (spr_record(store, "shop", state_v2, "{\"author\":\"alice\"}", &out) != SPR_OK) die("record v2");
    printf("v2: %s\n", out);
    spr_free(out);

    if (spr_diff(store, "shop", 2, 1, &out) != SPR_OK) die("diff");
    printf("diff 2 -> 1: %s\n", out);
    spr_free(out);

    /* Rolling back to the current version is refused with its own code. */
    if (spr_plan_rollback(store, "shop", 2, NULL, &out) != SPR_E_CURRENT_VERSION) die("refusal");
    printf("refused as expected: %s\n", spr_last_error());

    if (spr_plan_rollback(store, "shop", 1, NULL, &plan) != SPR_OK) die("plan");
    if (spr_commit_rollback(store, plan, "{\"author\":\"bob\",\"message\":\"undo 1.5\"}", &out) != SPR_OK)
        die("commit");
    printf("committed: %s\n", out);
    spr_free(out);
    spr_free(plan);

    if (spr_set_status(store, "shop", 3, "active") != SPR_OK) die("set_status");
    if (spr_versions(store, "shop", &out) != SPR_OK) die("versions");
    printf("versions: %s\n", out);
    spr_free(out);
    spr_close(store);
    return 0;
}
