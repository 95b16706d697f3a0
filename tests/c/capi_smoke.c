/*
 * Smoke test of the C API from strict C99: only the C header is used.
 * Usage: c_capi_smoke <store file path>   (exit 0 = pass)
 */
#include "spinner_rollback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n  last error: %s\n", __FILE__, \
                    __LINE__, #cond, spr_last_error());                                \
            ++failures;                                                                \
        }                                                                              \
    } while (0)

#define REQUIRE(cond)                                                                  \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n  last error: %s\n",          \
                    __FILE__, __LINE__, #cond, spr_last_error());                      \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

static const char *const SECRET_V1 = "S3cr3t-Valu3-7f1e";
static const char *const SECRET_V2 = "Rot4ted-Pa55-c0d9";
static const char *const KEY_OPTIONS =
    "{\"key\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\","
    "\"busyTimeoutMs\":5000}";

/* True if `json` has a member "key" whose value text starts with `value`
 * (whitespace around the colon allowed). */
static int has_member(const char *json, const char *key, const char *value) {
    char quoted[128];
    const char *p = json;
    size_t vlen = strlen(value);
    sprintf(quoted, "\"%s\"", key);
    while (p && (p = strstr(p, quoted)) != NULL) {
        const char *q = p + strlen(quoted);
        while (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r') ++q;
        if (*q == ':') {
            ++q;
            while (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r') ++q;
            if (strncmp(q, value, vlen) == 0) return 1;
        }
        p = q;
    }
    return 0;
}

static int count_of(const char *hay, const char *needle) {
    int n = 0;
    const char *p = hay;
    while ((p = strstr(p, needle)) != NULL) {
        ++n;
        p += strlen(needle);
    }
    return n;
}

/* A state document; pieces stay below C99's 4095-character literal limit. */
static char *make_state(const char *image_tag, const char *code_version, const char *secret,
                        int instances, int with_debug) {
    static const char head[] =
        "{\"schemaVersion\":1,"
        "\"settings\":{\"rollback\":{\"enabled\":true,\"historyLimit\":20}},"
        "\"instances\":%d,"
        "\"containers\":[{\"name\":\"web\","
        "\"image\":{\"reference\":\"registry.example/shop:%s\"},"
        "\"codeVersion\":\"%s\","
        "\"env\":[{\"name\":\"MODE\",\"value\":\"prod\"},%s"
        "{\"name\":\"DB_PASSWORD\",\"secretRef\":{\"name\":\"db\",\"key\":\"password\"}},"
        "{\"name\":\"FLAGS\",\"configMapRef\":{\"name\":\"shop-config\",\"key\":\"flags\"}}],"
        "\"ports\":[{\"name\":\"http\",\"containerPort\":8080}],"
        "\"resources\":{\"cpu\":\"500m\",\"memory\":\"256Mi\"},"
        "\"mounts\":[{\"path\":\"/etc/shop\",\"configMap\":\"shop-config\"},"
        "{\"path\":\"/run/secrets/db\",\"secret\":\"db\"},"
        "{\"path\":\"/var/lib/shop\",\"volume\":\"data\"}]}],";
    static const char tail[] =
        "\"volumes\":[{\"name\":\"data\",\"mode\":\"shared\",\"size\":\"1Gi\","
        "\"storageClass\":\"standard\",\"volumeId\":\"vol-data-1\"}],"
        "\"configMaps\":{\"shop-config\":{\"flags\":\"a,b\"}},"
        "\"secrets\":{\"db\":{\"password\":\"%s\"}}}";
    size_t cap = sizeof head + sizeof tail + 256 + strlen(image_tag) + strlen(code_version) + strlen(secret);
    char *out = (char *)malloc(cap);
    int n;
    REQUIRE(out != NULL);
    n = sprintf(out, head, instances, image_tag, code_version,
                with_debug ? "{\"name\":\"DEBUG\",\"value\":\"1\"}," : "");
    sprintf(out + n, tail, secret);
    return out;
}

static void remove_store(const char *path) {
    char buf[4096];
    remove(path);
    sprintf(buf, "%.4000s-wal", path);
    remove(buf);
    sprintf(buf, "%.4000s-shm", path);
    remove(buf);
}

int main(int argc, char **argv) {
    spr_store *store = NULL;
    spr_store *bogus = (spr_store *)&failures;
    char *out = NULL;
    char *plan = NULL;
    char *v1 = make_state("1.4", "9f3c2e1", SECRET_V1, 2, 0);
    char *v2 = make_state("1.5", "a1b2c3d", SECRET_V2, 3, 1);
    const char *err;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: %s <store file>\n", argv[0]);
        return 2;
    }
    remove_store(argv[1]);

    /* Version. */
    REQUIRE(spr_version_string() != NULL);
    CHECK(strlen(spr_version_string()) >= 5);
    CHECK(spr_version_number() > 0);
    {
        int major = 0, minor = 0, patch = 0;
        CHECK(sscanf(spr_version_string(), "%d.%d.%d", &major, &minor, &patch) == 3);
        CHECK(spr_version_number() == major * 10000 + minor * 100 + patch);
    }
    CHECK(strcmp(spr_error_name(SPR_E_CONFLICT), "SPR_E_CONFLICT") == 0);

    /* Open: out-pointer NULL on failure, then a real open with a key. */
    rc = spr_open(argv[1], "{\"key\":\"not-a-key\"}", &bogus);
    CHECK(rc == SPR_E_INVALID);
    CHECK(bogus == NULL);
    CHECK(strstr(spr_last_error(), "options.key") != NULL);
    CHECK(strstr(spr_last_error(), "not-a-key") == NULL);
    rc = spr_open(argv[1], KEY_OPTIONS, &store);
    REQUIRE(rc == SPR_OK && store != NULL);

    /* Record v1 and v2. */
    rc = spr_record(store, "shop", v1, "{\"author\":\"c99\",\"message\":\"first\"}", &out);
    REQUIRE(rc == SPR_OK && out != NULL);
    CHECK(has_member(out, "outcome", "\"created\""));
    CHECK(has_member(out, "number", "1"));
    CHECK(has_member(out, "author", "\"c99\""));
    CHECK(strstr(out, SECRET_V1) == NULL);
    spr_free(out);
    out = NULL;
    rc = spr_record(store, "shop", v1, NULL, &out);
    REQUIRE(rc == SPR_OK);
    CHECK(has_member(out, "outcome", "\"unchanged\""));
    CHECK(has_member(out, "version", "null"));
    spr_free(out);
    rc = spr_record(store, "shop", v2, NULL, &out);
    REQUIRE(rc == SPR_OK);
    CHECK(has_member(out, "outcome", "\"created\""));
    CHECK(has_member(out, "number", "2"));
    CHECK(has_member(out, "category", "\"image\""));
    CHECK(strstr(out, SECRET_V2) == NULL);
    spr_free(out);

    /* Versions: newest first, one current. */
    rc = spr_versions(store, "shop", &out);
    REQUIRE(rc == SPR_OK);
    CHECK(out[0] == '[');
    CHECK(strstr(out, "\"number\"") != NULL);
    CHECK(count_of(out, "\"current\"") == 2);
    CHECK(has_member(out, "current", "true"));
    CHECK(has_member(out, "current", "false"));
    {
        const char *n2 = strstr(out, "\"number\":2");
        const char *n1 = strstr(out, "\"number\":1");
        if (!n2) n2 = strstr(out, "\"number\": 2");
        if (!n1) n1 = strstr(out, "\"number\": 1");
        CHECK(n2 != NULL && n1 != NULL && n2 < n1);
    }
    CHECK(strstr(out, SECRET_V1) == NULL && strstr(out, SECRET_V2) == NULL);
    spr_free(out);

    /* Version get: masked and revealed. */
    rc = spr_version_get(store, "shop", 1, 0, &out);
    REQUIRE(rc == SPR_OK);
    CHECK(strstr(out, "\"state\"") != NULL);
    CHECK(strstr(out, "<redacted>") != NULL);
    CHECK(strstr(out, SECRET_V1) == NULL);
    spr_free(out);
    rc = spr_version_get(store, "shop", 1, 1, &out);
    REQUIRE(rc == SPR_OK);
    CHECK(strstr(out, SECRET_V1) != NULL);
    CHECK(strstr(out, SECRET_V2) == NULL);
    spr_free(out);

    /* Diff. */
    rc = spr_diff(store, "shop", 1, 2, &out);
    REQUIRE(rc == SPR_OK);
    CHECK(strstr(out, "\"changes\"") != NULL);
    CHECK(has_member(out, "category", "\"image\""));
    CHECK(has_member(out, "kind", "\"added\"")); /* env DEBUG */
    CHECK(has_member(out, "category", "\"secretValues\""));
    CHECK(strstr(out, SECRET_V1) == NULL && strstr(out, SECRET_V2) == NULL);
    spr_free(out);

    /* Plan and commit a rollback to v1. */
    rc = spr_plan_rollback(store, "shop", 1, NULL, &plan);
    REQUIRE(rc == SPR_OK && plan != NULL);
    CHECK(strstr(plan, "\"planId\"") != NULL);
    CHECK(has_member(plan, "baseVersion", "2"));
    CHECK(has_member(plan, "targetVersion", "1"));
    CHECK(has_member(plan, "requiresConfirmation", "false"));
    CHECK(strstr(plan, "\"digest\"") != NULL);
    CHECK(strstr(plan, "registry.example/shop:1.4") != NULL);
    CHECK(strstr(plan, SECRET_V1) == NULL && strstr(plan, SECRET_V2) == NULL);
    rc = spr_plan_rollback(store, "shop", 2, NULL, &out);
    CHECK(rc == SPR_E_CURRENT_VERSION);
    CHECK(out == NULL);
    CHECK(strstr(spr_last_error(), "SPR_E_CURRENT_VERSION") != NULL);
    rc = spr_commit_rollback(store, plan, "{\"author\":\"oncall\"}", &out);
    REQUIRE(rc == SPR_OK);
    CHECK(has_member(out, "number", "3"));
    CHECK(has_member(out, "rollbackOf", "1"));
    CHECK(has_member(out, "reason", "\"rollback\""));
    CHECK(has_member(out, "status", "\"pending\""));
    spr_free(out);
    rc = spr_commit_rollback(store, plan, NULL, &out);
    CHECK(rc == SPR_E_CONFLICT);
    CHECK(out == NULL);
    spr_free(plan);
    rc = spr_version_get(store, "shop", 3, 1, &out);
    REQUIRE(rc == SPR_OK);
    CHECK(strstr(out, SECRET_V1) != NULL);
    spr_free(out);

    /* Status. */
    CHECK(spr_set_status(store, "shop", 3, "active") == SPR_OK);
    CHECK(spr_set_status(store, "shop", 3, "sideways") == SPR_E_INVALID);
    CHECK(spr_set_status(store, "shop", 42, "active") == SPR_E_NOT_FOUND);
    rc = spr_versions(store, "shop", &out);
    REQUIRE(rc == SPR_OK);
    CHECK(count_of(out, "\"active\"") == 1);
    spr_free(out);
    rc = spr_spinner_info(store, "shop", &out);
    REQUIRE(rc == SPR_OK);
    CHECK(has_member(out, "currentVersion", "3"));
    spr_free(out);
    rc = spr_spinners(store, &out);
    REQUIRE(rc == SPR_OK);
    CHECK(strstr(out, "\"shop\"") != NULL && out[0] == '[');
    spr_free(out);
    CHECK(spr_version_number() == SPR_VERSION_NUMBER);
    rc = spr_store_info(store, &out);
    REQUIRE(rc == SPR_OK);
    CHECK(strstr(out, "\"storeId\":\"") != NULL && strstr(out, "\"schemaVersion\":4") != NULL);
    spr_free(out);

    /* Tags, notes, restore points, compare-and-set (0.2). */
    {
        int64_t n = -1;
        rc = spr_tag(store, "shop", 1, "{\"name\":\"golden\",\"note\":\"known good\"}", &out);
        REQUIRE(rc == SPR_OK);
        CHECK(strstr(out, "\"tags\":[{\"name\":\"golden\"") != NULL);
        spr_free(out);
        CHECK(spr_tag(store, "shop", 2, "{\"name\":\"golden\"}", &out) == SPR_E_CONFLICT && out == NULL);
        CHECK(strstr(spr_last_error(), "\"path\":\"tag.name\"") != NULL);
        CHECK(spr_tag(store, "shop", 2, "{\"name\":\"Bad Name\"}", &out) == SPR_E_INVALID);
        CHECK(spr_tagged_version(store, "shop", "golden", &n) == SPR_OK && n == 1);
        CHECK(spr_tagged_version(store, "shop", "nope", &n) == SPR_E_NOT_FOUND && n == 0);
        CHECK(spr_tagged_version(store, "shop", "golden", NULL) == SPR_E_INVALID);
        rc = spr_annotate(store, "shop", 2, "{\"author\":\"oncall\",\"text\":\"v2 broke checkout\"}", &out);
        REQUIRE(rc == SPR_OK);
        CHECK(strstr(out, "\"text\":\"v2 broke checkout\"") != NULL);
        spr_free(out);
        CHECK(spr_annotate(store, "shop", 2, "{\"author\":\"oncall\"}", &out) == SPR_E_INVALID);
        rc = spr_version_get(store, "shop", 2, 0, &out);
        REQUIRE(rc == SPR_OK);
        CHECK(strstr(out, "\"notes\":[{\"author\":\"oncall\"") != NULL);
        spr_free(out);
        rc = spr_restore_points(store, "shop", 1, &out);
        REQUIRE(rc == SPR_OK);
        CHECK(strstr(out, "\"volumes\":[") != NULL && strstr(out, "\"currentUntil\":\"") != NULL);
        spr_free(out);
        CHECK(spr_restore_points(store, "shop", 99, &out) == SPR_E_NOT_FOUND);
        CHECK(spr_untag(store, "shop", "golden") == SPR_OK);
        CHECK(spr_untag(store, "shop", "golden") == SPR_E_NOT_FOUND);
        /* expectedCurrent: the current version is 3; expecting 2 writes nothing */
        CHECK(spr_record(store, "shop", "{}", "{\"expectedCurrent\":-1}", &out) == SPR_E_INVALID);
        {
            char *v9 = make_state("9.9", "cas0001", SECRET_V2, 1, 0);
            CHECK(spr_record(store, "shop", v9, "{\"expectedCurrent\":2}", &out) == SPR_E_CONFLICT && out == NULL);
            CHECK(strstr(spr_last_error(), "meta.expectedCurrent") != NULL);
            free(v9);
        }
        rc = spr_spinner_info(store, "shop", &out);
        REQUIRE(rc == SPR_OK);
        CHECK(has_member(out, "currentVersion", "3"));
        spr_free(out);
    }

    /* Snapshots. */
    CHECK(spr_snapshot_register(store, "{\"id\":\"snap-c\",\"volume\":\"vol-data-1\",\"sizeBytes\":1073741824,"
                                       "\"createdAt\":\"2024-05-01T10:00:00Z\",\"ready\":true,"
                                       "\"storageClass\":\"standard\",\"metadata\":{}}") == SPR_OK);
    rc = spr_snapshots(store, "vol-data-1", &out);
    REQUIRE(rc == SPR_OK);
    CHECK(has_member(out, "id", "\"snap-c\""));
    spr_free(out);
    rc = spr_snapshots(store, "vol-other", &out);
    REQUIRE(rc == SPR_OK);
    CHECK(strstr(out, "snap-c") == NULL);
    spr_free(out);
    CHECK(spr_snapshot_delete(store, "snap-c") == SPR_OK);
    CHECK(spr_snapshot_delete(store, "snap-c") == SPR_E_NOT_FOUND);
    rc = spr_snapshots(store, NULL, &out);
    REQUIRE(rc == SPR_OK);
    CHECK(strstr(out, "snap-c") == NULL);
    spr_free(out);

    /* Policy. */
    rc = spr_policy_evaluate(NULL, v1, v2, &out);
    REQUIRE(rc == SPR_OK);
    CHECK(has_member(out, "snapshot", "true"));
    CHECK(has_member(out, "category", "\"image\""));
    CHECK(strstr(out, SECRET_V1) == NULL && strstr(out, SECRET_V2) == NULL);
    spr_free(out);
    rc = spr_policy_evaluate(NULL, v1, v1, &out);
    REQUIRE(rc == SPR_OK);
    CHECK(has_member(out, "snapshot", "false"));
    CHECK(has_member(out, "outcome", "\"unchanged\""));
    spr_free(out);

    /* NULL handle and arguments: SPR_E_INVALID naming the argument, out NULL. */
    out = (char *)&failures;
    rc = spr_versions(NULL, "shop", &out);
    CHECK(rc == SPR_E_INVALID);
    CHECK(out == NULL);
    err = spr_last_error();
    CHECK(strstr(err, "SPR_E_INVALID") != NULL);
    CHECK(has_member(err, "path", "\"store\""));
    CHECK(has_member(err, "code", "1"));
    CHECK(strstr(err, "\"message\"") != NULL);
    out = (char *)&failures;
    rc = spr_record(store, NULL, v1, NULL, &out);
    CHECK(rc == SPR_E_INVALID);
    CHECK(out == NULL);
    CHECK(has_member(spr_last_error(), "path", "\"spinner\""));
    out = (char *)&failures;
    rc = spr_record(store, "shop", NULL, NULL, &out);
    CHECK(rc == SPR_E_INVALID);
    CHECK(out == NULL);
    CHECK(has_member(spr_last_error(), "path", "\"state_json\""));
    CHECK(spr_record(store, "shop", v1, NULL, NULL) == SPR_E_INVALID);
    CHECK(has_member(spr_last_error(), "path", "\"out_json\""));
    CHECK(spr_set_status(NULL, "shop", 1, "active") == SPR_E_INVALID);
    CHECK(spr_snapshot_delete(store, NULL) == SPR_E_INVALID);
    CHECK(has_member(spr_last_error(), "path", "\"snapshot_id\""));
    out = (char *)&failures;
    CHECK(spr_policy_evaluate(NULL, NULL, NULL, &out) == SPR_E_INVALID);
    CHECK(out == NULL);
    bogus = (spr_store *)&failures;
    CHECK(spr_open(NULL, NULL, &bogus) == SPR_E_INVALID);
    CHECK(bogus == NULL);
    CHECK(has_member(spr_last_error(), "path", "\"path\""));
    /* Bad JSON names the document; the error clears on the next success. */
    out = (char *)&failures;
    CHECK(spr_record(store, "shop", "{\"schemaVersion\":1,", NULL, &out) == SPR_E_INVALID);
    CHECK(out == NULL);
    CHECK(has_member(spr_last_error(), "code", "1"));
    rc = spr_versions(store, "shop", &out);
    CHECK(rc == SPR_OK);
    spr_free(out);
    err = spr_last_error();
    CHECK(has_member(err, "code", "0"));
    CHECK(strstr(err, "SPR_OK") != NULL);

    /* No-ops. */
    spr_free(NULL);
    spr_close(NULL);

    spr_close(store);

    /* Reopen: the history is there; without the key secrets stay sealed. */
    rc = spr_open(argv[1], NULL, &store);
    REQUIRE(rc == SPR_OK);
    rc = spr_versions(store, "shop", &out);
    REQUIRE(rc == SPR_OK);
    CHECK(count_of(out, "\"current\"") == 3);
    spr_free(out);
    out = (char *)&failures;
    rc = spr_version_get(store, "shop", 1, 1, &out);
    CHECK(rc == SPR_E_NO_KEY);
    CHECK(out == NULL);
    CHECK(strstr(spr_last_error(), "SPR_E_NO_KEY") != NULL);
    spr_close(store);

    free(v1);
    free(v2);
    remove_store(argv[1]);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("capi_smoke: all checks passed\n");
    return 0;
}
