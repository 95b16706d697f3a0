// The state document's schema: validation and normalisation (docs/state.md).
//
// normalize_state() walks the document once, checking every rule and
// building the normalised copy as it goes. The first broken rule throws
// Error(invalid) through fail() with the JSON path of the offending value and
// a message that states the rule. Messages quote at most 64 bytes of any
// input value and never a secret value.

#include "state_internal.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spinner_rollback::detail {

namespace {

using NameSet = std::set<std::string, std::less<>>;

// ---- limits ------------------------------------------------------------------

constexpr std::int64_t kMaxQuantity = std::int64_t{1} << 62;
constexpr std::size_t kMaxQuantityText = 64;
constexpr std::size_t kMaxContainers = 64;
constexpr std::size_t kMaxArgs = 4096;
constexpr std::size_t kMaxArgBytes = 64u << 10;
constexpr std::size_t kMaxEnv = 1024;
constexpr std::size_t kMaxEnvName = 256;
constexpr std::size_t kMaxPorts = 256;
constexpr std::size_t kMaxMounts = 256;
constexpr std::size_t kMaxPath = 4096;
constexpr std::size_t kMaxHttpPath = 2048;
constexpr std::size_t kMaxCapabilities = 64;
constexpr std::size_t kMaxCapabilityName = 64;
constexpr std::size_t kMaxVolumes = 256;
constexpr std::size_t kMaxVolumeId = 253;
constexpr std::size_t kMaxMaps = 1024;
constexpr std::size_t kMaxMapKeys = 4096;
constexpr std::size_t kMaxMapKey = 253;
constexpr std::size_t kMaxMapBytes = 4u << 20;
constexpr std::size_t kMaxLabels = 256;
constexpr std::size_t kMaxLabelName = 63;
constexpr std::size_t kMaxCodeVersion = 256;
constexpr std::size_t kMaxDescription = 1024;
constexpr std::size_t kMaxImageName = 255;
constexpr std::size_t kMaxTag = 128;
constexpr std::int64_t kMaxId = 2147483647;
constexpr std::int64_t kMaxProbeValue = 86400;
constexpr std::string_view kMasked = "<redacted>";

// ---- characters and small grammars -------------------------------------------

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_alpha(char c) { return is_lower(c) || is_upper(c); }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
bool is_lower_alnum(char c) { return is_lower(c) || is_digit(c); }
bool is_hex_lower(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }

bool is_control(char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), is_control);
}

// Number of code points in valid UTF-8 (the parser validated it).
std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

// `s` quoted for a message: at most 64 bytes (cut on a UTF-8 boundary),
// quotes, backslashes and control characters escaped.
std::string quote(std::string_view s) {
    constexpr std::size_t kMax = 64;
    std::size_t n = std::min(s.size(), kMax);
    while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    std::string out = "\"";
    for (std::size_t i = 0; i < n; ++i) {
        char c = s[i];
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (is_control(c)) {
            static const char *hex = "0123456789abcdef";
            out += "\\u00";
            out += hex[(static_cast<unsigned char>(c) >> 4) & 0xF];
            out += hex[static_cast<unsigned char>(c) & 0xF];
        } else {
            out += c;
        }
    }
    out += '"';
    if (n < s.size()) out += "...";
    return out;
}

std::string sv(const json::string &s) { return std::string(s.data(), s.size()); }

bool is_hex64(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), is_hex_lower);
}

bool is_sha256_digest(std::string_view s) {
    constexpr std::string_view kPrefix = "sha256:";
    return s.substr(0, kPrefix.size()) == kPrefix && is_hex64(s.substr(kPrefix.size()));
}

// IANA service name: 1-15 of [a-z0-9-], a letter, no '-' at either end or twice.
bool is_port_name(std::string_view s) {
    if (s.empty() || s.size() > 15 || s.front() == '-' || s.back() == '-') return false;
    bool letter = false;
    char prev = 0;
    for (char c : s) {
        if (is_lower(c)) {
            letter = true;
        } else if (c == '-') {
            if (prev == '-') return false;
        } else if (!is_digit(c)) {
            return false;
        }
        prev = c;
    }
    return letter;
}

// ^[-._a-zA-Z][-._a-zA-Z0-9]*$, at most 256 bytes.
bool is_env_name(std::string_view s) {
    if (s.empty() || s.size() > kMaxEnvName) return false;
    auto ok = [](char c) { return is_alnum(c) || c == '-' || c == '.' || c == '_'; };
    return !is_digit(s.front()) && std::all_of(s.begin(), s.end(), ok);
}

// ^[-._a-zA-Z0-9]+$, at most 253 bytes, and not ".", ".." or "..*".
bool is_map_key(std::string_view s) {
    if (s.empty() || s.size() > kMaxMapKey || s == "." || s.substr(0, 2) == "..") return false;
    auto ok = [](char c) { return is_alnum(c) || c == '-' || c == '.' || c == '_'; };
    return std::all_of(s.begin(), s.end(), ok);
}

// Kubernetes label name (and non-empty value): [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, <= 63.
bool is_label_name(std::string_view s) {
    if (s.empty() || s.size() > kMaxLabelName) return false;
    if (!is_alnum(s.front()) || !is_alnum(s.back())) return false;
    auto ok = [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; };
    return std::all_of(s.begin(), s.end(), ok);
}

bool is_label_key(std::string_view s) {
    std::size_t slash = s.find('/');
    if (slash == std::string_view::npos) return is_label_name(s);
    return is_dns_subdomain(s.substr(0, slash)) && is_label_name(s.substr(slash + 1));
}

// ^[A-Z][A-Z0-9_]*$ ("ALL" included), at most 64 bytes.
bool is_capability(std::string_view s) {
    if (s.empty() || s.size() > kMaxCapabilityName || !is_upper(s.front())) return false;
    auto ok = [](char c) { return is_upper(c) || is_digit(c) || c == '_'; };
    return std::all_of(s.begin(), s.end(), ok);
}

// ---- image references (github.com/distribution/reference grammar) -----------

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*; separator := [_.] | __ | -+
bool is_path_component(std::string_view s) {
    std::size_t i = 0;
    auto alnum_run = [&] {
        std::size_t start = i;
        while (i < s.size() && is_lower_alnum(s[i])) ++i;
        return i > start;
    };
    if (!alnum_run()) return false;
    while (i < s.size()) {
        if (s[i] == '.') {
            ++i;
        } else if (s[i] == '_') {
            ++i;
            if (i < s.size() && s[i] == '_') ++i;
        } else if (s[i] == '-') {
            while (i < s.size() && s[i] == '-') ++i;
        } else {
            return false;
        }
        if (!alnum_run()) return false;
    }
    return true;
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool is_domain_component(std::string_view s) {
    if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

bool is_host(std::string_view s) {
    if (s.size() >= 2 && s.front() == '[' && s.back() == ']') {  // IPv6 literal
        std::string_view in = s.substr(1, s.size() - 2);
        return !in.empty() && std::all_of(in.begin(), in.end(), [](char c) {
            return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':';
        });
    }
    std::size_t start = 0;
    while (true) {
        std::size_t dot = s.find('.', start);
        if (!is_domain_component(s.substr(start, dot == std::string_view::npos ? dot : dot - start)))
            return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

// domain := host [':' port-number]
bool is_domain(std::string_view s) {
    std::size_t colon = s.rfind(':');
    if (colon != std::string_view::npos && s.find(']', colon) == std::string_view::npos) {
        std::string_view port = s.substr(colon + 1);
        if (port.empty() || !std::all_of(port.begin(), port.end(), is_digit)) return false;
        s = s.substr(0, colon);
    }
    return is_host(s);
}

bool all_path_components(std::string_view s) {
    std::size_t start = 0;
    while (true) {
        std::size_t slash = s.find('/', start);
        if (!is_path_component(s.substr(start, slash == std::string_view::npos ? slash : slash - start)))
            return false;
        if (slash == std::string_view::npos) return true;
        start = slash + 1;
    }
}

// name := [domain '/'] path-component ('/' path-component)*
bool is_image_name(std::string_view s) {
    if (all_path_components(s)) return true;
    std::size_t slash = s.find('/');
    return slash != std::string_view::npos && is_domain(s.substr(0, slash)) &&
           all_path_components(s.substr(slash + 1));
}

// tag := [\w][\w.-]{0,127}
bool is_tag(std::string_view s) {
    if (s.empty() || s.size() > kMaxTag || !is_word(s.front())) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return is_word(c) || c == '.' || c == '-'; });
}

// Checks name[:tag][@sha256:hex]; returns the rule broken, or nullptr. Sets
// *digest to the digest part (empty when there is none).
const char *check_image_reference(std::string_view ref, std::string_view *digest) {
    *digest = {};
    std::size_t at = ref.find('@');
    if (at != std::string_view::npos) {
        *digest = ref.substr(at + 1);
        if (!is_sha256_digest(*digest))
            return "image reference digest must be \"sha256:\" followed by 64 lowercase hex digits";
        ref = ref.substr(0, at);
    }
    std::size_t slash = ref.rfind('/');
    std::size_t colon = ref.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        if (!is_tag(ref.substr(colon + 1)))
            return "image tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
        ref = ref.substr(0, colon);
    }
    if (ref.empty()) return "image reference must name a repository";
    if (ref.size() > kMaxImageName) return "image name must be at most 255 characters";
    if (!is_image_name(ref))
        return "image reference must follow the Docker reference grammar "
               "([registry[:port]/]lowercase/path[:tag][@sha256:<64 hex>])";
    return nullptr;
}

// ---- quantities -----------------------------------------------------------------

enum class QError { none, syntax, precision, zero, fraction, range };

// A parsed decimal: value = digits * 10^exp10, `digits` without trailing zeros.
struct Decimal {
    std::uint64_t digits = 0;
    long exp10 = 0;
};

// Reads an optional exponent ("e3", "E-2", "e+21") at s[*i]. A lone 'E' (the
// exa suffix) or "Ei" is not an exponent and is left unread.
bool read_exponent(std::string_view s, std::size_t *i, long *exp) {
    std::size_t j = *i;
    if (j >= s.size() || (s[j] != 'e' && s[j] != 'E')) return true;
    ++j;
    bool signed_exp = j < s.size() && (s[j] == '+' || s[j] == '-');
    bool negative = signed_exp && s[j] == '-';
    if (signed_exp) ++j;
    if (j >= s.size() || !is_digit(s[j])) return !signed_exp;
    long e = 0;
    while (j < s.size() && is_digit(s[j])) {
        if (e < 100000) e = e * 10 + (s[j] - '0');
        ++j;
    }
    *exp = negative ? -e : e;
    *i = j;
    return true;
}

// Parses the number at the start of `s` ("12", "1.5", ".5", "1e3") and leaves
// the unit suffix in *rest.
QError parse_decimal(std::string_view s, Decimal *out, std::string_view *rest) {
    std::string significant;
    long fraction_digits = 0;
    bool any = false;
    std::size_t i = 0;
    auto take = [&](char c) {
        any = true;
        if (!significant.empty() || c != '0') significant += c;
    };
    for (; i < s.size() && is_digit(s[i]); ++i) take(s[i]);
    if (i < s.size() && s[i] == '.') {
        for (++i; i < s.size() && is_digit(s[i]); ++i) {
            take(s[i]);
            ++fraction_digits;
        }
    }
    if (!any) return QError::syntax;
    long exp = 0;
    if (!read_exponent(s, &i, &exp)) return QError::syntax;
    long trailing = 0;
    while (!significant.empty() && significant.back() == '0') {
        significant.pop_back();
        ++trailing;
    }
    if (significant.size() > 19) return QError::precision;
    std::uint64_t digits = 0;
    for (char c : significant) digits = digits * 10 + static_cast<std::uint64_t>(c - '0');
    out->digits = digits;
    out->exp10 = exp - fraction_digits + trailing;
    *rest = s.substr(i);
    return QError::none;
}

// *out = d * 10^shift10 * 2^shift2, which must be a whole number in 1..2^62.
QError scale(const Decimal &d, long shift10, int shift2, std::int64_t *out) {
    std::uint64_t v = d.digits;
    if (v == 0) return QError::zero;
    const auto cap = static_cast<std::uint64_t>(kMaxQuantity);
    long e = d.exp10 + shift10;
    if (e < 0) {
        // Divide by 10^k = 5^k * 2^k: the 5s must divide v, the 2s v * 2^shift2.
        long k = -e;
        for (long j = 0; j < k; ++j) {
            if (v % 5 != 0) return QError::fraction;
            v /= 5;
        }
        if (k <= shift2) {
            shift2 -= static_cast<int>(k);
        } else {
            long r = k - shift2;
            shift2 = 0;
            if (r >= 64 || (v & ((std::uint64_t{1} << r) - 1)) != 0) return QError::fraction;
            v >>= r;
        }
        e = 0;
    }
    if (v > cap || shift2 > 62 || v > (cap >> shift2)) return QError::range;
    v <<= shift2;
    for (long j = 0; j < e; ++j) {
        if (v > cap / 10) return QError::range;
        v *= 10;
    }
    *out = static_cast<std::int64_t>(v);
    return QError::none;
}

struct Unit {
    std::string_view suffix;
    long shift10;
    int shift2;
};

constexpr Unit kByteUnits[] = {
    {"", 0, 0},    {"k", 3, 0},    {"M", 6, 0},    {"G", 9, 0},    {"T", 12, 0},
    {"P", 15, 0},  {"E", 18, 0},   {"Ki", 0, 10},  {"Mi", 0, 20},  {"Gi", 0, 30},
    {"Ti", 0, 40}, {"Pi", 0, 50},  {"Ei", 0, 60},
};

constexpr Unit kCpuUnits[] = {{"", 3, 0}, {"m", 0, 0}};

template <std::size_t N>
QError parse_quantity(std::string_view q, const Unit (&units)[N], std::int64_t *out) {
    Decimal d;
    std::string_view rest;
    QError err = parse_decimal(q, &d, &rest);
    if (err != QError::none) return err;
    for (const Unit &u : units)
        if (rest == u.suffix) return scale(d, u.shift10, u.shift2, out);
    return QError::syntax;
}

// The text of a quantity given as a JSON string or number.
std::string quantity_text(const json::value &v, const std::string &path, std::string_view what) {
    if (v.is_string()) return sv(v.get_string());
    if (v.is_int64()) return std::to_string(v.get_int64());
    if (v.is_uint64()) return std::to_string(v.get_uint64());
    if (v.is_double()) {
        char buf[64];
        auto r = std::to_chars(buf, buf + sizeof buf, v.get_double());
        if (r.ec == std::errc()) return std::string(buf, r.ptr);
    }
    fail(path, std::string(what) + " must be a quantity (a string such as \"1Gi\" or a number)");
}

// ---- field accessors --------------------------------------------------------------

const json::value &required(const json::object &o, std::string_view key, const std::string &path) {
    if (const json::value *v = o.if_contains(key)) return *v;
    fail(path_key(path, key), std::string(key) + " is required");
}

std::int64_t int_in(const json::value &v, const std::string &path, std::string_view what,
                    std::int64_t lo, std::int64_t hi) {
    if (v.is_int64() && v.get_int64() >= lo && v.get_int64() <= hi) return v.get_int64();
    if (v.is_uint64() && lo <= 0 && v.get_uint64() <= static_cast<std::uint64_t>(hi))
        return static_cast<std::int64_t>(v.get_uint64());
    fail(path, std::string(what) + " must be an integer " + std::to_string(lo) + "-" +
                   std::to_string(hi));
}

const json::array &array_max(const json::value &v, const std::string &path, std::string_view what,
                             std::size_t max) {
    const json::array &a = as_array(v, path);
    if (a.size() > max)
        fail(path, std::string(what) + " must have at most " + std::to_string(max) + " entries");
    return a;
}

const json::object &object_max(const json::value &v, const std::string &path,
                               std::string_view what, std::size_t max) {
    const json::object &o = as_object(v, path);
    if (o.size() > max)
        fail(path, std::string(what) + " must have at most " + std::to_string(max) + " entries");
    return o;
}

std::string dns_label(const json::value &v, const std::string &path, std::string_view what) {
    std::string s = sv(as_string(v, path));
    if (!is_dns_label(s))
        fail(path, std::string(what) +
                       " must be a DNS-1123 label (1-63 lowercase letters, digits or '-', starting "
                       "and ending with a letter or digit), got " + quote(s));
    return s;
}

// An array of strings such as command or args.
json::array string_list(const json::value &v, const std::string &path, std::string_view what) {
    const json::array &a = array_max(v, path, what, kMaxArgs);
    json::array out;
    out.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        std::string p = path_index(path, i);
        const json::string &s = as_string(a[i], p);
        if (s.size() > kMaxArgBytes)
            fail(p, std::string(what) + " entries must be at most 65536 bytes");
        if (std::string_view(s).find('\0') != std::string_view::npos)
            fail(p, std::string(what) + " entries must not contain NUL characters");
        out.emplace_back(s);
    }
    return out;
}

// ---- the document's cross references --------------------------------------------

struct Context {
    const json::object *config_maps = nullptr;  // normalised
    const json::object *secrets = nullptr;      // normalised
    NameSet volume_names;
    NameSet container_names;
    NameSet used_config_maps;
    NameSet used_secrets;
    std::set<std::pair<std::int64_t, std::string>> ports;  // across the spinner
    NameSet port_names;                                    // across the spinner
};

// ---- settings -----------------------------------------------------------------------

json::object normalize_rollback(const json::value *v, const std::string &path) {
    bool enabled = true;
    std::int64_t history_limit = 20;
    if (v != nullptr) {
        const json::object &o = as_object(*v, path);
        only_keys(o, {"enabled", "historyLimit"}, path);
        if (const json::value *e = o.if_contains("enabled"))
            enabled = as_bool(*e, path_key(path, "enabled"));
        if (const json::value *h = o.if_contains("historyLimit"))
            history_limit = int_in(*h, path_key(path, "historyLimit"), "historyLimit", 1, 100000);
    }
    json::object out;
    out["enabled"] = enabled;
    out["historyLimit"] = history_limit;
    return out;
}

json::object normalize_settings(const json::value *v, const std::string &path) {
    const json::object *o = nullptr;
    if (v != nullptr) {
        o = &as_object(*v, path);
        only_keys(*o, {"rollback", "description"}, path);
    }
    json::object out;
    out["rollback"] =
        normalize_rollback(o ? o->if_contains("rollback") : nullptr, path_key(path, "rollback"));
    if (const json::value *d = o ? o->if_contains("description") : nullptr) {
        std::string p = path_key(path, "description");
        const json::string &s = as_string(*d, p);
        if (utf8_length(s) > kMaxDescription)
            fail(p, "description must be at most 1024 characters");
        out["description"] = s;
    }
    return out;
}

// ---- config maps and secrets ------------------------------------------------------

struct MapKind {
    bool secret;
    const char *noun;   // "config map" / "secret"
    const char *field;  // "configMaps" / "secrets"
};

constexpr MapKind kConfigMap{false, "config map", "configMaps"};
constexpr MapKind kSecret{true, "secret", "secrets"};

// One config map or secret: key -> string value. Secret values never reach
// a message.
json::object normalize_map(const json::value &v, const std::string &path, const MapKind &kind) {
    if (!v.is_object())
        fail(path, std::string(kind.noun) + " must be an object of key -> string value");
    const json::object &o = v.get_object();
    if (o.size() > kMaxMapKeys)
        fail(path, std::string(kind.noun) + " must have at most 4096 keys");
    std::size_t total = 0;
    json::object out;
    for (const auto &kv : o) {
        std::string_view key(kv.key().data(), kv.key().size());
        std::string p = path_key(path, key);
        if (!is_map_key(key))
            fail(p, std::string(kind.noun) +
                        " keys must match ^[-._a-zA-Z0-9]+$, be at most 253 characters and not be "
                        "'.' or start with '..'");
        if (!kv.value().is_string())
            fail(p, std::string(kind.noun) + " values must be strings");
        const json::string &value = kv.value().get_string();
        if (kind.secret && std::string_view(value) == kMasked)
            fail(p, "masked secret value: fetch the version with reveal_secrets to reuse its values");
        total += value.size();
        if (total > kMaxMapBytes)
            fail(path, std::string(kind.noun) + " values must total at most 4 MiB");
        out.emplace(key, value);
    }
    return out;
}

json::object normalize_maps(const json::value *v, const std::string &path, const MapKind &kind) {
    json::object out;
    if (v == nullptr) return out;
    const json::object &o = object_max(*v, path, kind.field, kMaxMaps);
    for (const auto &kv : o) {
        std::string_view name(kv.key().data(), kv.key().size());
        std::string p = path_key(path, name);
        if (!is_dns_subdomain(name))
            fail(p, std::string(kind.noun) +
                        " name must be a DNS-1123 subdomain (lowercase letters, digits, '-' and "
                        "'.', at most 253 characters), got " + quote(name));
        out.emplace(name, normalize_map(kv.value(), p, kind));
    }
    return out;
}

void check_all_referenced(const json::object &maps, const NameSet &used, const std::string &path,
                          const MapKind &kind) {
    for (const auto &kv : maps) {
        std::string_view name(kv.key().data(), kv.key().size());
        if (used.find(name) == used.end())
            fail(path_key(path, name),
                 std::string(kind.noun) + " " + quote(name) +
                     " is not referenced by any container (env ref or mount): the document must "
                     "hold exactly the values in use");
    }
}

// ---- volumes ---------------------------------------------------------------------------

json::object normalize_volume(const json::value &v, const std::string &path, Context *ctx) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"name", "mode", "size", "storageClass", "volumeId"}, path);
    json::object out;
    std::string name_path = path_key(path, "name");
    std::string name = dns_label(required(o, "name", path), name_path, "volume name");
    if (!ctx->volume_names.insert(name).second)
        fail(name_path, "duplicate volume name " + quote(name));
    out["name"] = name;

    std::string mode = "shared";
    if (const json::value *m = o.if_contains("mode")) {
        std::string p = path_key(path, "mode");
        mode = sv(as_string(*m, p));
        if (mode != "shared" && mode != "dedicated")
            fail(p, "mode must be \"shared\" or \"dedicated\"");
    }
    out["mode"] = mode;

    std::string size_path = path_key(path, "size");
    std::string size = quantity_text(required(o, "size", path), size_path, "size");
    out["size"] = format_bytes(parse_bytes(size, size_path));

    if (const json::value *s = o.if_contains("storageClass")) {
        std::string p = path_key(path, "storageClass");
        const json::string &sc = as_string(*s, p);
        if (!is_dns_subdomain(sc))
            fail(p, "storageClass must be a DNS-1123 subdomain, got " + quote(sc));
        out["storageClass"] = sc;
    }
    if (const json::value *id = o.if_contains("volumeId")) {
        std::string p = path_key(path, "volumeId");
        const json::string &s = as_string(*id, p);
        bool bad = s.empty() || s.size() > kMaxVolumeId ||
                   std::any_of(s.begin(), s.end(), [](char c) { return c == ' ' || is_control(c); });
        if (bad) fail(p, "volumeId must be 1-253 characters without whitespace or control characters");
        out["volumeId"] = s;
    }
    return out;
}

json::array normalize_volumes(const json::value *v, const std::string &path, Context *ctx) {
    json::array out;
    if (v == nullptr) return out;
    const json::array &a = array_max(*v, path, "volumes", kMaxVolumes);
    for (std::size_t i = 0; i < a.size(); ++i)
        out.emplace_back(normalize_volume(a[i], path_index(path, i), ctx));
    return out;
}

// ---- labels ------------------------------------------------------------------------------

json::object normalize_labels(const json::value *v, const std::string &path) {
    json::object out;
    if (v == nullptr) return out;
    const json::object &o = object_max(*v, path, "labels", kMaxLabels);
    for (const auto &kv : o) {
        std::string_view key(kv.key().data(), kv.key().size());
        std::string p = path_key(path, key);
        if (!is_label_key(key))
            fail(p, "label key must be [prefix/]name: prefix a DNS-1123 subdomain, name 1-63 "
                    "characters [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, got " + quote(key));
        const json::string &value = as_string(kv.value(), p);
        if (!value.empty() && !is_label_name(value))
            fail(p, "label value must be empty or 1-63 characters "
                    "[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, got " + quote(value));
        out.emplace(key, value);
    }
    return out;
}

// ---- containers: image, env, ports --------------------------------------------------

json::object normalize_image(const json::value &v, const std::string &path) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"reference", "digest"}, path);
    json::object out;
    std::string ref_path = path_key(path, "reference");
    const json::string &ref = as_string(required(o, "reference", path), ref_path);
    std::string_view ref_digest;
    if (const char *rule = check_image_reference(ref, &ref_digest))
        fail(ref_path, std::string(rule) + ", got " + quote(ref));
    out["reference"] = ref;
    if (const json::value *d = o.if_contains("digest")) {
        std::string p = path_key(path, "digest");
        const json::string &digest = as_string(*d, p);
        if (!is_sha256_digest(digest))
            fail(p, "image digest must be \"sha256:\" followed by 64 lowercase hex digits");
        if (!ref_digest.empty() && ref_digest != std::string_view(digest))
            fail(p, "image digest must equal the digest in the image reference");
        out["digest"] = digest;
    }
    return out;
}

json::object normalize_ref(const json::value &v, const std::string &path, const json::object &maps,
                           NameSet *used, const MapKind &kind) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"name", "key"}, path);
    std::string name_path = path_key(path, "name");
    std::string key_path = path_key(path, "key");
    std::string name = sv(as_string(required(o, "name", path), name_path));
    std::string key = sv(as_string(required(o, "key", path), key_path));
    const json::value *map = maps.if_contains(name);
    if (map == nullptr)
        fail(name_path, "reference does not resolve: no " + std::string(kind.noun) + " named " +
                            quote(name) + " in $." + kind.field);
    if (!map->get_object().contains(key))
        fail(key_path, "reference does not resolve: " + std::string(kind.noun) + " " +
                           quote(name) + " has no key " + quote(key));
    used->insert(name);
    json::object out;
    out["name"] = name;
    out["key"] = key;
    return out;
}

json::object normalize_env_var(const json::value &v, const std::string &path, NameSet *names,
                               Context *ctx) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"name", "value", "secretRef", "configMapRef"}, path);
    json::object out;
    std::string name_path = path_key(path, "name");
    std::string name = sv(as_string(required(o, "name", path), name_path));
    if (!is_env_name(name))
        fail(name_path, "env var name must match ^[-._a-zA-Z][-._a-zA-Z0-9]*$ and be at most 256 "
                        "characters, got " + quote(name));
    if (!names->insert(name).second) fail(name_path, "duplicate env var name " + quote(name));
    out["name"] = name;

    const json::value *value = o.if_contains("value");
    const json::value *secret = o.if_contains("secretRef");
    const json::value *config = o.if_contains("configMapRef");
    if ((value != nullptr) + (secret != nullptr) + (config != nullptr) != 1)
        fail(path, "env var must have exactly one of value, secretRef, configMapRef");
    if (value != nullptr) {
        out["value"] = as_string(*value, path_key(path, "value"));
    } else if (secret != nullptr) {
        out["secretRef"] = normalize_ref(*secret, path_key(path, "secretRef"), *ctx->secrets,
                                         &ctx->used_secrets, kSecret);
    } else {
        out["configMapRef"] = normalize_ref(*config, path_key(path, "configMapRef"),
                                            *ctx->config_maps, &ctx->used_config_maps, kConfigMap);
    }
    return out;
}

json::array normalize_env(const json::value &v, const std::string &path, Context *ctx) {
    const json::array &a = array_max(v, path, "env", kMaxEnv);
    NameSet names;
    json::array out;
    out.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i)
        out.emplace_back(normalize_env_var(a[i], path_index(path, i), &names, ctx));
    return out;
}

json::object normalize_port(const json::value &v, const std::string &path, NameSet *local_names,
                            Context *ctx) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"name", "containerPort", "protocol", "expose"}, path);
    json::object out;
    if (const json::value *n = o.if_contains("name")) {
        std::string p = path_key(path, "name");
        std::string name = sv(as_string(*n, p));
        if (!is_port_name(name))
            fail(p, "port name must be an IANA service name (1-15 lowercase letters, digits or "
                    "'-', at least one letter, no leading, trailing or double '-'), got " +
                        quote(name));
        if (!ctx->port_names.insert(name).second)
            fail(p, "duplicate port name " + quote(name) + ": port names must be unique in the spinner");
        local_names->insert(name);
        out["name"] = name;
    }
    std::string port_path = path_key(path, "containerPort");
    std::int64_t port = int_in(required(o, "containerPort", path), port_path, "port", 1, 65535);
    out["containerPort"] = port;

    std::string protocol = "TCP";
    if (const json::value *pr = o.if_contains("protocol")) {
        std::string p = path_key(path, "protocol");
        protocol = sv(as_string(*pr, p));
        if (protocol != "TCP" && protocol != "UDP" && protocol != "SCTP")
            fail(p, "protocol must be \"TCP\", \"UDP\" or \"SCTP\"");
    }
    out["protocol"] = protocol;
    if (!ctx->ports.emplace(port, protocol).second)
        fail(port_path, "duplicate port " + std::to_string(port) + "/" + protocol +
                            ": containerPort and protocol must be unique in the spinner");

    bool expose = false;
    if (const json::value *e = o.if_contains("expose")) expose = as_bool(*e, path_key(path, "expose"));
    out["expose"] = expose;
    return out;
}

json::array normalize_ports(const json::value &v, const std::string &path, NameSet *local_names,
                            Context *ctx) {
    const json::array &a = array_max(v, path, "ports", kMaxPorts);
    json::array out;
    out.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i)
        out.emplace_back(normalize_port(a[i], path_index(path, i), local_names, ctx));
    return out;
}

// ---- containers: resources, security context ------------------------------------------

json::object normalize_resources(const json::value &v, const std::string &path) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"cpu", "memory"}, path);
    json::object out;
    if (const json::value *c = o.if_contains("cpu")) {
        std::string p = path_key(path, "cpu");
        out["cpu"] = format_cpu_millis(parse_cpu_millis(quantity_text(*c, p, "cpu"), p));
    }
    if (const json::value *m = o.if_contains("memory")) {
        std::string p = path_key(path, "memory");
        out["memory"] = format_bytes(parse_bytes(quantity_text(*m, p, "memory"), p));
    }
    return out;
}

json::array capability_list(const json::value &v, const std::string &path) {
    const json::array &a = array_max(v, path, "capabilities", kMaxCapabilities);
    json::array out;
    for (std::size_t i = 0; i < a.size(); ++i) {
        std::string p = path_index(path, i);
        const json::string &s = as_string(a[i], p);
        if (!is_capability(s))
            fail(p, "capability must match ^[A-Z][A-Z0-9_]*$ (e.g. \"NET_BIND_SERVICE\" or "
                    "\"ALL\"), got " + quote(s));
        out.emplace_back(s);
    }
    return out;
}

json::object normalize_capabilities(const json::value &v, const std::string &path) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"add", "drop"}, path);
    json::object out;
    for (std::string_view key : {"add", "drop"})
        if (const json::value *list = o.if_contains(key))
            out[key] = capability_list(*list, path_key(path, key));
    return out;
}

json::object normalize_security_context(const json::value &v, const std::string &path) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"runAsUser", "runAsGroup", "fsGroup", "runAsNonRoot", "readOnlyRootFilesystem",
                  "allowPrivilegeEscalation", "privileged", "capabilities"},
              path);
    json::object out;
    for (std::string_view key : {"runAsUser", "runAsGroup", "fsGroup"})
        if (const json::value *id = o.if_contains(key))
            out[key] = int_in(*id, path_key(path, key), key, 0, kMaxId);
    for (std::string_view key :
         {"runAsNonRoot", "readOnlyRootFilesystem", "allowPrivilegeEscalation", "privileged"})
        if (const json::value *b = o.if_contains(key)) out[key] = as_bool(*b, path_key(path, key));
    if (const json::value *c = o.if_contains("capabilities"))
        out["capabilities"] = normalize_capabilities(*c, path_key(path, "capabilities"));

    auto flag = [&](std::string_view key, bool want) {
        const json::value *b = out.if_contains(key);
        return b != nullptr && b->get_bool() == want;
    };
    const json::value *user = out.if_contains("runAsUser");
    if (flag("runAsNonRoot", true) && user != nullptr && user->get_int64() == 0)
        fail(path_key(path, "runAsUser"), "runAsUser must not be 0 when runAsNonRoot is true");
    if (flag("privileged", true) && flag("allowPrivilegeEscalation", false))
        fail(path_key(path, "allowPrivilegeEscalation"),
             "allowPrivilegeEscalation must not be false when privileged is true");
    return out;
}

// ---- containers: paths and mounts -------------------------------------------------------

// Absolute, no control characters, no ".." segment, at most 4096 bytes.
void check_working_dir(std::string_view s, const std::string &path) {
    if (s.size() > kMaxPath) fail(path, "workingDir must be at most 4096 bytes");
    if (has_control(s)) fail(path, "workingDir must not contain control characters");
    bool dotdot = false;
    std::size_t start = 0;
    while (start <= s.size()) {
        std::size_t slash = s.find('/', start);
        if (slash == std::string_view::npos) slash = s.size();
        if (s.substr(start, slash - start) == "..") dotdot = true;
        start = slash + 1;
    }
    if (s.empty() || s.front() != '/' || dotdot)
        fail(path, "workingDir must be absolute and must not contain '..'");
}

void check_mount_path(std::string_view s, const std::string &path) {
    if (s.size() > kMaxPath) fail(path, "mount path must be at most 4096 bytes");
    if (has_control(s)) fail(path, "mount path must not contain control characters");
    if (s.empty() || s.front() != '/')
        fail(path, "mount path must be absolute and must not contain '..'");
    if (s == "/") fail(path, "mount path must not be \"/\"");
    std::size_t start = 1;
    while (start <= s.size()) {
        std::size_t slash = s.find('/', start);
        if (slash == std::string_view::npos) slash = s.size();
        std::string_view segment = s.substr(start, slash - start);
        if (segment == "..") fail(path, "mount path must be absolute and must not contain '..'");
        if (segment == ".") fail(path, "mount path must not contain '.' segments");
        if (segment.empty())
            fail(path, "mount path must not contain empty segments ('//') or end with '/'");
        start = slash + 1;
    }
}

// Orders paths segment by segment ('/' sorts before every other byte), so a
// path's descendants follow it directly.
bool segment_less(std::string_view a, std::string_view b) {
    auto key = [](char c) { return c == '/' ? 0 : static_cast<unsigned char>(c) + 1; };
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                        [&](char x, char y) { return key(x) < key(y); });
}

bool is_segment_prefix(std::string_view prefix, std::string_view s) {
    return s.substr(0, prefix.size()) == prefix &&
           (s.size() == prefix.size() || s[prefix.size()] == '/');
}

void check_mount_overlap(const json::array &mounts, const std::string &path) {
    std::vector<std::pair<std::string_view, std::size_t>> paths;
    paths.reserve(mounts.size());
    for (std::size_t i = 0; i < mounts.size(); ++i) {
        const json::string &p = mounts[i].get_object().at("path").get_string();
        paths.emplace_back(std::string_view(p), i);
    }
    std::sort(paths.begin(), paths.end(), [](const auto &a, const auto &b) {
        if (a.first == b.first) return a.second < b.second;
        return segment_less(a.first, b.first);
    });
    for (std::size_t i = 1; i < paths.size(); ++i) {
        const auto &[outer, outer_index] = paths[i - 1];
        const auto &[inner, inner_index] = paths[i];
        if (!is_segment_prefix(outer, inner)) continue;
        std::size_t later = std::max(outer_index, inner_index);
        std::string p = path_key(path_index(path, later), "path");
        if (outer == inner) fail(p, "duplicate mount path " + quote(inner));
        fail(p, "mount paths must not overlap: " + quote(inner) + " is inside " + quote(outer));
    }
}

json::object normalize_mount(const json::value &v, const std::string &path, Context *ctx) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"path", "configMap", "secret", "volume", "readOnly"}, path);
    json::object out;
    std::string path_path = path_key(path, "path");
    const json::string &mount_path = as_string(required(o, "path", path), path_path);
    check_mount_path(mount_path, path_path);
    out["path"] = mount_path;

    const json::value *config = o.if_contains("configMap");
    const json::value *secret = o.if_contains("secret");
    const json::value *volume = o.if_contains("volume");
    if ((config != nullptr) + (secret != nullptr) + (volume != nullptr) != 1)
        fail(path, "mount must have exactly one of configMap, secret, volume");
    if (config != nullptr) {
        std::string p = path_key(path, "configMap");
        std::string name = sv(as_string(*config, p));
        if (!ctx->config_maps->contains(name))
            fail(p, "reference does not resolve: no config map named " + quote(name) +
                        " in $.configMaps");
        ctx->used_config_maps.insert(name);
        out["configMap"] = name;
    } else if (secret != nullptr) {
        std::string p = path_key(path, "secret");
        std::string name = sv(as_string(*secret, p));
        if (!ctx->secrets->contains(name))
            fail(p, "reference does not resolve: no secret named " + quote(name) + " in $.secrets");
        ctx->used_secrets.insert(name);
        out["secret"] = name;
    } else {
        std::string p = path_key(path, "volume");
        std::string name = sv(as_string(*volume, p));
        if (ctx->volume_names.find(name) == ctx->volume_names.end())
            fail(p, "reference does not resolve: no volume named " + quote(name) + " in $.volumes");
        out["volume"] = name;
    }
    if (const json::value *r = o.if_contains("readOnly"))
        out["readOnly"] = as_bool(*r, path_key(path, "readOnly"));
    return out;
}

json::array normalize_mounts(const json::value &v, const std::string &path, Context *ctx) {
    const json::array &a = array_max(v, path, "mounts", kMaxMounts);
    json::array out;
    out.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i)
        out.emplace_back(normalize_mount(a[i], path_index(path, i), ctx));
    check_mount_overlap(out, path);
    return out;
}

// ---- containers: probes ---------------------------------------------------------------------

json::value probe_port(const json::value &v, const std::string &path, const NameSet &port_names) {
    if (v.is_string()) {
        std::string name = sv(v.get_string());
        if (!is_port_name(name)) fail(path, "port must be an integer 1-65535 or a port name");
        if (port_names.find(name) == port_names.end())
            fail(path, "reference does not resolve: no port named " + quote(name) +
                           " in this container");
        return json::value(name);
    }
    if (v.is_int64() && v.get_int64() >= 1 && v.get_int64() <= 65535) return v.get_int64();
    fail(path, "port must be an integer 1-65535 or a port name");
}

json::object normalize_http_get(const json::value &v, const std::string &path,
                                const NameSet &port_names) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"path", "port"}, path);
    json::object out;
    if (const json::value *p = o.if_contains("path")) {
        std::string pp = path_key(path, "path");
        const json::string &s = as_string(*p, pp);
        bool bad = s.empty() || s.front() != '/' || s.size() > kMaxHttpPath ||
                   std::any_of(s.begin(), s.end(), [](char c) { return c == ' ' || is_control(c); });
        if (bad)
            fail(pp, "httpGet path must start with '/' and be at most 2048 characters without "
                     "spaces or control characters");
        out["path"] = s;
    }
    out["port"] = probe_port(required(o, "port", path), path_key(path, "port"), port_names);
    return out;
}

json::object normalize_tcp_socket(const json::value &v, const std::string &path,
                                  const NameSet &port_names) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"port"}, path);
    json::object out;
    out["port"] = probe_port(required(o, "port", path), path_key(path, "port"), port_names);
    return out;
}

json::object normalize_exec(const json::value &v, const std::string &path) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"command"}, path);
    std::string p = path_key(path, "command");
    json::array command = string_list(required(o, "command", path), p, "exec command");
    if (command.empty()) fail(p, "exec command must not be empty");
    json::object out;
    out["command"] = std::move(command);
    return out;
}

json::object normalize_probe(const json::value &v, const std::string &path,
                             const NameSet &port_names) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"httpGet", "tcpSocket", "exec", "initialDelaySeconds", "periodSeconds",
                  "timeoutSeconds", "successThreshold", "failureThreshold"},
              path);
    const json::value *http = o.if_contains("httpGet");
    const json::value *tcp = o.if_contains("tcpSocket");
    const json::value *exec = o.if_contains("exec");
    if ((http != nullptr) + (tcp != nullptr) + (exec != nullptr) > 1)
        fail(path, "probe must have at most one of httpGet, tcpSocket, exec");
    json::object out;
    if (http != nullptr)
        out["httpGet"] = normalize_http_get(*http, path_key(path, "httpGet"), port_names);
    if (tcp != nullptr)
        out["tcpSocket"] = normalize_tcp_socket(*tcp, path_key(path, "tcpSocket"), port_names);
    if (exec != nullptr) out["exec"] = normalize_exec(*exec, path_key(path, "exec"));
    for (std::string_view key : {"initialDelaySeconds", "periodSeconds", "timeoutSeconds",
                                 "successThreshold", "failureThreshold"})
        if (const json::value *n = o.if_contains(key))
            out[key] = int_in(*n, path_key(path, key), key, 0, kMaxProbeValue);
    return out;
}

json::object normalize_probes(const json::value &v, const std::string &path,
                              const NameSet &port_names) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"liveness", "readiness", "startup"}, path);
    json::object out;
    for (std::string_view key : {"liveness", "readiness", "startup"})
        if (const json::value *p = o.if_contains(key))
            out[key] = normalize_probe(*p, path_key(path, key), port_names);
    return out;
}

// ---- containers -----------------------------------------------------------------------------

const json::value kEmptyArray = json::array();
const json::value kEmptyObject = json::object();

const json::value &or_default(const json::object &o, std::string_view key, const json::value &def) {
    const json::value *v = o.if_contains(key);
    return v != nullptr ? *v : def;
}

void add_code_version(const json::object &o, const std::string &path, json::object *out) {
    const json::value *v = o.if_contains("codeVersion");
    if (v == nullptr) return;
    std::string p = path_key(path, "codeVersion");
    const json::string &s = as_string(*v, p);
    bool printable = std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
    if (s.empty() || s.size() > kMaxCodeVersion || !printable)
        fail(p, "codeVersion must be 1-256 printable ASCII characters");
    (*out)["codeVersion"] = s;
}

void add_working_dir(const json::object &o, const std::string &path, json::object *out) {
    const json::value *v = o.if_contains("workingDir");
    if (v == nullptr) return;
    std::string p = path_key(path, "workingDir");
    const json::string &s = as_string(*v, p);
    check_working_dir(s, p);
    (*out)["workingDir"] = s;
}

json::object normalize_container(const json::value &v, const std::string &path, Context *ctx) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"name", "image", "codeVersion", "command", "args", "workingDir", "env", "ports",
                  "resources", "securityContext", "mounts", "probes"},
              path);
    json::object out;
    std::string name_path = path_key(path, "name");
    std::string name = dns_label(required(o, "name", path), name_path, "container name");
    if (!ctx->container_names.insert(name).second)
        fail(name_path, "duplicate container name " + quote(name));
    out["name"] = name;
    out["image"] = normalize_image(required(o, "image", path), path_key(path, "image"));
    add_code_version(o, path, &out);
    out["command"] = string_list(or_default(o, "command", kEmptyArray), path_key(path, "command"),
                                 "command");
    out["args"] = string_list(or_default(o, "args", kEmptyArray), path_key(path, "args"), "args");
    add_working_dir(o, path, &out);
    out["env"] = normalize_env(or_default(o, "env", kEmptyArray), path_key(path, "env"), ctx);
    NameSet port_names;
    out["ports"] = normalize_ports(or_default(o, "ports", kEmptyArray), path_key(path, "ports"),
                                   &port_names, ctx);
    out["resources"] =
        normalize_resources(or_default(o, "resources", kEmptyObject), path_key(path, "resources"));
    out["securityContext"] = normalize_security_context(
        or_default(o, "securityContext", kEmptyObject), path_key(path, "securityContext"));
    out["mounts"] =
        normalize_mounts(or_default(o, "mounts", kEmptyArray), path_key(path, "mounts"), ctx);
    out["probes"] = normalize_probes(or_default(o, "probes", kEmptyObject),
                                     path_key(path, "probes"), port_names);
    return out;
}

// Checked before any other work on the containers, so a huge array is
// refused at once.
const json::array &containers_array(const json::value &v, const std::string &path) {
    const json::array &a = as_array(v, path);
    if (a.empty() || a.size() > kMaxContainers) fail(path, "containers must have 1-64 entries");
    return a;
}

json::array normalize_containers(const json::array &a, const std::string &path, Context *ctx) {
    json::array out;
    out.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i)
        out.emplace_back(normalize_container(a[i], path_index(path, i), ctx));
    return out;
}

// ---- the document ---------------------------------------------------------------------------

void check_schema_version(const json::object &o, const std::string &root) {
    std::string p = path_key(root, "schemaVersion");
    const json::value *v = o.if_contains("schemaVersion");
    if (v == nullptr) fail(p, "schemaVersion is required");
    bool one = (v->is_int64() && v->get_int64() == 1) || (v->is_uint64() && v->get_uint64() == 1);
    if (!one) fail(p, "unsupported schemaVersion: only 1 is supported");
}

json::object normalize_extensions(const json::value *v, const std::string &path) {
    if (v == nullptr) return json::object();
    return as_object(*v, path);
}

}  // namespace

// ---- public (internal) interface ------------------------------------------------------------

bool is_dns_label(std::string_view s) {
    if (s.empty() || s.size() > 63) return false;
    if (!is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return is_lower_alnum(c) || c == '-'; });
}

bool is_dns_subdomain(std::string_view s) {
    if (s.empty() || s.size() > 253) return false;
    std::size_t start = 0;
    while (true) {
        std::size_t dot = s.find('.', start);
        if (!is_dns_label(s.substr(start, dot == std::string_view::npos ? dot : dot - start)))
            return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

std::int64_t parse_cpu_millis(std::string_view q, const std::string &path) {
    if (q.size() > kMaxQuantityText) fail(path, "cpu quantity must be at most 64 characters");
    std::int64_t millis = 0;
    switch (parse_quantity(q, kCpuUnits, &millis)) {
    case QError::none: return millis;
    case QError::zero: fail(path, "cpu must be greater than 0");
    case QError::fraction:
        fail(path, "cpu must be a whole number of millicores (sub-millicore precision is refused), "
                   "got " + quote(q));
    case QError::range: fail(path, "cpu must be at most 2^62 millicores");
    case QError::precision: fail(path, "cpu quantity has too many significant digits");
    case QError::syntax: break;
    }
    fail(path, "cpu must be a positive quantity of cores or millicores such as \"500m\", \"0.5\" "
               "or \"2\", got " + quote(q));
}

std::int64_t parse_bytes(std::string_view q, const std::string &path) {
    if (q.size() > kMaxQuantityText) fail(path, "byte quantity must be at most 64 characters");
    std::int64_t bytes = 0;
    switch (parse_quantity(q, kByteUnits, &bytes)) {
    case QError::none: return bytes;
    case QError::zero: fail(path, "byte quantity must be greater than 0");
    case QError::fraction:
        fail(path, "byte quantity must be a whole number of bytes, got " + quote(q));
    case QError::range: fail(path, "byte quantity must be at most 2^62 bytes (4Ei)");
    case QError::precision: fail(path, "byte quantity has too many significant digits");
    case QError::syntax: break;
    }
    fail(path, "byte quantity must be a positive number with an optional suffix Ki, Mi, Gi, Ti, "
               "Pi, Ei, k, M, G, T, P or E (e.g. \"1Gi\", \"512Mi\", \"1000000\"), got " + quote(q));
}

std::string format_cpu_millis(std::int64_t millis) {
    if (millis % 1000 == 0) return std::to_string(millis / 1000);
    return std::to_string(millis) + "m";
}

std::string format_bytes(std::int64_t bytes) {
    if (bytes <= 0) return std::to_string(bytes);
    static constexpr std::pair<std::string_view, std::int64_t> kUnits[] = {
        {"Ei", std::int64_t{1} << 60},
        {"Pi", std::int64_t{1} << 50},
        {"Ti", std::int64_t{1} << 40},
        {"Gi", std::int64_t{1} << 30},
        {"Mi", std::int64_t{1} << 20},
        {"Ki", std::int64_t{1} << 10},
        {"E", 1000000000000000000},
        {"P", 1000000000000000},
        {"T", 1000000000000},
        {"G", 1000000000},
        {"M", 1000000},
        {"k", 1000},
    };
    // The shortest exact spelling; on a tie the binary unit (listed first) wins,
    // so 1Gi and 1024Mi are both "1Gi", and 2000000000 is "2G", not "1953125Ki".
    std::string best = std::to_string(bytes);
    for (const auto &[suffix, unit] : kUnits)
        if (bytes % unit == 0) {
            std::string candidate = std::to_string(bytes / unit) + std::string(suffix);
            if (candidate.size() < best.size()) best = std::move(candidate);
        }
    return best;
}

json::object normalize_state(const json::value &doc) {
    const std::string root = "$";
    const json::object &o = as_object(doc, root);
    check_schema_version(o, root);
    only_keys(o, {"schemaVersion", "settings", "instances", "containers", "volumes", "configMaps",
                  "secrets", "labels", "extensions"},
              root);
    Context ctx;
    json::object settings = normalize_settings(o.if_contains("settings"), path_key(root, "settings"));
    std::int64_t instances =
        int_in(required(o, "instances", root), path_key(root, "instances"), "instances", 0, 10000);
    std::string containers_path = path_key(root, "containers");
    const json::array &containers_in =
        containers_array(required(o, "containers", root), containers_path);
    json::array volumes = normalize_volumes(o.if_contains("volumes"), path_key(root, "volumes"), &ctx);
    std::string config_path = path_key(root, "configMaps");
    std::string secrets_path = path_key(root, "secrets");
    json::object config_maps = normalize_maps(o.if_contains("configMaps"), config_path, kConfigMap);
    json::object secrets = normalize_maps(o.if_contains("secrets"), secrets_path, kSecret);
    json::object labels = normalize_labels(o.if_contains("labels"), path_key(root, "labels"));
    json::object extensions =
        normalize_extensions(o.if_contains("extensions"), path_key(root, "extensions"));

    ctx.config_maps = &config_maps;
    ctx.secrets = &secrets;
    json::array containers = normalize_containers(containers_in, containers_path, &ctx);
    check_all_referenced(config_maps, ctx.used_config_maps, config_path, kConfigMap);
    check_all_referenced(secrets, ctx.used_secrets, secrets_path, kSecret);

    json::object out;
    out["schemaVersion"] = 1;
    out["settings"] = std::move(settings);
    out["instances"] = instances;
    out["containers"] = std::move(containers);
    out["volumes"] = std::move(volumes);
    out["configMaps"] = std::move(config_maps);
    out["secrets"] = std::move(secrets);
    out["labels"] = std::move(labels);
    out["extensions"] = std::move(extensions);
    return out;
}

json::object parse_state(std::string_view text, std::string_view what) {
    return normalize_state(parse_strict(text, what));
}

}  // namespace spinner_rollback::detail
