/**
 * @file spinner_rollback.h
 * @brief The C API of spinner_rollback (C99). The header is the spec.
 *
 * Conventions (they hold for every function below):
 * - Every function that can fail returns `int`: #SPR_OK (0) or an `SPR_E_*` code.
 * - Results are UTF-8 JSON strings allocated by the library; the caller owns
 *   them and frees them with spr_free() (never with free()).
 * - On failure every out-pointer is set to NULL and nothing needs freeing.
 * - spr_last_error() returns this thread's last error as JSON
 *   `{"code","name","message","path"}`; it is cleared at the start of every call.
 * - A NULL handle or required argument returns #SPR_E_INVALID naming the
 *   argument. No C++ exception ever crosses this API.
 * - Every function is thread-safe; one spr_store may be shared by threads.
 * - Secret values never appear in errors, listings, summaries or diffs.
 * @since 0.1
 */
#ifndef SPINNER_ROLLBACK_H
#define SPINNER_ROLLBACK_H

#include <stddef.h>
#include <stdint.h>

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

/** Opaque handle on an open store. Thread-safe. */
typedef struct spr_store spr_store;

/**
 * A host cipher for a KMS (see spr_open_with_cipher). Both callbacks return 0
 * on success and write a buffer allocated with malloc() into *out (the library
 * frees it with free()) and its length into *out_len. They must be thread-safe.
 */
typedef struct spr_cipher {
    void *user_data; /**< passed back to both callbacks */
    int (*encrypt)(void *user_data, const unsigned char *in, size_t in_len,
                   unsigned char **out, size_t *out_len);
    int (*decrypt)(void *user_data, const unsigned char *in, size_t in_len,
                   unsigned char **out, size_t *out_len);
} spr_cipher;

/**
 * Open (creating if needed) a store file and migrate its schema.
 * @param path  [in] file path of the SQLite store; required
 * @param options_json [in] NULL or `{"key": "<64 hex | base64>" | "keyFile": "path",
 *        "pricing": {"currency": "USD", "perGiBMonth": {"standard": 0.10, "*": 0.10}},
 *        "policy": {"triggers": [...]}, "busyTimeoutMs": 5000, "durability": "full"|"normal"}`
 * @param out   [out] the handle; close with spr_close()
 * @return SPR_OK, SPR_E_INVALID, SPR_E_NO_KEY, SPR_E_IO, SPR_E_CORRUPT, SPR_E_BUSY
 */
SPR_C_API int spr_open(const char *path, const char *options_json, spr_store **out);

/**
 * As spr_open(), with a host cipher that wraps the store's data key.
 * @param cipher [in] required; copied, must stay callable until spr_close()
 */
SPR_C_API int spr_open_with_cipher(const char *path, const char *options_json,
                                   const spr_cipher *cipher, spr_store **out);

/** Close a store. NULL is a no-op. The handle must not be in use by another thread. */
SPR_C_API void spr_close(spr_store *store);

/**
 * Validate a state and record it; create a version when the policy says so.
 * @param meta_json [in] NULL or `{"author","message","requestId"}`
 * @param out_json [out] `{"outcome": "created"|"unchanged"|"disabled", "version": {...}|null, "reasons": [...]}`
 * @return SPR_OK, SPR_E_INVALID, SPR_E_NO_KEY, SPR_E_BUSY, SPR_E_IO
 */
SPR_C_API int spr_record(spr_store *store, const char *spinner, const char *state_json,
                         const char *meta_json, char **out_json);

/**
 * List retained versions, newest (current) first.
 * @param out_json [out] array of `{"number","current","createdAt","author","message",
 *        "reason","reasons","summary","digest","rollbackOf","status"}`
 * @return SPR_OK, SPR_E_INVALID, SPR_E_NOT_FOUND
 */
SPR_C_API int spr_versions(spr_store *store, const char *spinner, char **out_json);

/**
 * One version with its `"state"`. Secret values are "<redacted>" unless
 * reveal_secrets is non-zero (which needs the key).
 * @return SPR_OK, SPR_E_INVALID, SPR_E_NOT_FOUND, SPR_E_PRUNED, SPR_E_NO_KEY, SPR_E_CORRUPT
 */
SPR_C_API int spr_version_get(spr_store *store, const char *spinner, int64_t number,
                              int reveal_secrets, char **out_json);

/**
 * Field-level diff between two versions.
 * @param out_json [out] `{"changes": [{"path","category","kind","from","to"}]}`, secrets masked
 * @return SPR_OK, SPR_E_INVALID, SPR_E_NOT_FOUND, SPR_E_PRUNED
 */
SPR_C_API int spr_diff(spr_store *store, const char *spinner, int64_t from, int64_t to,
                       char **out_json);

/**
 * Field-level diff between two state documents (no store needed).
 * @return SPR_OK, SPR_E_INVALID
 */
SPR_C_API int spr_diff_states(const char *a_json, const char *b_json, char **out_json);

/**
 * Plan a rollback (read-only).
 * @param request_json [in] NULL or `{"data": {"<volume>": "current" | {"snapshot": "<id>"}},
 *        "scope": "tracked" | "all"}`
 * @param out_json [out] the plan: `{"planId","spinner","baseVersion","targetVersion","state",
 *        "diff","summary","volumes","steps","warnings","requiresConfirmation","request","digest"}`
 * @return SPR_OK, SPR_E_INVALID, SPR_E_NOT_FOUND, SPR_E_PRUNED, SPR_E_ROLLBACK_DISABLED,
 *         SPR_E_CURRENT_VERSION, SPR_E_IDENTICAL, SPR_E_UNKNOWN_VOLUME,
 *         SPR_E_SNAPSHOT_NOT_READY, SPR_E_SNAPSHOT_MISMATCH
 */
SPR_C_API int spr_plan_rollback(spr_store *store, const char *spinner, int64_t target,
                                const char *request_json, char **out_json);

/**
 * Plan a rollback to the newest version whose status is "active".
 * @return as spr_plan_rollback(); SPR_E_NOT_FOUND when no version was ever active
 */
SPR_C_API int spr_plan_auto_rollback(spr_store *store, const char *spinner, char **out_json);

/**
 * Commit a plan as a new version (reason "rollback", status "pending").
 * @param plan_json [in] a plan exactly as returned by spr_plan_rollback()
 * @param meta_json [in] NULL or `{"author","message","requestId","confirmed"}`
 * @param out_json [out] the new version (listing fields)
 * @return SPR_OK, SPR_E_CONFLICT, SPR_E_INVALID (plan altered), SPR_E_NEEDS_CONFIRMATION,
 *         and the refusals of spr_plan_rollback()
 */
SPR_C_API int spr_commit_rollback(spr_store *store, const char *plan_json,
                                  const char *meta_json, char **out_json);

/**
 * Report a version's rollout status: "pending", "active", "failed" or "superseded".
 * @return SPR_OK, SPR_E_INVALID, SPR_E_NOT_FOUND, SPR_E_PRUNED
 */
SPR_C_API int spr_set_status(spr_store *store, const char *spinner, int64_t number,
                             const char *status);

/**
 * Facts about a spinner: `{"spinner","rollbackEnabled","historyLimit","currentVersion",
 * "versionsCreated","lastRecordedAt"}`.
 * @return SPR_OK, SPR_E_INVALID, SPR_E_NOT_FOUND
 */
SPR_C_API int spr_spinner_info(spr_store *store, const char *spinner, char **out_json);

/**
 * Register (or replace) a volume snapshot:
 * `{"id","volume","sizeBytes","createdAt","ready","storageClass","metadata"}`.
 * @return SPR_OK, SPR_E_INVALID
 */
SPR_C_API int spr_snapshot_register(spr_store *store, const char *snapshot_json);

/**
 * List snapshots of one volumeId (all when volume is NULL), newest first.
 * @return SPR_OK, SPR_E_INVALID
 */
SPR_C_API int spr_snapshots(spr_store *store, const char *volume, char **out_json);

/** Delete a snapshot record. @return SPR_OK, SPR_E_INVALID, SPR_E_NOT_FOUND */
SPR_C_API int spr_snapshot_delete(spr_store *store, const char *snapshot_id);

/**
 * Evaluate a snapshot policy on two states (pure; no store).
 * @param policy_json [in] NULL (defaults) or `{"triggers": [...]}`
 * @param prev_state_json [in] NULL when there is no previous version
 * @param out_json [out] `{"snapshot": bool, "outcome", "reasons": [{"category","path"}]}`
 * @return SPR_OK, SPR_E_INVALID
 */
SPR_C_API int spr_policy_evaluate(const char *policy_json, const char *prev_state_json,
                                  const char *next_state_json, char **out_json);

/** Free a string returned by the library. NULL is a no-op. */
SPR_C_API void spr_free(void *ptr);

/**
 * This thread's last error as JSON `{"code","name","message","path"}`, or
 * `{"code":0,"name":"SPR_OK",...}` after a successful call. Owned by the
 * library; valid until this thread's next spr_* call.
 */
SPR_C_API const char *spr_last_error(void);

/** Name of a status code, e.g. "SPR_E_CONFLICT". Never NULL; static storage. */
SPR_C_API const char *spr_error_name(int code);

/** The library's version, e.g. "0.1.0". Static storage. */
SPR_C_API const char *spr_version_string(void);

/** The library's version as MAJOR*10000 + MINOR*100 + PATCH. */
SPR_C_API int spr_version_number(void);

#ifdef __cplusplus
}
#endif
#endif /* SPINNER_ROLLBACK_H */
