/*
 * A host may close its store from an atexit handler (or a static
 * destructor), after thread-local storage is gone; that must be safe.
 */
#include <spinner_rollback.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static spr_store *g_store = NULL;

static void close_store(void) {
    spr_close(g_store);
    g_store = NULL;
    /* Other calls at exit are safe too. */
    if (spr_open(NULL, NULL, &g_store) != SPR_E_INVALID || g_store != NULL) abort();
    if (strstr(spr_last_error(), "SPR_E_INVALID") == NULL) abort();
}

int main(int argc, char **argv) {
    char *out = NULL;
    if (argc != 2) return 64;
    remove(argv[1]);
    if (spr_open(argv[1], NULL, &g_store) != SPR_OK) return 1;
    /* Leave an error behind on this thread before exit. */
    if (spr_versions(g_store, "nobody", &out) != SPR_E_NOT_FOUND || out != NULL) return 1;
    if (atexit(close_store) != 0) return 1;
    printf("closing at exit\n");
    return 0;
}
