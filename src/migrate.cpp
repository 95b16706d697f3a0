// migrate_to(): copy every spinner into another store (another engine, say)
// through a bundle in memory, then read the copy back and compare.
#include "bundle.hpp"

#include "digest.hpp"

#include <sodium.h>

#include <sstream>

namespace spinner_rollback {

using namespace detail;

std::string MigrateResult::to_json() const {
    return detail::dump(json::object{{"targetStoreId", target_store_id},
                                     {"versionsVerified", versions_verified},
                                     {"imported", json::parse(imported.to_json())}});
}

MigrateResult VersionStore::migrate_to(const std::string &target, const StoreOptions &target_options) const {
    auto dest = VersionStore::open(target, target_options);
    // A one-time key for the bundle in memory: secrets stay sealed in transit.
    std::string raw = detail::random_bytes(32);
    BundleOptions key;
    key.key = detail::to_hex(raw);
    sodium_memzero(raw.data(), raw.size());
    std::stringstream buf;
    impl_->export_to({}, buf, key);
    const detail::Bundle bundle = detail::read_bundle(buf);
    MigrateResult r;
    r.imported = dest->impl_->import_from(bundle, key);
    sodium_memzero(key.key.data(), key.key.size());
    r.target_store_id = dest->info().store_id;
    // Verification: every spinner and version, field by field (numbers,
    // times, authors, statuses, tags, notes, digest); every version read
    // back whole, which checks its content against its digest (and, with a
    // key, every secret against its MAC).
    const bool reveal = dest->impl_->keys.configured();
    for (const auto &name : spinners()) {
        const auto mine = versions(name), theirs = dest->versions(name);
        if (mine.size() != theirs.size())
            throw Error(ErrorCode::corrupt, "migration check: \"" + name + "\" has " + std::to_string(theirs.size()) +
                                                " versions in the target, " + std::to_string(mine.size()) + " here");
        for (std::size_t i = 0; i < mine.size(); ++i) {
            if (mine[i].to_json() != theirs[i].to_json())
                throw Error(ErrorCode::corrupt, "migration check: version " + std::to_string(mine[i].number) + " of \"" +
                                                    name + "\" differs in the target");
            if (dest->get(name, theirs[i].number, reveal).version.digest != mine[i].digest)
                throw Error(ErrorCode::corrupt, "migration check: a digest differs");
            ++r.versions_verified;
        }
        if (spinner_info(name).to_json() != dest->spinner_info(name).to_json())
            throw Error(ErrorCode::corrupt, "migration check: the settings of \"" + name + "\" differ in the target");
    }
    return r;
}

} // namespace spinner_rollback
