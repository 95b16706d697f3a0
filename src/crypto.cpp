#include "digest.hpp"
#include "crypto.hpp"

#include "json.hpp"

#include <sodium.h>

#include <fstream>
#include <sstream>

namespace spinner_rollback {

Cipher::~Cipher() = default;

namespace detail {

void ensure_sodium() {
    static const int rc = sodium_init();
    if (rc < 0) throw Error(ErrorCode::internal, "libsodium failed to initialise");
}

std::string random_bytes(std::size_t n) {
    ensure_sodium();
    std::string s(n, '\0');
    randombytes_buf(s.data(), n);
    return s;
}


Key parse_key(std::string_view text, const std::string &path) {
    ensure_sodium();
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    Key k{};
    std::size_t len = 0;
    if (text.size() == 64 &&
        sodium_hex2bin(k.data(), k.size(), text.data(), text.size(), nullptr, &len, nullptr) == 0 &&
        len == 32)
        return k;
    for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_URLSAFE,
                        sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING}) {
        unsigned char buf[48];
        if (sodium_base642bin(buf, sizeof buf, text.data(), text.size(), nullptr, &len, nullptr,
                              variant) == 0 &&
            len == 32) {
            std::copy(buf, buf + 32, k.begin());
            sodium_memzero(buf, sizeof buf);
            return k;
        }
    }
    // Never echo the text: it may be a key.
    throw Error(ErrorCode::invalid, "key must be 32 bytes as 64 hex digits or base64", path);
}

Key read_key_file(const std::string &file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(ErrorCode::no_key, "cannot read key file \"" + file + "\"", "options.keyFile");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    try {
        Key k = parse_key(text, "options.keyFile");
        sodium_memzero(text.data(), text.size());
        return k;
    } catch (const Error &) {
        sodium_memzero(text.data(), text.size());
        throw Error(ErrorCode::no_key, "key file \"" + file + "\" does not hold 32 bytes as hex or base64",
                    "options.keyFile");
    }
}

Keyring::Keyring(std::vector<NamedKey> keys, std::shared_ptr<Cipher> cipher)
    : keys_(std::move(keys)), cipher_(std::move(cipher)) {
    ensure_sodium();
}

Keyring::~Keyring() {
    for (auto &k : keys_) sodium_memzero(k.key.data(), k.key.size());
    sodium_memzero(enc_.data(), enc_.size());
    sodium_memzero(mac_.data(), mac_.size());
    if (prev_enc_) sodium_memzero(prev_enc_->data(), prev_enc_->size());
}

namespace {

constexpr const char kWrapAd[] = "spinner_rollback data key v1";
constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

std::string aead_seal(const Key &key, std::string_view ad, std::string_view plaintext) {
    std::string out = random_bytes(kNonce);
    out.resize(kNonce + plaintext.size() + kTag);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        reinterpret_cast<unsigned char *>(out.data() + kNonce), &clen,
        reinterpret_cast<const unsigned char *>(plaintext.data()), plaintext.size(),
        reinterpret_cast<const unsigned char *>(ad.data()), ad.size(), nullptr,
        reinterpret_cast<const unsigned char *>(out.data()), key.data());
    out.resize(kNonce + clen);
    return out;
}

std::optional<std::string> aead_open(const Key &key, std::string_view ad, std::string_view sealed) {
    if (sealed.size() < kNonce + kTag) return std::nullopt;
    std::string out(sealed.size() - kNonce, '\0');
    unsigned long long dlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            reinterpret_cast<unsigned char *>(out.data()), &dlen, nullptr,
            reinterpret_cast<const unsigned char *>(sealed.data() + kNonce), sealed.size() - kNonce,
            reinterpret_cast<const unsigned char *>(ad.data()), ad.size(),
            reinterpret_cast<const unsigned char *>(sealed.data()), key.data()) != 0)
        return std::nullopt;
    out.resize(dlen);
    return out;
}

Key key_of(std::string_view bytes) {
    if (bytes.size() != 32) throw Error(ErrorCode::no_key, "an unwrapped key has the wrong size");
    Key k{};
    std::copy(bytes.begin(), bytes.end(), k.begin());
    return k;
}

} // namespace

std::string seal_with(const Key &key, std::string_view id, std::string_view plaintext) {
    return aead_seal(key, id, plaintext);
}

std::optional<std::string> open_with(const Key &key, std::string_view id, std::string_view sealed) {
    return aead_open(key, id, sealed);
}

std::string Keyring::wrapping_key_id() const {
    if (cipher_) return "cipher";
    return keys_.empty() ? std::string() : keys_.front().id;
}

std::string Keyring::wrap(std::string_view key_bytes) const {
    if (!configured()) throw Error(ErrorCode::no_key, "no encryption key configured");
    if (cipher_) {
        try {
            return "c" + cipher_->encrypt(key_bytes);
        } catch (...) {
            throw Error(ErrorCode::no_key, "the host cipher failed to wrap the data key");
        }
    }
    return "k" + aead_seal(keys_.front().key, kWrapAd, key_bytes);
}

std::string Keyring::unwrap(std::string_view wrapped, std::string *opened_by) const {
    if (!configured())
        throw Error(ErrorCode::no_key, "this store holds secret values; open it with a key or cipher");
    std::string dk;
    if (!wrapped.empty() && wrapped[0] == 'c') {
        if (!cipher_)
            throw Error(ErrorCode::no_key, "this store's data key was wrapped by a host cipher; open it with one");
        try {
            dk = cipher_->decrypt(wrapped.substr(1));
        } catch (...) {
            throw Error(ErrorCode::no_key, "the host cipher failed to unwrap the data key");
        }
        if (opened_by) *opened_by = "cipher";
    } else if (!wrapped.empty() && wrapped[0] == 'k') {
        if (keys_.empty())
            throw Error(ErrorCode::no_key, "this store's data key was wrapped by a key; open it with that key");
        if (wrapped.size() < 1 + kNonce + kTag) throw Error(ErrorCode::corrupt, "stored data key is truncated");
        bool opened = false;
        for (const auto &k : keys_)
            if (auto plain = aead_open(k.key, kWrapAd, wrapped.substr(1))) {
                dk = std::move(*plain);
                if (opened_by) *opened_by = k.id;
                opened = true;
                break;
            }
        if (!opened)
            throw Error(ErrorCode::no_key,
                        keys_.size() == 1 ? "the key does not match the key this store's data key is wrapped with"
                                          : "no key of the keyring opens this store's data key",
                        keys_.size() == 1 && keys_.front().id.empty() ? "options.key" : "options.keys");
    } else {
        throw Error(ErrorCode::corrupt, "stored data key has an unknown format");
    }
    if (dk.size() != 32) {
        sodium_memzero(dk.data(), dk.size());
        throw Error(ErrorCode::no_key, "unwrapped data key has the wrong size");
    }
    return dk;
}

Key Keyring::encryption_key(std::string_view data_key) {
    Key enc{};
    crypto_kdf_derive_from_key(enc.data(), enc.size(), 1, "spr-enc1",
                               reinterpret_cast<const unsigned char *>(data_key.data()));
    return enc;
}

namespace {
// The MAC key of a store whose data key never changed.
Key derived_mac_key(std::string_view data_key) {
    Key mac{};
    crypto_kdf_derive_from_key(mac.data(), mac.size(), 2, "spr-mac1",
                               reinterpret_cast<const unsigned char *>(data_key.data()));
    return mac;
}
} // namespace

std::string Keyring::create_data_key() {
    if (!configured()) throw Error(ErrorCode::no_key, "no encryption key configured");
    std::string dk = random_bytes(32);
    std::string wrapped = wrap(dk);
    enc_ = encryption_key(dk);
    mac_ = derived_mac_key(dk);
    prev_enc_.reset();
    sodium_memzero(dk.data(), dk.size());
    loaded_ = wrapped;
    loaded_mac_.reset();
    ready_ = true;
    ++generation_;
    return wrapped;
}

void Keyring::forget_since(std::uint64_t since) noexcept {
    if (generation_ == since) return;
    sodium_memzero(enc_.data(), enc_.size());
    sodium_memzero(mac_.data(), mac_.size());
    if (prev_enc_) sodium_memzero(prev_enc_->data(), prev_enc_->size());
    prev_enc_.reset();
    loaded_.clear();
    loaded_mac_.reset();
    ready_ = false;
    ++generation_;
}

bool Keyring::load(const StoredKeys &stored) {
    std::string dk = unwrap(stored.data_key);
    Key enc = encryption_key(dk);
    Key mac{};
    if (stored.mac_key) {
        std::string m = unwrap(*stored.mac_key);
        mac = key_of(m);
        sodium_memzero(m.data(), m.size());
    } else {
        mac = derived_mac_key(dk);
    }
    sodium_memzero(dk.data(), dk.size());
    std::optional<Key> prev;
    if (stored.previous) {
        std::string p = unwrap(*stored.previous);
        prev = encryption_key(p);
        sodium_memzero(p.data(), p.size());
    }
    const bool mac_changed = ready_ && sodium_memcmp(mac_.data(), mac.data(), mac.size()) != 0;
    enc_ = enc;
    mac_ = mac;
    prev_enc_ = prev;
    loaded_ = stored.data_key;
    loaded_mac_ = stored.mac_key;
    ready_ = true;
    ++generation_;
    return mac_changed;
}

std::string keyed_secret_id(const Key &mac, std::string_view plaintext) {
    unsigned char h[32];
    crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char *>(plaintext.data()), plaintext.size(),
                       mac.data(), mac.size());
    return to_hex(std::string_view(reinterpret_cast<const char *>(h), sizeof h));
}

std::string keyed_value_mac(const Key &mac, std::string_view name, std::string_view key, std::string_view value) {
    crypto_generichash_state st;
    crypto_generichash_init(&st, mac.data(), mac.size(), 16);
    auto feed = [&](std::string_view s) {
        std::uint64_t n = s.size();
        crypto_generichash_update(&st, reinterpret_cast<const unsigned char *>(&n), sizeof n);
        crypto_generichash_update(&st, reinterpret_cast<const unsigned char *>(s.data()), s.size());
    };
    feed(name);
    feed(key);
    feed(value);
    unsigned char h[16];
    crypto_generichash_final(&st, h, sizeof h);
    return "hmac:" + to_hex(std::string_view(reinterpret_cast<const char *>(h), sizeof h));
}

std::string Keyring::seal(std::string_view id, std::string_view plaintext) const {
    return aead_seal(enc_, id, plaintext);
}

std::optional<std::string> Keyring::try_open(std::string_view id, std::string_view sealed) const {
    if (auto plain = aead_open(enc_, id, sealed)) return plain;
    if (prev_enc_) return aead_open(*prev_enc_, id, sealed);
    return std::nullopt;
}

std::string Keyring::open(std::string_view id, std::string_view sealed) const {
    if (sealed.size() < kNonce + kTag) throw Error(ErrorCode::corrupt, "sealed secret is truncated");
    if (auto plain = try_open(id, sealed)) return std::move(*plain);
    throw Error(ErrorCode::corrupt, "a sealed secret failed authentication");
}

} // namespace detail
} // namespace spinner_rollback
