/**
 * @file spinner_rollback.h
 * @brief The C API of spinner_rollback (C99). The header is the spec.
 *
 * Conventions (they hold for every function below):
 * - Every function that can fail returns `int`: #SPR_OK (0) or an `SPR_E_*` code.
 *   Each function lists the codes it returns; any of them may also return
 *   #SPR_E_INTERNAL (a bug, or out of memory). Treat unknown codes as failures.
 * - String arguments are NUL-terminated UTF-8. An optional JSON argument may be
 *   NULL or "" (the defaults).
 * - Results are UTF-8 JSON strings allocated by the library; the caller owns
 *   them and frees them with spr_free() (never with free()).
 * - On failure every out-pointer is set to NULL and nothing needs freeing.
 * - spr_last_error() returns this thread's last error as JSON
 *   `{"code","name","message","path"}`; it is cleared at the start of every
 *   function that returns a status code, and of spr_close().
 * - A NULL handle or required argument returns #SPR_E_INVALID naming the
 *   argument (in `"path"`). No C++ exception ever crosses this API.
 * - Every function is thread-safe; one spr_store may be shared by threads
 *   (calls on one handle are serialised).
 * - fork() is safe at any time: it waits until no thread is inside a call.
 *   A child opens its own store (the same one included); a handle from the
 *   parent is refused there with #SPR_E_INVALID (path "store"), and
 *   spr_close() of it is safe and leaves the parent's connection alone.
 * - Secret values never appear in errors, listings, summaries or diffs.
 * - Hosts should ignore JSON fields they do not know: releases add fields.
 * @since 0.1
 */
#ifndef SPINNER_ROLLBACK_H
#define SPINNER_ROLLBACK_H

#include <stddef.h>
#include <stdint.h>

/**
 * @def SPR_VERSION_NUMBER
 * Version of this header as MAJOR*10000 + MINOR*100 + PATCH (200 for 0.2.0).
 * spr_version_number() gives the library's at run time; a host can refuse a
 * library older than the header it was built with. @since 0.2
 */
#define SPR_VERSION_NUMBER 200

/**
 * @def SPR_C_API
 * Marks a function of the C API as exported from the shared library (default
 * visibility). Empty when `SPR_STATIC_DEFINE` is defined (static library).
 * @since 0.1
 */
#if defined(SPR_STATIC_DEFINE)
#define SPR_C_API
#else
#define SPR_C_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** @name Status codes (same numbers as spinner_rollback::ErrorCode) */
/**@{*/
#define SPR_OK 0                    /**< success */
#define SPR_E_INVALID 1             /**< bad argument, JSON, request or plan */
#define SPR_E_NOT_FOUND 2           /**< unknown spinner, version or snapshot */
#define SPR_E_CONFLICT 3            /**< current version moved since the plan */
#define SPR_E_ROLLBACK_DISABLED 4   /**< rollback is switched off for the spinner */
#define SPR_E_CURRENT_VERSION 5     /**< target is the current version */
#define SPR_E_IDENTICAL 6           /**< target's tracked content equals the current */
#define SPR_E_PRUNED 7              /**< target was removed by retention */
#define SPR_E_NEEDS_CONFIRMATION 8  /**< plan costs money; commit with "confirmed": true */
#define SPR_E_NO_KEY 9              /**< secret values but no (or the wrong) key */
#define SPR_E_CORRUPT 10            /**< stored data failed verification */
#define SPR_E_BUSY 11               /**< database locked longer than busyTimeoutMs */
#define SPR_E_IO 12                 /**< file or database I/O failed */
#define SPR_E_INTERNAL 13           /**< a bug; please report */
#define SPR_E_SNAPSHOT_NOT_READY 14 /**< the chosen snapshot is not ready */
#define SPR_E_SNAPSHOT_MISMATCH 15  /**< the snapshot is of a volume not bound to that name */
#define SPR_E_UNKNOWN_VOLUME 16     /**< request names a volume the target lacks */
/**@}*/

/**
 * Opaque handle on an open store. Thread-safe: one handle may be shared by
 * threads. Created by spr_open() or spr_open_with_cipher(), destroyed by
 * spr_close().
 * @since 0.1
 */
typedef struct spr_store spr_store;

/**
 * A host cipher for a KMS (see spr_open_with_cipher). The library generates
 * one random 32-byte data key per store and asks the cipher to wrap it; every
 * secret value is then sealed locally under keys derived from it.
 *
 * Both callbacks return 0 on success and write a buffer allocated with
 * malloc() into `*out` (the library frees it with free(), also on failure)
 * and its length into `*out_len`. A non-zero return, or a NULL `*out` with a
 * non-zero `*out_len`, fails the library call with #SPR_E_NO_KEY. They must be
 * thread-safe and must not call back into this API (the store is locked while
 * they run).
 * @since 0.1
 */
typedef struct spr_cipher {
    void *user_data; /**< passed back to both callbacks */
    /**
     * Wrap (encrypt) the `in_len` bytes at `in`: the store's data key. Called
     * once per store, the first time a secret value is stored.
     */
    int (*encrypt)(void *user_data, const unsigned char *in, size_t in_len,
                   unsigned char **out, size_t *out_len);
    /**
     * Unwrap (decrypt) what `encrypt` returned; must yield exactly the
     * original bytes. Called when a store holding a data key is opened (or
     * first needs the key).
     */
    int (*decrypt)(void *user_data, const unsigned char *in, size_t in_len,
                   unsigned char **out, size_t *out_len);
} spr_cipher;

/**
 * Open (creating if needed) a store and migrate its schema.
 *
 * Without a key, the store works but refuses states holding secret values
 * (#SPR_E_NO_KEY) rather than store them in plaintext.
 *
 * PostgreSQL: a lost connection fails the call in progress with #SPR_E_IO and
 * the next call on the handle reconnects; retry a write with the same
 * requestId (a COMMIT whose answer was lost may have been applied).
 * @param[in] path a SQLite file path (`file:` URIs accepted), or a libpq URI
 *        starting `postgres://` or `postgresql://`: the store is then the
 *        tables of the connection's current schema (choose it with
 *        `options=-csearch_path%3D<schema>`; it must exist); required
 * @param[in] options_json NULL, "" or `{"key": "<64 hex | base64>" | "keyFile": "path",
 *        "pricing": {"currency": "USD", "perGiBMonth": {"standard": 0.10, "*": 0.10}},
 *        "policy": {"triggers": [...]}, "busyTimeoutMs": 5000, "durability": "full"|"normal",
 *        "maxTaggedVersions": 50, "eventsLimit": 100000}` (@since 0.2: "maxTaggedVersions" 1-10000,
 *        see spr_tag(); "eventsLimit" 1-100000000, see spr_events(); a keyring
 *        `"keys": [{"id": "k2", "key": "…"}, {"id": "k1", "keyFile": "…"}]` instead of
 *        "key"/"keyFile": the first key wraps the store's data key, any key unwraps it,
 *        see spr_rotate_key()); unknown fields are refused
 * @param[out] out the handle, or NULL on failure; close it with spr_close(); required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL `path` or `out`; empty `path`; bad options (path names the field,
 *         e.g. `options.busyTimeoutMs`); key not 32 bytes; both key and keyFile
 * @retval SPR_E_NO_KEY keyFile unreadable or not a key; no key given opens the
 *         store's data key (path `options.key`, or `options.keys` for a keyring: a
 *         key retired by spr_rotate_key() no longer does), or the store's data key
 *         was wrapped by a host cipher (use spr_open_with_cipher())
 * @retval SPR_E_IO the file cannot be opened or created, the server cannot be
 *         reached, the search_path names no schema, or the store was written
 *         by a newer release (messages never echo a password)
 * @retval SPR_E_CORRUPT the file is not a store, or is damaged
 * @retval SPR_E_BUSY the store's writer lock stayed held longer than busyTimeoutMs
 * @since 0.1
 */
SPR_C_API int spr_open(const char *path, const char *options_json, spr_store **out);

/**
 * As spr_open(), with a host cipher that wraps the store's data key.
 * @param[in] path as spr_open(); required
 * @param[in] options_json as spr_open(), but without "key" or "keyFile"
 * @param[in] cipher required, both callbacks non-NULL; the struct is copied,
 *        its callbacks and `user_data` must stay valid until spr_close()
 * @param[out] out the handle, or NULL on failure; close it with spr_close(); required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID as spr_open(); NULL `cipher` or callback; options give a key too
 * @retval SPR_E_NO_KEY the cipher failed to unwrap the store's data key, or the
 *         store's data key was wrapped by a key (use spr_open())
 * @retval SPR_E_IO as spr_open()
 * @retval SPR_E_CORRUPT as spr_open()
 * @retval SPR_E_BUSY as spr_open()
 * @since 0.1
 */
SPR_C_API int spr_open_with_cipher(const char *path, const char *options_json,
                                   const spr_cipher *cipher, spr_store **out);

/**
 * Close a store and free its handle. NULL is a no-op.
 * @param[in] store handle from spr_open(), or NULL; invalid afterwards. It must
 *        not be in use by another thread.
 * @since 0.1
 */
SPR_C_API void spr_close(spr_store *store);

/**
 * Validate a state and record it; create a version when the policy says so.
 *
 * The state becomes the spinner's latest state even when no version is
 * created. The first state recorded for a spinner creates version 1. One
 * transaction; a retry with the same "requestId" returns the first result.
 * Recording the spinner's latest state again (a reconcile loop) writes
 * nothing and waits for no lock: one read (without a "requestId").
 * @param[in] store required
 * @param[in] spinner DNS-1123 label (1-63 lowercase letters, digits, '-'); required
 * @param[in] state_json the full state document (schemaVersion 1, docs/state.md); required
 * @param[in] meta_json NULL, "" or `{"author","message","requestId","expectedCurrent"}`
 *        ("confirmed" is ignored). "expectedCurrent" (@since 0.2): record only if the
 *        spinner's current version is this number (0: no version yet)
 * @param[out] out_json `{"outcome": "created"|"unchanged"|"disabled", "version": {...}|null,
 *        "reasons": [{"category","path"}]}`, or NULL on failure; free with spr_free(); required
 * @retval SPR_OK success, whatever the outcome
 * @retval SPR_E_INVALID NULL argument; bad spinner name; invalid state (path
 *         is its JSON path) or meta
 * @retval SPR_E_NO_KEY the state holds secret values and the store has no key,
 *         or the host cipher failed
 * @retval SPR_E_CONFLICT the requestId was already used for a different state, or
 *         the current version is not "expectedCurrent" (nothing written)
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read or written
 * @retval SPR_E_CORRUPT stored data failed verification
 * @since 0.1
 */
SPR_C_API int spr_record(spr_store *store, const char *spinner, const char *state_json,
                         const char *meta_json, char **out_json);

/**
 * List retained versions, newest (current) first.
 * @param[in] store required
 * @param[in] spinner the spinner's name; required
 * @param[out] out_json array of `{"spinner","number","current","createdAt","author",
 *        "message","reason","reasons","summary","digest","rollbackOf","scope","status","tags"}`
 *        ("scope" @since 0.2: a rollback's scope, "tracked", "all" or an array of
 *        categories, null otherwise; "tags" @since 0.2: `[{"name","note","author","createdAt"}]`)
 *        (`[]` when no version was ever created), or NULL on failure; free with
 *        spr_free(); required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument or bad spinner name
 * @retval SPR_E_NOT_FOUND the store knows no spinner of that name
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read or written
 * @retval SPR_E_CORRUPT stored data failed verification
 * @since 0.1
 */
SPR_C_API int spr_versions(spr_store *store, const char *spinner, char **out_json);

/**
 * One page of the retained versions, newest first: at most `limit` versions
 * numbered below `before`. Page through a long history with `before` = the
 * last number of the previous page; an empty array is the end. Its cost grows
 * with `limit`, not with the history's length.
 * @param[in] store required
 * @param[in] spinner the spinner's name; required
 * @param[in] before 0 for the newest page, else a version number (exclusive)
 * @param[in] limit 1-10000
 * @param[out] out_json array as spr_versions(), or NULL on failure; free with
 *        spr_free(); required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument, bad spinner name, `before` < 0 (path
 *         "before") or `limit` outside 1-10000 (path "limit")
 * @retval SPR_E_NOT_FOUND the store knows no spinner of that name
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read or written
 * @retval SPR_E_CORRUPT stored data failed verification
 * @since 0.1
 */
SPR_C_API int spr_versions_page(spr_store *store, const char *spinner, int64_t before, int64_t limit,
                                char **out_json);

/**
 * One version with its `"state"`. Secret values are "<redacted>" unless
 * reveal_secrets is non-zero (which needs the key).
 * @param[in] store required
 * @param[in] spinner the spinner's name; required
 * @param[in] number the version number
 * @param[in] reveal_secrets non-zero to decrypt secret values into the state
 * @param[out] out_json the listing fields of spr_versions() plus `"state"` (the
 *        canonical state document) and `"notes"` (@since 0.2: `[{"author","text","createdAt"}]`,
 *        oldest first), or NULL on failure; free with spr_free();
 *        required. With reveal_secrets it holds secret values: treat it as secret.
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument or bad spinner name
 * @retval SPR_E_NOT_FOUND unknown spinner, or the version never existed
 * @retval SPR_E_PRUNED the version was removed by retention
 * @retval SPR_E_NO_KEY reveal_secrets without the store's key or cipher
 * @retval SPR_E_CORRUPT stored content failed its digest or authentication check
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read or written
 * @since 0.1
 */
SPR_C_API int spr_version_get(spr_store *store, const char *spinner, int64_t number,
                              int reveal_secrets, char **out_json);

/**
 * Field-level diff between two versions.
 * @param[in] store required
 * @param[in] spinner the spinner's name; required
 * @param[in] from version number of the old side
 * @param[in] to version number of the new side
 * @param[out] out_json `{"changes": [{"path","category","kind","from","to"}]}`, secrets
 *        masked ("kind": "added"|"removed"|"changed"; "from"/"to" are JSON values,
 *        null when absent), or NULL on failure; free with spr_free(); required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument or bad spinner name
 * @retval SPR_E_NOT_FOUND unknown spinner, or a version never existed (path "from" or "to")
 * @retval SPR_E_PRUNED a version was removed by retention
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read or written
 * @retval SPR_E_CORRUPT stored data failed verification
 * @since 0.1
 */
SPR_C_API int spr_diff(spr_store *store, const char *spinner, int64_t from, int64_t to,
                       char **out_json);

/**
 * Field-level diff between two state documents (no store needed).
 * @param[in] a_json the old state document; required
 * @param[in] b_json the new state document; required
 * @param[out] out_json as spr_diff(), or NULL on failure; free with spr_free(); required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument, or an invalid document (the message names
 *         "a" or "b", the path is the JSON path)
 * @since 0.1
 */
SPR_C_API int spr_diff_states(const char *a_json, const char *b_json, char **out_json);

/**
 * Plan a rollback (read-only). Commit the plan with spr_commit_rollback() on
 * the same store.
 * @param[in] store required
 * @param[in] spinner the spinner's name; required
 * @param[in] target the version number to roll back to
 * @param[in] request_json NULL, "" or `{"data": {"<volume>": "current" | {"snapshot": "<id>"}},
 *        "scope": "tracked" | "all" | ["image", "env", ...]}`; an array (@since 0.2) is a
 *        partial rollback: only those categories come from the target (docs/rollback.md;
 *        a bad entry is refused at path "request.scope[i]")
 * @param[out] out_json the plan: `{"planId","spinner","baseVersion","targetVersion","state",
 *        "diff","summary","volumes","steps","warnings","requiresConfirmation","request",
 *        "resultDigest","digest"}` (secret values masked in "state"; in "diff" a config
 *        value longer than 4 KiB is shown as `{"bytes","sha256"}`, so each value appears
 *        once, in "state"), or NULL on failure; free with spr_free(); required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument; bad spinner name or request; the resulting
 *         state would be invalid
 * @retval SPR_E_NOT_FOUND unknown spinner, spinner without versions, target never
 *         existed, or unknown snapshot
 * @retval SPR_E_PRUNED the target was removed by retention
 * @retval SPR_E_ROLLBACK_DISABLED the spinner's latest state has rollback disabled
 * @retval SPR_E_CURRENT_VERSION the target is the current version
 * @retval SPR_E_IDENTICAL nothing would change and no snapshot is requested
 * @retval SPR_E_UNKNOWN_VOLUME the request names a volume the target does not have
 * @retval SPR_E_SNAPSHOT_NOT_READY a chosen snapshot is not ready
 * @retval SPR_E_SNAPSHOT_MISMATCH a chosen snapshot is of a volume no retained
 *         version bound to that name
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read or written
 * @retval SPR_E_CORRUPT stored data failed verification
 * @since 0.1
 */
SPR_C_API int spr_plan_rollback(spr_store *store, const char *spinner, int64_t target,
                                const char *request_json, char **out_json);

/**
 * Plan a rollback to the newest version, other than the current one, whose
 * status is "active" (or, when there is none, "superseded": it was active
 * once), with the default request. For hosts that roll back failed rollouts.
 * @param[in] store required
 * @param[in] spinner the spinner's name; required
 * @param[out] out_json the plan, as spr_plan_rollback(), or NULL on failure; free
 *        with spr_free(); required
 * @return as spr_plan_rollback(); #SPR_E_NOT_FOUND also when no earlier version
 *         was ever active
 * @since 0.1
 */
SPR_C_API int spr_plan_auto_rollback(spr_store *store, const char *spinner, char **out_json);

/**
 * Commit a plan as a new version (reason "rollback", status "pending").
 *
 * The plan is checked again against the store in one transaction; the new
 * version's state becomes the spinner's latest state. The host then fetches
 * it with spr_version_get() (reveal_secrets = 1), applies it, and reports the
 * outcome with spr_set_status(). A retry with the same "requestId" returns the
 * first result.
 * @param[in] store required
 * @param[in] plan_json a plan exactly as returned by spr_plan_rollback() or
 *        spr_plan_auto_rollback() on this store; required
 * @param[in] meta_json NULL, "" or `{"author","message","requestId","confirmed",
 *        "expectedCurrent"}` ("expectedCurrent" @since 0.2: commit only if the
 *        spinner's current version is this number)
 * @param[out] out_json the new version (listing fields of spr_versions()), or NULL
 *        on failure; free with spr_free(); required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument; plan malformed or altered (digest mismatch,
 *         or made by another store); bad meta
 * @retval SPR_E_CONFLICT the current version moved since planning or is not
 *         "expectedCurrent"; the plan no longer matches the store (a snapshot or
 *         the pricing changed, or the target was reported failed since
 *         planning or is no longer: the plan's warnings would differ); or the
 *         requestId was already used for a different request
 * @retval SPR_E_NEEDS_CONFIRMATION the plan provisions new volumes and meta has
 *         no `"confirmed": true`
 * @retval SPR_E_PRUNED the target was removed by retention (a requestId is
 *         forgotten with the version it created: a later retry is a new request)
 * @retval SPR_E_ROLLBACK_DISABLED rollback was disabled since planning
 * @retval SPR_E_NOT_FOUND a chosen snapshot was deleted since planning
 * @retval SPR_E_SNAPSHOT_NOT_READY a chosen snapshot is no longer ready
 * @retval SPR_E_SNAPSHOT_MISMATCH a chosen snapshot's volume is no longer bound
 *         to that name in a retained version
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read or written
 * @retval SPR_E_CORRUPT stored data failed verification
 * @since 0.1
 */
SPR_C_API int spr_commit_rollback(spr_store *store, const char *plan_json,
                                  const char *meta_json, char **out_json);

/**
 * Report a version's rollout status: "pending", "active", "failed" or "superseded".
 * Setting "active" marks the spinner's other active versions "superseded".
 * @param[in] store required
 * @param[in] spinner the spinner's name; required
 * @param[in] number the version number
 * @param[in] status "pending", "active", "failed" or "superseded"; required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument, bad spinner name, or unknown status
 * @retval SPR_E_NOT_FOUND unknown spinner, or the version never existed
 * @retval SPR_E_PRUNED the version was removed by retention
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read or written
 * @retval SPR_E_CORRUPT stored data failed verification
 * @since 0.1
 */
SPR_C_API int spr_set_status(spr_store *store, const char *spinner, int64_t number,
                             const char *status);

/**
 * Pin a tag on a version. A tagged version is never pruned and does not count
 * toward historyLimit (docs/retention.md); a spinner has at most
 * "maxTaggedVersions" tagged versions (open option, default 50), a version at
 * most 16 tags. Tagging the version that holds the name again updates its note.
 * @param[in] store required
 * @param[in] spinner the spinner's name; required
 * @param[in] number the version number
 * @param[in] tag_json `{"name": "<DNS-1123 label>", "note", "author", "move": false}`;
 *        "name" required; "move": true takes the name from the version holding it
 * @param[out] out_json the version's listing (as spr_versions(), with its "tags"), or
 *        NULL on failure; free with spr_free(); required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument, bad spinner name, bad tag_json (path names the field)
 * @retval SPR_E_NOT_FOUND unknown spinner, or the version never existed
 * @retval SPR_E_PRUNED the version was removed by retention
 * @retval SPR_E_CONFLICT the name is on another version and "move" is not true; or
 *         the spinner has "maxTaggedVersions" tagged versions (the message names
 *         the limit), or the version 16 tags
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read or written
 * @since 0.2
 */
SPR_C_API int spr_tag(spr_store *store, const char *spinner, int64_t number, const char *tag_json,
                      char **out_json);

/**
 * Remove a tag. The version it was on is subject to retention again from the
 * next write to the spinner.
 * @param[in] store required
 * @param[in] spinner the spinner's name; required
 * @param[in] name the tag's name; required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument, bad spinner name, or a name that is not UTF-8
 * @retval SPR_E_NOT_FOUND unknown spinner, or the spinner has no such tag
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read or written
 * @since 0.2
 */
SPR_C_API int spr_untag(spr_store *store, const char *spinner, const char *name);

/**
 * The number of the version that holds a tag (what the CLI's `@<tag>` means).
 * @param[in] store required
 * @param[in] spinner the spinner's name; required
 * @param[in] name the tag's name; required
 * @param[out] out_number the version number, or 0 on failure; required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument, bad spinner name, or a name that is not UTF-8
 * @retval SPR_E_NOT_FOUND unknown spinner, or the spinner has no such tag
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read or written
 * @since 0.2
 */
SPR_C_API int spr_tagged_version(spr_store *store, const char *spinner, const char *name,
                                 int64_t *out_number);

/**
 * Append a note to a version ("v12 broke checkout"). Notes are append-only, at
 * most 100 per version; a note equal to the version's last one (same author
 * and text) is not appended again, so a retry is harmless.
 * @param[in] store required
 * @param[in] spinner the spinner's name; required
 * @param[in] number the version number
 * @param[in] note_json `{"author", "text"}`; "text" required, 1-4096 bytes
 * @param[out] out_json `{"spinner", "number", "notes": [{"author","text","createdAt"}]}`
 *        (oldest first), or NULL on failure; free with spr_free(); required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument, bad spinner name, bad note_json (path names
 *         the field), or the version has 100 notes
 * @retval SPR_E_NOT_FOUND unknown spinner, or the version never existed
 * @retval SPR_E_PRUNED the version was removed by retention
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read or written
 * @since 0.2
 */
SPR_C_API int spr_annotate(spr_store *store, const char *spinner, int64_t number, const char *note_json,
                           char **out_json);

/**
 * The restore points of a version: for each volume of its state, the
 * registered snapshots of the volumeIds it bound, ranked by when they were
 * taken relative to the time the version was current (from its creation
 * until the next version's): "during" first (newest first), then "before"
 * (newest first), then "after" (oldest first).
 * @param[in] store required
 * @param[in] spinner the spinner's name; required
 * @param[in] number the version number
 * @param[out] out_json `{"spinner","number","currentFrom","currentUntil" (null while
 *        current),"volumes": [{"volume","volumeIds": [...],"snapshots": [{"id","volume",
 *        "createdAt","sizeBytes","ready","storageClass","relation": "during"|"before"|"after"}]}]}`,
 *        or NULL on failure; free with spr_free(); required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument or bad spinner name
 * @retval SPR_E_NOT_FOUND unknown spinner, or the version never existed
 * @retval SPR_E_PRUNED the version was removed by retention
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read or written
 * @retval SPR_E_CORRUPT stored data failed verification
 * @since 0.2
 */
SPR_C_API int spr_restore_points(spr_store *store, const char *spinner, int64_t number, char **out_json);

/**
 * Events after seq `after_seq` (0: from the oldest kept), oldest first: the
 * store's outbox, written in the same transaction as each change. `seq` is
 * gap-free and increases in commit order store-wide, on both engines, with
 * writers in several processes. No event holds a secret value. The newest
 * "eventsLimit" events are kept (open option, default 100000). Types and
 * their "data": docs/events.md.
 * @param[in] store required
 * @param[in] after_seq >= 0
 * @param[in] limit 1-10000
 * @param[out] out_json `{"storeId", "events": [{"seq","at","type","spinner" (null for
 *        snapshot events),"version" (or null),"data": {...}}], "next": <seq to ask after next>}`,
 *        or NULL on failure; free with spr_free(); required
 * @retval SPR_OK success (possibly no events)
 * @retval SPR_E_INVALID NULL argument, after_seq < 0 (path "after"), limit out of range
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read
 * @since 0.2
 */
SPR_C_API int spr_events(spr_store *store, int64_t after_seq, int64_t limit, char **out_json);

/**
 * As spr_events() (at most 1000 events), but waits up to `timeout_ms` for an
 * event after `after_seq` to exist; then, or when the time is up, returns
 * (an empty list when none came). A commit by any process wakes it within
 * about 25 ms; it sleeps in between (no core spins). Other calls on the same
 * handle from other threads are not blocked while it waits.
 * @param[in] store required
 * @param[in] after_seq >= 0
 * @param[in] timeout_ms 0-3600000
 * @param[out] out_json as spr_events(); free with spr_free(); required
 * @retval SPR_OK success (possibly no events: the timeout passed)
 * @retval SPR_E_INVALID NULL argument, after_seq < 0, timeout out of range
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read
 * @since 0.2
 */
SPR_C_API int spr_events_wait(spr_store *store, int64_t after_seq, int64_t timeout_ms, char **out_json);

/**
 * Facts about a spinner, kept even when no version is created.
 * @param[in] store required
 * @param[in] spinner the spinner's name; required
 * @param[out] out_json `{"spinner","rollbackEnabled","historyLimit","currentVersion"
 *        (0 when none),"versionsCreated" (highest number ever assigned),"lastRecordedAt"
 *        (when the latest state last changed: recording it again writes nothing)}`,
 *        or NULL on failure; free with spr_free(); required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument or bad spinner name
 * @retval SPR_E_NOT_FOUND the store knows no spinner of that name
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read or written
 * @retval SPR_E_CORRUPT stored data failed verification
 * @since 0.1
 */
SPR_C_API int spr_spinner_info(spr_store *store, const char *spinner, char **out_json);

/**
 * Names of every spinner the store knows, sorted by byte value.
 * @param[in] store required
 * @param[out] out_json `["name", ...]` (`[]` when none), or NULL on failure;
 *        free with spr_free(); required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL `store` or `out_json`
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read
 * @since 0.2
 */
SPR_C_API int spr_spinners(spr_store *store, char **out_json);

/**
 * The store's identity and engine.
 * @param[in] store required
 * @param[out] out_json `{"storeId","engine","schemaVersion","libraryVersion"}`: storeId is
 *        a UUID made when the store was created (or first opened by 0.2) and kept by
 *        every schema migration; engine is "sqlite" or "postgres". NULL on failure;
 *        free with spr_free(); required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL `store` or `out_json`
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read
 * @retval SPR_E_CORRUPT the store has no identity
 * @since 0.2
 */
SPR_C_API int spr_store_info(spr_store *store, char **out_json);

/**
 * Re-wrap the store's keys under the first key of the keyring it was opened
 * with, in one transaction; keys later in the ring can then be retired.
 * With `"reseal": true` it also makes a new data key and re-seals every secret
 * value under it in batches of "batchSize" (one transaction each): readers and
 * writers in other processes go on meanwhile, and a call after a crash resumes
 * where the last batch ended. No digest and no comparison changes: the MAC key
 * that makes equal secrets compare equal is kept. Roll the new keyring out to
 * every process first (docs/operations.md, "Rotating keys").
 * @param[in] store required
 * @param[in] options_json NULL, "" or `{"reseal": false, "batchSize": 500}` (1-100000)
 * @param[out] out_json `{"keyId","rewrapped","resealed","resumed"}`: keyId is the id of
 *        the key that now wraps ("" for a single "key"/"keyFile", "cipher" for a host
 *        cipher); rewrapped 0 means the store holds no secret. NULL on failure; free
 *        with spr_free(); required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument; bad options (path names the field)
 * @retval SPR_E_NO_KEY the store was opened without a key; no key of the ring opens its keys
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be written
 * @since 0.2
 */
SPR_C_API int spr_rotate_key(spr_store *store, const char *options_json, char **out_json);

/**
 * Write a bundle (docs/bundles.md): the full history of one spinner (or all),
 * with tags, notes, statuses, rollout history and the snapshots its volumes
 * bound, read in one transaction. The file is written whole next to `path`
 * (`path` + ".partial"), then renamed onto it. Secret values stay sealed:
 * under a fresh bundle key, itself wrapped under the export key.
 * @param[in] store required
 * @param[in] spinner a spinner name, or NULL for every spinner
 * @param[in] path the bundle file to write; required
 * @param[in] options_json NULL, "" or `{"key": "<64 hex | base64>" | "keyFile": "path"}`:
 *        the export key, needed when an exported version holds a secret value
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL `store` or `path`; bad spinner name; bad options
 * @retval SPR_E_NOT_FOUND no such spinner
 * @retval SPR_E_NO_KEY secret values to export but no export key (path `options.key`),
 *         or the store was opened without its key
 * @retval SPR_E_IO the file cannot be written
 * @since 0.2
 */
SPR_C_API int spr_export(spr_store *store, const char *spinner, const char *path, const char *options_json);

/**
 * Import a bundle in one transaction. Each spinner new to this store gets its
 * history exactly: numbers, times, authors, statuses, tags, notes, digests. A
 * spinner already here with the same versions (numbers and digests) is
 * skipped, so importing twice changes nothing. Into a store that holds no
 * secret yet, the store adopts the bundle's MAC key so every digest stays the
 * same. The whole bundle is checked before anything is written.
 * @param[in] store required
 * @param[in] path the bundle file; required
 * @param[in] options_json NULL, "" or `{"key" | "keyFile"}`: the export key
 * @param[out] out_json `{"sourceStoreId","spinnersImported","spinnersSkipped",
 *        "versionsImported","versionsSkipped","snapshotsImported","snapshotsSkipped"}`,
 *        or NULL on failure; free with spr_free(); required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument; bad options; a malformed, truncated, altered or
 *         newer-format bundle: the message names the line and the reason, `path` is
 *         "bundle:<line>"; nothing is written
 * @retval SPR_E_CONFLICT a spinner here has another history, or this store holds secrets
 *         under another store's MAC key; nothing is written
 * @retval SPR_E_NO_KEY the bundle holds secrets and no key, or the wrong key, was given,
 *         or this store was opened without a key
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the file cannot be read, or the store cannot be written
 * @since 0.2
 */
SPR_C_API int spr_import(spr_store *store, const char *path, const char *options_json, char **out_json);

/**
 * Copy every spinner of `store` into the store at `target_path` (SQLite or
 * PostgreSQL, as spr_open() takes; another engine, typically) through a
 * bundle held in memory under a one-time key, then read every version of the
 * copy back and compare it field by field and digest by digest with the
 * source. Success only when all match. Running it again skips what is there.
 * @param[in] store the source; required
 * @param[in] target_path where the copy goes; required
 * @param[in] target_options_json options to open the target with (as spr_open();
 *        give a key when the source holds secrets)
 * @param[out] out_json `{"targetStoreId","versionsVerified","imported": {as spr_import()}}`,
 *        or NULL on failure; free with spr_free(); required
 * @retval SPR_OK success: every version verified
 * @retval SPR_E_INVALID NULL argument; bad options
 * @retval SPR_E_CONFLICT as spr_import()
 * @retval SPR_E_NO_KEY the source holds secrets and the target has no key
 * @retval SPR_E_CORRUPT a check after the copy failed (the message says which)
 * @retval SPR_E_BUSY, SPR_E_IO as spr_open() and spr_import()
 * @since 0.2
 */
SPR_C_API int spr_migrate(spr_store *store, const char *target_path, const char *target_options_json,
                          char **out_json);

/**
 * Register (or replace, same id) a volume snapshot the host made.
 * @param[in] store required
 * @param[in] snapshot_json `{"id","volume","sizeBytes","createdAt","ready","storageClass",
 *        "metadata"}`: "id", "volume" (a volumeId), "sizeBytes" (> 0) and "ready"
 *        are required; "createdAt" (RFC 3339) defaults to now; required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument, or a bad snapshot (path names the field)
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read or written
 * @retval SPR_E_CORRUPT stored data failed verification
 * @since 0.1
 */
SPR_C_API int spr_snapshot_register(spr_store *store, const char *snapshot_json);

/**
 * List snapshots of one volumeId (all when volume is NULL), newest first.
 * @param[in] store required
 * @param[in] volume a volumeId, or NULL or "" for all snapshots
 * @param[out] out_json array of snapshots in the form spr_snapshot_register() takes
 *        (`[]` when none), or NULL on failure; free with spr_free(); required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL `store` or `out_json`; a volume that is not UTF-8
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read or written
 * @retval SPR_E_CORRUPT stored data failed verification
 * @since 0.1
 */
SPR_C_API int spr_snapshots(spr_store *store, const char *volume, char **out_json);

/**
 * Delete a snapshot record (the host deletes the snapshot itself).
 * @param[in] store required
 * @param[in] snapshot_id the snapshot's id; required, non-empty
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument, empty id, or an id that is not UTF-8
 * @retval SPR_E_NOT_FOUND no snapshot with that id
 * @retval SPR_E_BUSY the store stayed locked longer than busyTimeoutMs
 * @retval SPR_E_IO the store could not be read or written
 * @retval SPR_E_CORRUPT stored data failed verification
 * @since 0.1
 */
SPR_C_API int spr_snapshot_delete(spr_store *store, const char *snapshot_id);

/**
 * Evaluate a snapshot policy on two states (pure; no store).
 * @param[in] policy_json NULL, "" (the default triggers) or `{"triggers": [...]}`
 * @param[in] prev_state_json the current version's state; NULL or "" when there
 *        is no previous version (then the outcome is "created" with reason
 *        {"first","$"}, unless next disables rollback)
 * @param[in] next_state_json the state about to be deployed; required
 * @param[out] out_json `{"snapshot": bool, "outcome": "created"|"unchanged"|"disabled",
 *        "reasons": [{"category","path"}]}`, or NULL on failure; free with spr_free();
 *        required
 * @retval SPR_OK success
 * @retval SPR_E_INVALID NULL argument; bad policy (path names the entry); an
 *         invalid state (the message names "previous" or "next")
 * @since 0.1
 */
SPR_C_API int spr_policy_evaluate(const char *policy_json, const char *prev_state_json,
                                  const char *next_state_json, char **out_json);

/**
 * Free a string returned by the library through an out-pointer. NULL is a no-op.
 * Never pass the strings of spr_last_error(), spr_error_name() or
 * spr_version_string(): the library owns them.
 * @param[in] ptr a string from this library, or NULL
 * @since 0.1
 */
SPR_C_API void spr_free(void *ptr);

/**
 * This thread's last error as JSON `{"code","name","message","path"}`, or
 * `{"code":0,"name":"SPR_OK",...}` after a successful call. Owned by the
 * library (do not free); valid until this thread's next spr_* call. Never NULL.
 * "path" is the JSON path or argument name the error is about, or "".
 * @since 0.1
 */
SPR_C_API const char *spr_last_error(void);

/**
 * Name of a status code, e.g. "SPR_E_CONFLICT"; "SPR_E_UNKNOWN" for a code this
 * release does not know. Never NULL; static storage (do not free).
 * @param[in] code a status code
 * @since 0.1
 */
SPR_C_API const char *spr_error_name(int code);

/** The library's version at run time, e.g. "0.2.0". Static storage (do not free). @since 0.1 */
SPR_C_API const char *spr_version_string(void);

/** The library's version as MAJOR*10000 + MINOR*100 + PATCH (200 for 0.2.0). @since 0.1 */
SPR_C_API int spr_version_number(void);

#ifdef __cplusplus
}
#endif
#endif /* SPINNER_ROLLBACK_H */
