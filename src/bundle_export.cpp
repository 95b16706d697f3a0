// Export: a store's spinners to a bundle (docs/bundles.md). Everything is read
// in one read transaction, so a bundle is a consistent snapshot.
#include "bundle.hpp"

#include "clock.hpp"
#include "digest.hpp"
#include "schema.hpp"

#include <spinner_rollback/spinner_rollback.hpp>

#include <sodium.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace spinner_rollback::detail {

std::optional<Key> bundle_key(const BundleOptions &o) {
    if (!o.key.empty() && !o.key_file.empty())
        throw Error(ErrorCode::invalid, "give key or keyFile, not both", "options.keyFile");
    if (!o.key.empty()) return parse_key(o.key, "options.key");
    if (!o.key_file.empty()) return read_key_file(o.key_file);
    return std::nullopt;
}

} // namespace spinner_rollback::detail

namespace spinner_rollback {

using namespace detail;

ExportResult VersionStore::Impl::export_to(std::string_view spinner, std::ostream &out, const BundleOptions &options) {
    Impl &im = *this;
    const std::optional<Key> export_key = bundle_key(options);
    ExportResult result;
    Bundle b;
    std::vector<std::string> core_ids; // in the order versions need them
    std::map<std::string, std::string> plain_secrets; // id -> plaintext, wiped below
    struct Wipe {
        std::map<std::string, std::string> &m;
        ~Wipe() {
            for (auto &[id, p] : m) sodium_memzero(p.data(), p.size());
        }
    } wipe{plain_secrets};
    im.read([&] {
        std::vector<std::string> names;
        if (spinner.empty()) names = im.history.spinner_names();
        else names.push_back(im.history.require_spinner(spinner).name);
        std::set<std::string> volumes;
        for (const auto &name : names) {
            BundleSpinner s;
            s.row = im.history.require_spinner(name);
            s.versions = im.history.all_versions(s.row);
            {
                Stmt st(im.db, "SELECT tagged FROM spinners WHERE id=?");
                st.bind(1, s.row.id);
                if (st.step()) s.tagged = st.i64(0);
            }
            {
                Stmt st(im.db, "SELECT name, number, note, author, created_at FROM tags WHERE spinner_id=? ORDER BY name");
                st.bind(1, s.row.id);
                while (st.step()) s.tags.push_back({st.text(0), st.text(2), st.text(3), st.text(4), st.i64(1)});
            }
            {
                Stmt st(im.db, "SELECT name, volume_id, last_number FROM volume_bindings WHERE spinner_id=? "
                               "ORDER BY name, volume_id");
                st.bind(1, s.row.id);
                while (st.step()) {
                    s.bindings.push_back({st.text(0), st.text(1), st.i64(2)});
                    volumes.insert(st.text(1));
                }
            }
            for (const auto &v : s.versions) core_ids.push_back(v.core);
            if (!s.row.latest_core.empty()) core_ids.push_back(s.row.latest_core);
            b.spinners.push_back(std::move(s));
        }
        // Blobs: each config map and secret before the first core that holds it.
        std::set<std::string> seen;
        for (const auto &id : core_ids) {
            if (!seen.insert(id).second) continue;
            auto core = im.blobs.core(id); // verified against its id
            if (auto *maps = core->obj.if_contains("configMaps"); maps && maps->is_object())
                for (const auto &kv : maps->get_object()) {
                    const std::string mid(kv.value().as_string().subview(5)); // "blob:<id>"
                    if (seen.insert(mid).second) b.blobs.push_back({mid, BlobKind::map, im.blobs.load(mid, BlobKind::map)});
                }
            if (auto *sec = core->obj.if_contains("$secretBlobs"); sec && sec->is_object())
                for (const auto &kv : sec->get_object()) {
                    const std::string sid(kv.value().as_string());
                    if (!seen.insert(sid).second) continue;
                    im.sealer.ensure_data_key(false); // no_key without the store's key
                    plain_secrets.emplace(sid, im.sealer.open_secret(sid)); // needs the store's key
                    b.blobs.push_back({sid, BlobKind::secret, {}});
                }
            b.blobs.push_back({id, BlobKind::core, core->text});
        }
        for (const auto &vol : volumes)
            for (auto &snap : im.snapshots.list(vol)) b.snapshots.push_back(std::move(snap));
        b.header.store_id = im.store_id;
    });
    // Secrets are sealed under a fresh bundle data key, wrapped by the export key.
    if (!plain_secrets.empty()) {
        if (!export_key)
            throw Error(ErrorCode::no_key,
                        "the exported versions hold secret values: give a bundle key (key or keyFile) to seal them",
                        "options.key");
        std::string dk = random_bytes(32);
        const Key enc = Keyring::encryption_key(dk);
        const Key &mac = im.keys.mac_key();
        b.keys = BundleKeys{seal_with(*export_key, kBundleKeyAd, dk),
                            seal_with(*export_key, kBundleKeyAd,
                                      std::string_view(reinterpret_cast<const char *>(mac.data()), mac.size()))};
        sodium_memzero(dk.data(), dk.size());
        for (auto &blob : b.blobs)
            if (blob.kind == BlobKind::secret) blob.data = seal_with(enc, blob.id, plain_secrets.at(blob.id));
    }
    b.header.library_version = version_string();
    b.header.created_at = now_rfc3339();
    BundleWriter w(out);
    w.header(b.header);
    if (b.keys) w.keys(*b.keys);
    for (const auto &blob : b.blobs) {
        w.blob(blob);
        if (blob.kind == BlobKind::secret) ++result.secrets;
    }
    for (const auto &s : b.spinners) {
        w.spinner(s);
        ++result.spinners;
        result.versions += static_cast<std::int64_t>(s.versions.size());
    }
    for (const auto &snap : b.snapshots) w.snapshot(snap);
    result.snapshots = static_cast<std::int64_t>(b.snapshots.size());
    w.finish();
    return result;
}

BundleOptions BundleOptions::from_json(std::string_view text) {
    BundleOptions o;
    if (text.empty()) return o;
    json::value v = detail::parse_strict(text, "options", {1u << 16, 4, 8192});
    const auto &obj = detail::as_object(v, "options");
    detail::only_keys(obj, {"key", "keyFile"}, "options");
    if (auto *x = obj.if_contains("key")) {
        if (!x->is_string()) detail::fail("options.key", "must be a string");
        o.key = std::string(x->get_string());
        detail::parse_key(o.key, "options.key");
    }
    if (auto *x = obj.if_contains("keyFile")) o.key_file = detail::as_string_max(*x, "options.keyFile", 4096);
    if (!o.key.empty() && !o.key_file.empty()) detail::fail("options.keyFile", "give key or keyFile, not both");
    return o;
}

std::string ExportResult::to_json() const {
    return detail::dump(json::object{{"spinners", spinners}, {"versions", versions}, {"secrets", secrets}, {"snapshots", snapshots}});
}

ExportResult VersionStore::export_bundle(std::string_view spinner, const std::string &path,
                                         const BundleOptions &options) const {
    if (path.empty()) throw Error(ErrorCode::invalid, "path must not be empty", "path");
    if (!spinner.empty()) detail::check_spinner_name(spinner);
    // Written whole to a file next to `path`, then renamed onto it: a
    // reader never sees half a bundle.
    const std::string tmp = path + ".partial";
    ExportResult r;
    try {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw Error(ErrorCode::io, "cannot create \"" + tmp + "\"", "path");
        r = impl_->export_to(spinner, out, options);
        out.close();
        if (!out) throw Error(ErrorCode::io, "cannot write \"" + tmp + "\"", "path");
        std::error_code ec;
        std::filesystem::rename(tmp, path, ec);
        if (ec) throw Error(ErrorCode::io, "cannot rename the bundle onto \"" + path + "\": " + ec.message(), "path");
    } catch (...) {
        std::error_code ec;
        std::filesystem::remove(tmp, ec);
        throw;
    }
    return r;
}

} // namespace spinner_rollback
