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

Keyring::Keyring(std::optional<Key> master, std::shared_ptr<Cipher> cipher)
    : master_(master), cipher_(std::move(cipher)) {
    ensure_sodium();
}

namespace {
constexpr const char kWrapAd[] = "spinner_rollback data key v1";
}

std::string Keyring::create_data_key() {
    if (!configured()) throw Error(ErrorCode::no_key, "no encryption key configured");
    std::string dk = random_bytes(32);
    std::string wrapped;
    if (cipher_) {
        try {
            wrapped = "c" + cipher_->encrypt(dk);
        } catch (...) {
            throw Error(ErrorCode::no_key, "the host cipher failed to wrap the data key");
        }
    } else {
        std::string nonce = random_bytes(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
        std::string ct(dk.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
        unsigned long long clen = 0;
        crypto_aead_xchacha20poly1305_ietf_encrypt(
            reinterpret_cast<unsigned char *>(ct.data()), &clen,
            reinterpret_cast<const unsigned char *>(dk.data()), dk.size(),
            reinterpret_cast<const unsigned char *>(kWrapAd), sizeof kWrapAd - 1, nullptr,
            reinterpret_cast<const unsigned char *>(nonce.data()), master_->data());
        ct.resize(clen);
        wrapped = "k" + nonce + ct;
    }
    derive(dk);
    sodium_memzero(dk.data(), dk.size());
    return wrapped;
}

void Keyring::load_data_key(std::string_view wrapped) {
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
    } else if (!wrapped.empty() && wrapped[0] == 'k') {
        if (!master_)
            throw Error(ErrorCode::no_key, "this store's data key was wrapped by a key; open it with that key");
        constexpr std::size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
        if (wrapped.size() < 1 + nb + crypto_aead_xchacha20poly1305_ietf_ABYTES)
            throw Error(ErrorCode::corrupt, "stored data key is truncated");
        std::string_view nonce = wrapped.substr(1, nb);
        std::string_view ct = wrapped.substr(1 + nb);
        dk.assign(ct.size(), '\0');
        unsigned long long dlen = 0;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(
                reinterpret_cast<unsigned char *>(dk.data()), &dlen, nullptr,
                reinterpret_cast<const unsigned char *>(ct.data()), ct.size(),
                reinterpret_cast<const unsigned char *>(kWrapAd), sizeof kWrapAd - 1,
                reinterpret_cast<const unsigned char *>(nonce.data()), master_->data()) != 0)
            throw Error(ErrorCode::no_key, "the key does not match the key this store was created with",
                        "options.key");
        dk.resize(dlen);
    } else {
        throw Error(ErrorCode::corrupt, "stored data key has an unknown format");
    }
    if (dk.size() != 32) throw Error(ErrorCode::no_key, "unwrapped data key has the wrong size");
    derive(dk);
    sodium_memzero(dk.data(), dk.size());
}

void Keyring::derive(std::string_view dk) {
    const auto *master = reinterpret_cast<const unsigned char *>(dk.data());
    crypto_kdf_derive_from_key(enc_.data(), enc_.size(), 1, "spr-enc1", master);
    crypto_kdf_derive_from_key(mac_.data(), mac_.size(), 2, "spr-mac1", master);
    ready_ = true;
}

std::string Keyring::secret_id(std::string_view plaintext) const {
    unsigned char h[32];
    crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char *>(plaintext.data()),
                       plaintext.size(), mac_.data(), mac_.size());
    return to_hex(std::string_view(reinterpret_cast<const char *>(h), sizeof h));
}

std::string Keyring::value_mac(std::string_view name, std::string_view key, std::string_view value) const {
    crypto_generichash_state st;
    crypto_generichash_init(&st, mac_.data(), mac_.size(), 16);
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
    constexpr std::size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    std::string out = random_bytes(nb);
    out.resize(nb + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        reinterpret_cast<unsigned char *>(out.data() + nb), &clen,
        reinterpret_cast<const unsigned char *>(plaintext.data()), plaintext.size(),
        reinterpret_cast<const unsigned char *>(id.data()), id.size(), nullptr,
        reinterpret_cast<const unsigned char *>(out.data()), enc_.data());
    out.resize(nb + clen);
    return out;
}

std::string Keyring::open(std::string_view id, std::string_view sealed) const {
    constexpr std::size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    if (sealed.size() < nb + crypto_aead_xchacha20poly1305_ietf_ABYTES)
        throw Error(ErrorCode::corrupt, "sealed secret is truncated");
    std::string out(sealed.size() - nb, '\0');
    unsigned long long dlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            reinterpret_cast<unsigned char *>(out.data()), &dlen, nullptr,
            reinterpret_cast<const unsigned char *>(sealed.data() + nb), sealed.size() - nb,
            reinterpret_cast<const unsigned char *>(id.data()), id.size(),
            reinterpret_cast<const unsigned char *>(sealed.data()), enc_.data()) != 0)
        throw Error(ErrorCode::corrupt, "a sealed secret failed authentication");
    out.resize(dlen);
    return out;
}

} // namespace detail
} // namespace spinner_rollback
