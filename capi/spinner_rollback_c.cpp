// The C API: a thin layer over the public C++ API only (never src/).
// Every entry point runs inside guard(), the one exception firewall: it
// clears the thread's last error on entry, maps every exception to a code
// and a JSON error, and sets out-pointers to NULL on failure.
#include "spinner_rollback.h"

#include <spinner_rollback/spinner_rollback.hpp>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

using namespace spinner_rollback;

struct spr_store {
    std::unique_ptr<VersionStore> store;
    std::unique_ptr<RollbackPlanner> planner;
};

namespace {

// This thread's last error as JSON. A trivially destructible buffer, not a
// std::string: thread-local destructors run before atexit handlers, and a
// host may call spr_close() from one.
constexpr std::size_t kErrorCapacity = 8192;
constexpr std::size_t kErrorFieldMax = 512; // message and path bytes kept (x6 worst-case escaping)
thread_local char t_last_error[kErrorCapacity];

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
std::size_t utf8_len(std::string_view s, std::size_t i) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    auto cont = [&](std::size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
    unsigned char c = byte(i);
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(i + 1) || !cont(i + 2)) return 0;
        if (c == 0xE0 && byte(i + 1) < 0xA0) return 0;  // overlong
        if (c == 0xED && byte(i + 1) > 0x9F) return 0;  // surrogate
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
        if (c == 0xF0 && byte(i + 1) < 0x90) return 0;  // overlong
        if (c == 0xF4 && byte(i + 1) > 0x8F) return 0;  // > U+10FFFF
        return 4;
    }
    return 0;
}

// JSON string literal of `s`; invalid UTF-8 (e.g. from a caller's argument
// echoed in a message, or a cut) becomes U+FFFD, so the error is always JSON.
void json_escape(std::string &out, std::string_view s) {
    out.push_back('"');
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        std::size_t n = utf8_len(s, i);
        if (n == 0) {
            out += "\ufffd";
            ++i;
            continue;
        }
        if (n > 1) {
            out.append(s.substr(i, n));
            i += n;
            continue;
        }
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out.push_back(static_cast<char>(c));
            }
        }
        ++i;
    }
    out.push_back('"');
}

// At most `max` bytes of `s`, not ending inside a UTF-8 sequence.
std::string_view clip(std::string_view s, std::size_t max) {
    if (s.size() <= max) return s;
    std::size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}

void set_error(int code, std::string_view message, std::string_view path) {
    std::string e = "{\"code\":" + std::to_string(code) + ",\"name\":";
    json_escape(e, spr_error_name(code));
    e += ",\"message\":";
    json_escape(e, clip(message, kErrorFieldMax));
    e += ",\"path\":";
    json_escape(e, clip(path, kErrorFieldMax));
    e += "}";
    static_assert(kErrorCapacity > 2 * 6 * kErrorFieldMax + 128, "an escaped error always fits");
    std::memcpy(t_last_error, e.c_str(), e.size() + 1);
}

void clear_error() { t_last_error[0] = '\0'; }

template <class F> int guard(F &&f) {
    clear_error();
    try {
        f();
        return SPR_OK;
    } catch (const Error &e) {
        set_error(static_cast<int>(e.code()), e.what(), e.path());
        return static_cast<int>(e.code());
    } catch (const std::bad_alloc &) {
        set_error(SPR_E_INTERNAL, "out of memory", "");
        return SPR_E_INTERNAL;
    } catch (const std::exception &e) {
        set_error(SPR_E_INTERNAL, std::string("internal error: ") + e.what(), "");
        return SPR_E_INTERNAL;
    } catch (...) {
        set_error(SPR_E_INTERNAL, "internal error: unknown exception", "");
        return SPR_E_INTERNAL;
    }
}

[[noreturn]] void null_arg(const char *name) {
    throw Error(ErrorCode::invalid, std::string(name) + " must not be NULL", name);
}

template <class T> void need(T *p, const char *name) {
    if (!p) null_arg(name);
}

char *dup(const std::string &s) {
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (!p) throw std::bad_alloc();
    std::memcpy(p, s.data(), s.size() + 1);
    return p;
}

std::string_view opt(const char *s) { return s ? std::string_view(s) : std::string_view(); }

// Output helper: NULL first, set on success only.
template <class F> int with_out(char **out, F &&f) {
    if (out) *out = nullptr;
    return guard([&] {
        need(out, "out_json");
        std::string s = f();
        *out = dup(s);
    });
}

class CCipher final : public Cipher {
public:
    explicit CCipher(const spr_cipher &c) : c_(c) {}
    std::string encrypt(std::string_view p) override { return call(c_.encrypt, p); }
    std::string decrypt(std::string_view p) override { return call(c_.decrypt, p); }

private:
    using Fn = int (*)(void *, const unsigned char *, size_t, unsigned char **, size_t *);
    std::string call(Fn fn, std::string_view in) {
        unsigned char *out = nullptr;
        size_t len = 0;
        int rc = fn(c_.user_data, reinterpret_cast<const unsigned char *>(in.data()), in.size(), &out, &len);
        if (rc != 0 || (!out && len)) {
            std::free(out);
            throw Error(ErrorCode::no_key, "host cipher failed");
        }
        std::string s(reinterpret_cast<char *>(out), len);
        std::free(out);
        return s;
    }
    spr_cipher c_;
};

int open_impl(const char *path, const char *options_json, const spr_cipher *cipher, spr_store **out) {
    if (out) *out = nullptr;
    return guard([&] {
        need(out, "out");
        need(path, "path");
        StoreOptions o = StoreOptions::from_json(opt(options_json));
        if (cipher) {
            if (!cipher->encrypt || !cipher->decrypt)
                throw Error(ErrorCode::invalid, "cipher callbacks must not be NULL", "cipher");
            if (!o.key.empty() || !o.key_file.empty())
                throw Error(ErrorCode::invalid, "give a cipher or a key, not both", "cipher");
            o.cipher = std::make_shared<CCipher>(*cipher);
        }
        auto h = std::make_unique<spr_store>();
        h->store = VersionStore::open(path, o);
        h->planner = std::make_unique<RollbackPlanner>(*h->store);
        *out = h.release();
    });
}

} // namespace

namespace {
std::string version_array(const std::vector<spinner_rollback::Version> &versions) {
    std::string out = "[";
    bool first = true;
    for (const auto &v : versions) {
        if (!first) out += ",";
        first = false;
        out += v.to_json();
    }
    return out + "]";
}
} // namespace

extern "C" {

int spr_open(const char *path, const char *options_json, spr_store **out) {
    return open_impl(path, options_json, nullptr, out);
}

int spr_open_with_cipher(const char *path, const char *options_json, const spr_cipher *cipher,
                         spr_store **out) {
    if (!cipher) {
        if (out) *out = nullptr;
        return guard([] { null_arg("cipher"); });
    }
    return open_impl(path, options_json, cipher, out);
}

void spr_close(spr_store *store) {
    clear_error();
    try {
        delete store;
    } catch (...) {
    }
}

int spr_record(spr_store *store, const char *spinner, const char *state_json, const char *meta_json,
               char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        need(spinner, "spinner");
        need(state_json, "state_json");
        return store->store->record(spinner, state_json, ChangeMeta::from_json(opt(meta_json))).to_json();
    });
}


int spr_versions(spr_store *store, const char *spinner, char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        need(spinner, "spinner");
        return version_array(store->store->versions(spinner));
    });
}

int spr_versions_page(spr_store *store, const char *spinner, int64_t before, int64_t limit, char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        need(spinner, "spinner");
        return version_array(store->store->versions(spinner, before, limit));
    });
}

int spr_version_get(spr_store *store, const char *spinner, int64_t number, int reveal_secrets, char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        need(spinner, "spinner");
        return store->store->get(spinner, number, reveal_secrets != 0).to_json();
    });
}

int spr_diff(spr_store *store, const char *spinner, int64_t from, int64_t to, char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        need(spinner, "spinner");
        return store->store->diff(spinner, from, to).to_json();
    });
}

int spr_diff_states(const char *a_json, const char *b_json, char **out_json) {
    return with_out(out_json, [&] {
        need(a_json, "a_json");
        need(b_json, "b_json");
        return diff_states(a_json, b_json).to_json();
    });
}

int spr_plan_rollback(spr_store *store, const char *spinner, int64_t target, const char *request_json,
                      char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        need(spinner, "spinner");
        return store->planner->plan(spinner, target, PlanRequest::from_json(opt(request_json))).to_json();
    });
}

int spr_plan_auto_rollback(spr_store *store, const char *spinner, char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        need(spinner, "spinner");
        return store->planner->plan_auto(spinner).to_json();
    });
}

int spr_commit_rollback(spr_store *store, const char *plan_json, const char *meta_json, char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        need(plan_json, "plan_json");
        return store->planner->commit_json(plan_json, ChangeMeta::from_json(opt(meta_json))).to_json();
    });
}

int spr_set_status(spr_store *store, const char *spinner, int64_t number, const char *status) {
    return guard([&] {
        need(store, "store");
        need(spinner, "spinner");
        need(status, "status");
        store->store->set_status(spinner, number, parse_status(status));
    });
}

int spr_tag(spr_store *store, const char *spinner, int64_t number, const char *tag_json, char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        need(spinner, "spinner");
        need(tag_json, "tag_json");
        return store->store->tag(spinner, number, TagRequest::from_json(tag_json)).to_json();
    });
}

int spr_untag(spr_store *store, const char *spinner, const char *name) {
    return guard([&] {
        need(store, "store");
        need(spinner, "spinner");
        need(name, "name");
        store->store->untag(spinner, name);
    });
}

int spr_tagged_version(spr_store *store, const char *spinner, const char *name, int64_t *out_number) {
    if (out_number) *out_number = 0;
    return guard([&] {
        need(out_number, "out_number");
        need(store, "store");
        need(spinner, "spinner");
        need(name, "name");
        *out_number = store->store->tagged(spinner, name);
    });
}

int spr_annotate(spr_store *store, const char *spinner, int64_t number, const char *note_json, char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        need(spinner, "spinner");
        need(note_json, "note_json");
        return store->store->annotate(spinner, number, Note::from_json(note_json)).to_json();
    });
}

int spr_restore_points(spr_store *store, const char *spinner, int64_t number, char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        need(spinner, "spinner");
        return store->store->restore_points(spinner, number).to_json();
    });
}

int spr_events(spr_store *store, int64_t after_seq, int64_t limit, char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        return store->store->events(after_seq, limit).to_json();
    });
}

int spr_events_wait(spr_store *store, int64_t after_seq, int64_t timeout_ms, char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        return store->store->wait_events(after_seq, timeout_ms).to_json();
    });
}

int spr_spinner_info(spr_store *store, const char *spinner, char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        need(spinner, "spinner");
        return store->store->spinner_info(spinner).to_json();
    });
}

int spr_spinners(spr_store *store, char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        std::string out = "[";
        for (const auto &name : store->store->spinners()) {
            if (out.size() > 1) out += ',';
            out += '"' + name + '"'; // DNS-1123 labels: nothing to escape
        }
        return out + "]";
    });
}

int spr_store_info(spr_store *store, char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        return store->store->info().to_json();
    });
}

int spr_rotate_key(spr_store *store, const char *options_json, char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        return store->store->rotate_key(RotateOptions::from_json(opt(options_json))).to_json();
    });
}

int spr_export(spr_store *store, const char *spinner, const char *path, const char *options_json) {
    return guard([&] {
        need(store, "store");
        need(path, "path");
        store->store->export_bundle(opt(spinner), path, BundleOptions::from_json(opt(options_json)));
    });
}

int spr_import(spr_store *store, const char *path, const char *options_json, char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        need(path, "path");
        return store->store->import_bundle(path, BundleOptions::from_json(opt(options_json))).to_json();
    });
}

int spr_migrate(spr_store *store, const char *target_path, const char *target_options_json, char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        need(target_path, "target_path");
        return store->store->migrate_to(target_path, StoreOptions::from_json(opt(target_options_json))).to_json();
    });
}

int spr_snapshot_register(spr_store *store, const char *snapshot_json) {
    return guard([&] {
        need(store, "store");
        need(snapshot_json, "snapshot_json");
        store->store->register_snapshot(Snapshot::from_json(snapshot_json));
    });
}

int spr_snapshots(spr_store *store, const char *volume, char **out_json) {
    return with_out(out_json, [&] {
        need(store, "store");
        std::string out = "[";
        bool first = true;
        for (const auto &s : store->store->snapshots(opt(volume))) {
            if (!first) out += ",";
            first = false;
            out += s.to_json();
        }
        return out + "]";
    });
}

int spr_snapshot_delete(spr_store *store, const char *snapshot_id) {
    return guard([&] {
        need(store, "store");
        need(snapshot_id, "snapshot_id");
        store->store->delete_snapshot(snapshot_id);
    });
}

int spr_policy_evaluate(const char *policy_json, const char *prev_state_json, const char *next_state_json,
                        char **out_json) {
    return with_out(out_json, [&] {
        need(next_state_json, "next_state_json");
        SnapshotPolicy p = SnapshotPolicy::from_json(opt(policy_json));
        return p.evaluate(opt(prev_state_json), next_state_json).to_json();
    });
}

void spr_free(void *ptr) { std::free(ptr); }

const char *spr_last_error(void) {
    if (t_last_error[0] == '\0')
        return "{\"code\":0,\"name\":\"SPR_OK\",\"message\":\"\",\"path\":\"\"}";
    return t_last_error;
}

const char *spr_error_name(int code) {
    if (code < 0 || code > static_cast<int>(ErrorCode::unknown_volume)) return "SPR_E_UNKNOWN";
    return error_name(static_cast<ErrorCode>(code));
}

const char *spr_version_string(void) { return version_string(); }

int spr_version_number(void) {
    return SPR_VERSION_MAJOR * 10000 + SPR_VERSION_MINOR * 100 + SPR_VERSION_PATCH;
}

} // extern "C"
