// Internal: the bundle file format (docs/bundles.md) — a line-oriented,
// versioned file that carries spinner histories between stores. This file
// owns the syntax: writing lines, and reading them back into typed records
// with every field checked (refusals name the line). What the records mean
// — which blobs a version needs, lineage, conflicts — is checked by the
// importer (bundle_import.cpp).
#pragma once

#include "blob_store.hpp"
#include "history.hpp"

#include <spinner_rollback/version_store.hpp>

#include <sodium.h>

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace spinner_rollback::detail {

/// The format this library writes, and the newest it reads.
constexpr std::int64_t kBundleFormat = 1;

struct BundleHeader {
    std::int64_t format = kBundleFormat;
    std::string store_id, library_version, created_at;
};

/// The bundle's keys, each wrapped under the export key.
struct BundleKeys {
    std::string data_key; ///< seals the bundle's secret values
    std::string mac_key;  ///< the source store's MAC key (its lineage)
};

/// A config map or core (canonical text) or a secret (sealed under the bundle's data key).
struct BundleBlob {
    std::string id; ///< 64 hex
    BlobKind kind = BlobKind::core;
    std::string data;
    std::int64_t line = 0;
};

struct BundleTag {
    std::string name, note, author, created_at;
    std::int64_t number = 0;
};

struct BundleBinding {
    std::string name, volume_id;
    std::int64_t last_number = 0;
};

struct BundleSpinner {
    SpinnerRow row; ///< id unused
    std::int64_t tagged = 0;
    std::vector<VersionRow> versions; ///< ascending numbers
    std::vector<BundleTag> tags;
    std::vector<BundleBinding> bindings;
    std::int64_t line = 0;
};

/// A whole bundle, read and checked line by line.
struct Bundle {
    BundleHeader header;
    std::optional<BundleKeys> keys;
    std::vector<BundleBlob> blobs; ///< every blob appears before the lines that need it
    std::vector<BundleSpinner> spinners;
    std::vector<Snapshot> snapshots;
};

/// Read a bundle. Throws Error(invalid, "bundle line N: reason", "bundle")
/// for anything malformed, truncated or of a newer format.
Bundle read_bundle(std::istream &in);

/// Writes a bundle's lines in order; finish() writes the end line, which
/// counts the lines and carries the sha256 of everything before it.
class BundleWriter {
public:
    explicit BundleWriter(std::ostream &out);
    void header(const BundleHeader &h);
    void keys(const BundleKeys &k);
    void blob(const BundleBlob &b);
    void spinner(const BundleSpinner &s); ///< the spinner line, then its versions, tags and bindings
    void snapshot(const Snapshot &s);
    void finish();

private:
    void line(const json::object &o);
    std::ostream &out_;
    crypto_hash_sha256_state hash_{};
    std::int64_t lines_ = 0;
};

std::string to_base64(std::string_view bytes);

} // namespace spinner_rollback::detail
