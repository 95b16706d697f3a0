// Import: a bundle into a store (docs/bundles.md). The whole bundle is
// checked first — every id against its content, every secret against the
// bundle key and its keyed id, every version's state against the state
// schema — and then written in one transaction: a refusal writes nothing.
#include "bundle.hpp"

#include "digest.hpp"
#include "json.hpp"
#include "names.hpp"
#include "state_schema.hpp"

#include <sodium.h>

#include <fstream>
#include <set>
#include <unordered_map>

namespace spinner_rollback::detail {

namespace {

[[noreturn]] void refuse(std::int64_t line, const std::string &why) {
    throw Error(ErrorCode::invalid, "bundle line " + std::to_string(line) + ": " + why,
                "bundle:" + std::to_string(line));
}

// The bundle's blobs by id, checked; secrets decrypted (wiped on destruction).
struct CheckedBlobs {
    std::unordered_map<std::string, const BundleBlob *> by_id;
    std::unordered_map<std::string, json::object> parsed; // cores and maps
    std::unordered_map<std::string, std::string> secrets; // id -> plaintext
    ~CheckedBlobs() {
        for (auto &[id, p] : secrets) sodium_memzero(p.data(), p.size());
    }
};

struct BundleSecrets {
    Key enc{}, mac{};
    ~BundleSecrets() {
        sodium_memzero(enc.data(), enc.size());
        sodium_memzero(mac.data(), mac.size());
    }
};

const BundleBlob &need(const CheckedBlobs &c, const std::string &id, BlobKind kind, std::int64_t line) {
    auto it = c.by_id.find(id);
    if (it == c.by_id.end() || it->second->kind != kind || it->second->line > line)
        refuse(line, "refers to content " + id.substr(0, 12) + " that the bundle does not hold before this line");
    return *it->second;
}

void check_blobs(const Bundle &b, const BundleSecrets *keys, CheckedBlobs &c) {
    for (const auto &blob : b.blobs) {
        if (!c.by_id.emplace(blob.id, &blob).second) refuse(blob.line, "content " + blob.id.substr(0, 12) + " appears twice");
        if (blob.kind == BlobKind::secret) {
            auto plain = open_with(keys->enc, blob.id, blob.data);
            if (!plain) refuse(blob.line, "a secret does not open under the bundle's key: it was altered");
            if (keyed_secret_id(keys->mac, *plain) != blob.id) {
                sodium_memzero(plain->data(), plain->size());
                refuse(blob.line, "a secret does not match its id");
            }
            c.secrets.emplace(blob.id, std::move(*plain));
            continue;
        }
        if (to_hex(sha256_raw(blob.data)) != blob.id) refuse(blob.line, "content does not match its id (sha256)");
        boost::system::error_code ec;
        json::value v = json::parse(blob.data, ec);
        if (ec || !v.is_object() || canonical(v) != blob.data) refuse(blob.line, "content is not a canonical JSON object");
        json::object obj = std::move(v.as_object());
        if (blob.kind == BlobKind::core) {
            // The state it stands for: config maps loaded, secret values left
            // as their MACs (each checked against the decrypted secret).
            json::object state = obj;
            state.erase("$secretBlobs");
            if (auto *maps = state.if_contains("configMaps"); maps && maps->is_object())
                for (auto &kv : maps->get_object()) {
                    if (!kv.value().is_string() || !kv.value().get_string().starts_with("blob:"))
                        refuse(blob.line, "a config map that is not a reference");
                    const std::string id(kv.value().get_string().subview(5));
                    need(c, id, BlobKind::map, blob.line);
                    kv.value() = c.parsed.at(id);
                }
            const auto *sec = obj.if_contains("$secretBlobs");
            if (!sec || !sec->is_object()) refuse(blob.line, "a state without its secret list");
            if (!sec->get_object().empty() && !keys) refuse(blob.line, "a state with secrets in a bundle without keys");
            if (auto *values = state.if_contains("secrets"); values && values->is_object())
                for (const auto &kv : values->get_object()) {
                    const auto *idv = sec->get_object().if_contains(kv.key());
                    if (!idv || !idv->is_string() || !kv.value().is_object())
                        refuse(blob.line, "secret \"" + std::string(kv.key()) + "\" without sealed content");
                    const std::string id(idv->get_string());
                    need(c, id, BlobKind::secret, blob.line);
                    boost::system::error_code pec;
                    const json::value plain = json::parse(c.secrets.at(id), pec);
                    if (pec || !plain.is_object()) refuse(blob.line, "a secret is not an object");
                    for (const auto &kv2 : kv.value().get_object()) {
                        const auto *val = plain.get_object().if_contains(kv2.key());
                        if (!val || !val->is_string() || !kv2.value().is_string() ||
                            keyed_value_mac(keys->mac, kv.key(), kv2.key(), val->get_string()) != kv2.value().get_string())
                            refuse(blob.line, "a secret value does not match its MAC");
                    }
                }
            try {
                parse_state(dump(state), "state");
            } catch (const Error &e) {
                refuse(blob.line, std::string("not a valid state: ") + e.what() + " at " + e.path());
            }
        }
        c.parsed.emplace(blob.id, std::move(obj));
    }
}

// The version rows' own fields, as History reads them back.
void check_spinner(const BundleSpinner &s, const CheckedBlobs &c, History &history) {
    bool current_found = s.row.current == 0;
    for (const auto &v : s.versions) {
        need(c, v.core, BlobKind::core, std::numeric_limits<std::int64_t>::max());
        if (v.number == s.row.current) current_found = true;
        try {
            history.make_version(s.row, v);
            History::notes_of(v);
        } catch (...) {
            refuse(s.line, "version " + std::to_string(v.number) + " of \"" + s.row.name + "\" has malformed fields");
        }
    }
    if (!current_found) refuse(s.line, "the current version of \"" + s.row.name + "\" is not in the bundle");
    if (!s.row.latest_core.empty()) need(c, s.row.latest_core, BlobKind::core, std::numeric_limits<std::int64_t>::max());
    std::set<std::string> names;
    for (const auto &t : s.tags) {
        if (!is_dns_label(t.name)) refuse(s.line, "tag \"" + t.name + "\" is not a DNS-1123 label");
        if (!names.insert(t.name).second) refuse(s.line, "tag \"" + t.name + "\" appears twice");
        bool found = false;
        for (const auto &v : s.versions) found = found || v.number == t.number;
        if (!found) refuse(s.line, "tag \"" + t.name + "\" is on a version the bundle does not hold");
    }
}

} // namespace

} // namespace spinner_rollback::detail

namespace spinner_rollback {

using namespace detail;

ImportResult VersionStore::Impl::import_from(const Bundle &b, const BundleOptions &options) {
    Impl &im = *this;
    ImportResult r;
    r.source_store_id = b.header.store_id;
    std::optional<BundleSecrets> bkeys;
    if (b.keys) {
        const std::optional<Key> k = bundle_key(options);
        if (!k) throw Error(ErrorCode::no_key, "the bundle holds secret values: give its key (key or keyFile)", "options.key");
        auto dk = open_with(*k, kBundleKeyAd, b.keys->data_key);
        auto mac = open_with(*k, kBundleKeyAd, b.keys->mac_key);
        if (!dk || !mac || dk->size() != 32 || mac->size() != 32)
            throw Error(ErrorCode::no_key, "the key does not open this bundle", "options.key");
        bkeys.emplace();
        bkeys->enc = Keyring::encryption_key(*dk);
        std::copy(mac->begin(), mac->end(), bkeys->mac.begin());
        sodium_memzero(dk->data(), dk->size());
        sodium_memzero(mac->data(), mac->size());
        if (!im.keys.configured())
            throw Error(ErrorCode::no_key, "the bundle holds secret values: open this store with a key to seal them",
                        "options.key");
    }
    CheckedBlobs checked;
    check_blobs(b, bkeys ? &*bkeys : nullptr, checked);
    for (const auto &s : b.spinners) check_spinner(s, checked, im.history);

    im.write([&] {
        if (bkeys) {
            im.sealer.ensure_data_key(true);
            Stmt count(im.db, "SELECT count(*) FROM blobs WHERE kind = 3");
            count.step();
            if (count.i64(0) == 0) {
                // No secret here yet: adopt the bundle's lineage, so every
                // imported digest stays what it was.
                const Key &mine = im.keys.mac_key();
                if (sodium_memcmp(mine.data(), bkeys->mac.data(), mine.size()) != 0) {
                    std::string wrapped =
                        im.keys.wrap(std::string_view(reinterpret_cast<const char *>(bkeys->mac.data()), 32));
                    Stmt st(im.db, "INSERT INTO meta(key, value) VALUES('mac_key', ?) "
                                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
                    st.bind_blob(1, wrapped).run();
                    im.keys.adopt_mac_key(bkeys->mac, std::move(wrapped));
                }
            } else if (sodium_memcmp(im.keys.mac_key().data(), bkeys->mac.data(), 32) != 0) {
                throw Error(ErrorCode::conflict,
                            "this store already holds secrets keyed under another store's MAC key, so the bundle's "
                            "digests would change: import it into an empty store (or one without secrets)",
                            "bundle");
            }
        }
        for (const auto &s : b.spinners) {
            if (auto existing = im.history.find_spinner(s.row.name)) {
                const auto have = im.history.all_versions(*existing);
                bool same = have.size() == s.versions.size();
                for (std::size_t i = 0; same && i < have.size(); ++i)
                    same = have[i].number == s.versions[i].number && have[i].core == s.versions[i].core;
                if (!same)
                    throw Error(ErrorCode::conflict,
                                "spinner \"" + s.row.name + "\" is already here with another history; nothing imported",
                                "bundle:" + std::to_string(s.line));
                ++r.spinners_skipped;
                r.versions_skipped += static_cast<std::int64_t>(s.versions.size());
                continue;
            }
            SpinnerRow row = s.row;
            {
                Stmt st(im.db, "INSERT INTO spinners(name, enabled, history_limit, last_number, current_number, "
                               "updated_at, tagged) VALUES(?,?,?,?,?,?,?) RETURNING id");
                st.bind(1, row.name).bind(2, row.enabled ? 1 : 0).bind(3, row.history_limit).bind(4, row.last_number);
                st.bind(5, row.current).bind(6, row.updated_at).bind(7, 0); // sync_tags() counts
                st.step();
                row.id = st.i64(0);
                st.run();
            }
            // Facts about every blob this spinner touches, read in one batch
            // (one round trip on PostgreSQL) rather than one by one.
            {
                std::vector<std::string> ids;
                for (const auto &v : s.versions) ids.push_back(v.core);
                if (!row.latest_core.empty()) ids.push_back(row.latest_core);
                const std::size_t cores = ids.size();
                for (std::size_t i = 0; i < cores; ++i)
                    for (auto &child : sealed_children(checked.parsed.at(ids[i]))) ids.push_back(std::move(child));
                im.blobs.prefetch(ids).take();
            }
            // Content, each core delta-compressed against the one before.
            std::string base;
            auto store_core = [&](const std::string &id) {
                const json::object &core = checked.parsed.at(id);
                for (const auto &child : sealed_children(core)) {
                    const BundleBlob &cb = *checked.by_id.at(child);
                    if (cb.kind == BlobKind::map) im.blobs.put(child, BlobKind::map, cb.data, {}, {});
                    else if (!im.blobs.contains(child))
                        im.blobs.put(child, BlobKind::secret, im.keys.seal(child, checked.secrets.at(child)), {}, {});
                }
                im.blobs.put(id, BlobKind::core, checked.by_id.at(id)->data, base, sealed_children(core));
                im.blobs.cache_core(id, checked.by_id.at(id)->data, core); // the next delta builds on it
                im.blobs.incref(id);
                base = id;
            };
            for (const auto &v : s.versions) {
                store_core(v.core);
                im.history.insert_version(row, v);
            }
            if (!row.latest_core.empty()) {
                store_core(row.latest_core);
                Stmt st(im.db, "UPDATE spinners SET latest_core=? WHERE id=?");
                st.bind_blob(1, from_hex(row.latest_core)).bind(2, row.id).run();
            }
            // The tag lines are the one source of the versions' tags and the
            // spinner's count of tagged versions (retention keeps tagged
            // versions): what the bundle says of them elsewhere is rewritten.
            std::set<std::int64_t> tag_numbers;
            for (const auto &t : s.tags) {
                Stmt st(im.db, "INSERT INTO tags(spinner_id, name, number, note, author, created_at) VALUES(?,?,?,?,?,?)");
                st.bind(1, row.id).bind(2, t.name).bind(3, t.number).bind(4, t.note).bind(5, t.author).bind(6, t.created_at);
                st.run();
                tag_numbers.insert(t.number);
            }
            for (const auto &v : s.versions)
                if (!v.tags_text.empty()) tag_numbers.insert(v.number);
            for (const auto n : tag_numbers) im.history.sync_tags(row, n);
            for (const auto &bd : s.bindings) {
                Stmt st(im.db, "INSERT INTO volume_bindings(spinner_id, name, volume_id, last_number) VALUES(?,?,?,?)");
                st.bind(1, row.id).bind(2, bd.name).bind(3, bd.volume_id).bind(4, bd.last_number).run();
            }
            ++r.spinners_imported;
            r.versions_imported += static_cast<std::int64_t>(s.versions.size());
            im.events.append("spinner.imported", row.name, row.current ? std::optional(row.current) : std::nullopt,
                             json::object{{"versions", static_cast<std::int64_t>(s.versions.size())},
                                          {"sourceStoreId", b.header.store_id}});
        }
        for (const auto &snap : b.snapshots) {
            if (im.snapshots.find(snap.id)) {
                ++r.snapshots_skipped;
                continue;
            }
            im.snapshots.put(snap);
            ++r.snapshots_imported;
        }
    });
    // PostgreSQL plans by its statistics, which a bulk import leaves stale
    // until autovacuum comes by: refresh them now, or the first reads of
    // the imported rows may be planned as scans.
    if (r.versions_imported > 0 && im.db.engine_name() == "postgres")
        im.single([&] { im.db.exec("ANALYZE blobs, versions, spinners, tags, volume_bindings, snapshots, events"); });
    return r;
}

std::string ImportResult::to_json() const {
    return detail::dump(json::object{{"sourceStoreId", source_store_id},
                                     {"spinnersImported", spinners_imported},
                                     {"spinnersSkipped", spinners_skipped},
                                     {"versionsImported", versions_imported},
                                     {"versionsSkipped", versions_skipped},
                                     {"snapshotsImported", snapshots_imported},
                                     {"snapshotsSkipped", snapshots_skipped}});
}

ImportResult VersionStore::import_bundle(const std::string &path, const BundleOptions &options) {
    if (path.empty()) throw Error(ErrorCode::invalid, "path must not be empty", "path");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::io, "cannot read \"" + path + "\"", "path");
    const detail::Bundle b = detail::read_bundle(in);
    if (in.bad()) throw Error(ErrorCode::io, "cannot read \"" + path + "\"", "path");
    return impl_->import_from(b, options);
}

} // namespace spinner_rollback
