// fuzz_bundle: input = the lines of a bundle without its end line
// (docs/bundles.md). Runs the reader on the input as it is (which must refuse
// it: no end line), then on the input with a correct end line appended — so
// the fuzzer gets past the checksum — and imports what the reader accepts
// into a store, which must refuse it or import it; never crash. Only
// spinner_rollback::Error may escape.
#include "fuzz_common.hpp"

#include "bundle_format.hpp"
#include "digest.hpp"

#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace {

// A bundle key and a store key, both fixed (seeds are sealed under the former).
const std::string kBundleKey(64, '5');

struct Fixture {
    std::string dir, bundle;
    std::unique_ptr<spinner_rollback::VersionStore> store;
    Fixture() {
        char tmpl[] = "/tmp/spr-fuzz-bundle-XXXXXX";
        dir = mkdtemp(tmpl);
        bundle = dir + "/in.bundle";
        spinner_rollback::StoreOptions o;
        o.key = std::string(64, '1');
        o.durability = spinner_rollback::Durability::normal;
        store = spinner_rollback::VersionStore::open(dir + "/store.db", o);
    }
    ~Fixture() {
        store.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    namespace spr = spinner_rollback;
    static Fixture fx;
    std::string body(reinterpret_cast<const char *>(data), size);
    if (!body.empty() && body.back() != '\n') body += '\n';

    bool accepted = spr_fuzz::expect_ok_or_error("read_bundle (no end line)", [&] {
        std::istringstream in(body);
        (void)spr::detail::read_bundle(in);
    });
    if (accepted) spr_fuzz::bug("read_bundle accepted a bundle without its end line");

    std::int64_t lines = 1;
    for (char c : body) lines += c == '\n';
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, reinterpret_cast<const unsigned char *>(body.data()), body.size());
    const std::string whole = body + R"({"end":{"lines":)" + std::to_string(lines) + R"(,"sha256":")" +
                              spr::detail::to_hex(std::string_view(reinterpret_cast<const char *>(h), sizeof h)) +
                              "\"}}\n";
    accepted = spr_fuzz::expect_ok_or_error("read_bundle", [&] {
        std::istringstream in(whole);
        (void)spr::detail::read_bundle(in);
    });
    if (!accepted) return 0;
    std::ofstream(fx.bundle, std::ios::binary | std::ios::trunc) << whole;
    spr::BundleOptions key;
    key.key = kBundleKey;
    spr_fuzz::expect_ok_or_error("import_bundle", [&] { (void)fx.store->import_bundle(fx.bundle, key); });
    return 0;
}
