// The grammars of names and paths in the state document: pure predicates over
// text, no JSON. The schema walk (state_*.cpp) turns a broken rule into an error.

#include "names.hpp"

namespace spinner_rollback::detail {

namespace {

constexpr std::size_t kMaxEnvName = 256;
constexpr std::size_t kMaxMapKey = 253;
constexpr std::size_t kMaxLabelName = 63;
constexpr std::size_t kMaxCapabilityName = 64;
constexpr std::size_t kMaxImageName = 255;
constexpr std::size_t kMaxTag = 128;
constexpr std::size_t kMaxPath = 4096;

bool is_hex_lower(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }
// The characters of env names, map keys and label names: [-._a-zA-Z0-9].
bool is_name_char(char c) { return is_alnum(c) || c == '-' || c == '.' || c == '_'; }

bool all_name_chars(std::string_view s) { return std::all_of(s.begin(), s.end(), is_name_char); }

bool is_hex64(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), is_hex_lower);
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
    return all_pieces(s, '.', is_domain_component);
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

bool all_path_components(std::string_view s) { return all_pieces(s, '/', is_path_component); }

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

}  // namespace

// ---- text ----------------------------------------------------------------------

bool is_utf8(std::string_view s) {
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    const auto *end = p + s.size();
    while (p < end) {
        const unsigned char c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        int more;
        unsigned char lo = 0x80, hi = 0xBF; // the allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) more = 1;
        else if (c == 0xE0) more = 2, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEC) more = 2;
        else if (c == 0xED) more = 2, hi = 0x9F; // no surrogates
        else if (c >= 0xEE && c <= 0xEF) more = 2;
        else if (c == 0xF0) more = 3, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3) more = 3;
        else if (c == 0xF4) more = 3, hi = 0x8F; // up to U+10FFFF
        else return false;
        if (end - p <= more) return false;
        if (p[1] < lo || p[1] > hi) return false;
        for (int i = 2; i <= more; ++i)
            if ((p[i] & 0xC0) != 0x80) return false;
        p += more + 1;
    }
    return true;
}

std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

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

// ---- names -----------------------------------------------------------------------

bool is_dns_label(std::string_view s) {
    if (s.empty() || s.size() > 63) return false;
    if (!is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return is_lower_alnum(c) || c == '-'; });
}

bool is_dns_subdomain(std::string_view s) {
    return !s.empty() && s.size() <= 253 && all_pieces(s, '.', is_dns_label);
}

bool is_sha256_digest(std::string_view s) {
    constexpr std::string_view kPrefix = "sha256:";
    return s.substr(0, kPrefix.size()) == kPrefix && is_hex64(s.substr(kPrefix.size()));
}

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

bool is_env_name(std::string_view s) {
    if (s.empty() || s.size() > kMaxEnvName) return false;
    return !is_digit(s.front()) && all_name_chars(s);
}

bool is_map_key(std::string_view s) {
    if (s.empty() || s.size() > kMaxMapKey || s == "." || s.substr(0, 2) == "..") return false;
    return all_name_chars(s);
}

bool is_label_name(std::string_view s) {
    if (s.empty() || s.size() > kMaxLabelName) return false;
    if (!is_alnum(s.front()) || !is_alnum(s.back())) return false;
    return all_name_chars(s);
}

bool is_label_key(std::string_view s) {
    std::size_t slash = s.find('/');
    if (slash == std::string_view::npos) return is_label_name(s);
    return is_dns_subdomain(s.substr(0, slash)) && is_label_name(s.substr(slash + 1));
}

bool is_capability(std::string_view s) {
    if (s.empty() || s.size() > kMaxCapabilityName || !is_upper(s.front())) return false;
    auto ok = [](char c) { return is_upper(c) || is_digit(c) || c == '_'; };
    return std::all_of(s.begin(), s.end(), ok);
}

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

// ---- paths -----------------------------------------------------------------------

const char *check_working_dir(std::string_view s) {
    if (s.size() > kMaxPath) return "workingDir must be at most 4096 bytes";
    if (has_control(s)) return "workingDir must not contain control characters";
    bool dotdot = !all_pieces(s, '/', [](std::string_view segment) { return segment != ".."; });
    if (s.empty() || s.front() != '/' || dotdot)
        return "workingDir must be absolute and must not contain '..'";
    return nullptr;
}

const char *check_mount_path(std::string_view s) {
    constexpr const char *kAbsolute = "mount path must be absolute and must not contain '..'";
    if (s.size() > kMaxPath) return "mount path must be at most 4096 bytes";
    if (has_control(s)) return "mount path must not contain control characters";
    if (s.empty() || s.front() != '/') return kAbsolute;
    if (s == "/") return "mount path must not be \"/\"";
    const char *rule = nullptr;
    all_pieces(s.substr(1), '/', [&](std::string_view segment) {
        if (segment == "..")
            rule = kAbsolute;
        else if (segment == ".")
            rule = "mount path must not contain '.' segments";
        else if (segment.empty())
            rule = "mount path must not contain empty segments ('//') or end with '/'";
        return rule == nullptr;
    });
    return rule;
}

} // namespace spinner_rollback::detail
