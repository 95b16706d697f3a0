// The grammars of names and paths in the state document (DNS names, env names,
// map and label keys, port names, capabilities, image references, absolute
// paths), the character classes they are built from, and quote() for messages.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace spinner_rollback::detail {

// ---- character classes ---------------------------------------------------------

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
inline bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
inline bool is_alnum(char c) { return is_lower(c) || is_upper(c) || is_digit(c); }
inline bool is_lower_alnum(char c) { return is_lower(c) || is_digit(c); }

inline bool is_control(char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

inline bool has_control(std::string_view s) { return std::any_of(s.begin(), s.end(), is_control); }

/// True when `s` holds a space or a control character.
inline bool has_space_or_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return c == ' ' || is_control(c); });
}

/// True when `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no
/// surrogates, nothing above U+10FFFF). Text from JSON is (the parser checks
/// it); text the C API takes as a bare string (an id, a tag name) is checked
/// with this before it is stored, compared or quoted.
bool is_utf8(std::string_view s);

/// Number of code points in valid UTF-8 (the JSON parser validated it).
std::size_t utf8_length(std::string_view s);

/// `s` quoted for a message: at most 64 bytes (cut on a UTF-8 boundary),
/// quotes, backslashes and control characters escaped, "..." when cut.
std::string quote(std::string_view s);

/// True when `pred` holds for every piece of `s` split on `sep`, empty pieces
/// included ("a..b" has three pieces, "" one); stops at the first that fails.
template <class Pred>
bool all_pieces(std::string_view s, char sep, Pred &&pred) {
    std::size_t start = 0;
    while (true) {
        std::size_t end = s.find(sep, start);
        if (!pred(s.substr(start, end == std::string_view::npos ? end : end - start))) return false;
        if (end == std::string_view::npos) return true;
        start = end + 1;
    }
}

// ---- names -----------------------------------------------------------------------

/// DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, 1..63.
bool is_dns_label(std::string_view s);
/// DNS-1123 subdomain (config map / secret names): labels joined by '.', <= 253.
bool is_dns_subdomain(std::string_view s);

/// "sha256:" followed by 64 lowercase hex digits.
bool is_sha256_digest(std::string_view s);
/// IANA service name: 1-15 of [a-z0-9-], a letter, no '-' at either end or twice.
bool is_port_name(std::string_view s);
/// ^[-._a-zA-Z][-._a-zA-Z0-9]*$, at most 256 bytes.
bool is_env_name(std::string_view s);
/// ^[-._a-zA-Z0-9]+$, at most 253 bytes, and not ".", ".." or "..*".
bool is_map_key(std::string_view s);
/// Kubernetes label name (and non-empty value): [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, <= 63.
bool is_label_name(std::string_view s);
/// Kubernetes label key: [DNS-1123 subdomain '/'] label name.
bool is_label_key(std::string_view s);
/// ^[A-Z][A-Z0-9_]*$ ("ALL" included), at most 64 bytes.
bool is_capability(std::string_view s);

/// Checks an image reference name[:tag][@sha256:hex] against the
/// github.com/distribution/reference grammar; returns the rule broken, or
/// nullptr. Sets *digest to the digest part (empty when there is none).
const char *check_image_reference(std::string_view ref, std::string_view *digest);

// ---- paths -----------------------------------------------------------------------

/// A container's working directory: absolute, no control characters, no ".."
/// segment, at most 4096 bytes. Returns the rule broken, or nullptr.
const char *check_working_dir(std::string_view s);
/// A mount path: as a working directory, and neither "/" nor with "." or empty
/// segments or a trailing '/'. Returns the rule broken, or nullptr.
const char *check_mount_path(std::string_view s);

} // namespace spinner_rollback::detail
