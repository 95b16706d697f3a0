/* A downstream C program linked through pkg-config. */
#include <spinner_rollback.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    spr_store *s = NULL;
    char *out = NULL;
    int rc;
    if (argc < 2) return 2;
    if (spr_open(argv[1], NULL, &s) != SPR_OK) return 1;
    rc = spr_record(s, "shop",
                    "{\"schemaVersion\":1,\"instances\":1,\"containers\":[{\"name\":\"web\",\"image\":{\"reference\":\"shop:1\"}}]}",
                    NULL, &out);
    if (rc != SPR_OK || strstr(out, "\"created\"") == NULL) return 1;
    printf("%s %s\n", spr_version_string(), out);
    spr_free(out);
    spr_close(s);
    return 0;
}
