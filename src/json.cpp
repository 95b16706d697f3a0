#include "json.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

namespace spinner_rollback::detail {

namespace {

// A Boost.JSON basic_parser handler that builds a json::value itself so it can
// refuse duplicate keys and oversized strings while parsing.
struct Builder {
    constexpr static std::size_t max_object_size = std::size_t(-1);
    constexpr static std::size_t max_array_size = std::size_t(-1);
    constexpr static std::size_t max_key_size = std::size_t(-1);
    constexpr static std::size_t max_string_size = std::size_t(-1);

    struct Frame {
        json::value container;
        std::string key; // pending key when container is an object
    };
    std::vector<Frame> stack;
    json::value root;
    std::string buf;      // key being assembled
    json::string text;    // string being assembled
    std::string number;   // number being assembled
    std::size_t max_string = 0;
    std::string problem;  // set when we abort on purpose

    bool add(json::value v) {
        if (stack.empty()) {
            root = std::move(v);
            return true;
        }
        Frame &f = stack.back();
        if (f.container.is_object()) {
            json::object &o = f.container.get_object();
            if (o.contains(f.key)) {
                problem = "duplicate object key \"" + f.key.substr(0, 64) + "\"";
                return false;
            }
            o.emplace(f.key, std::move(v));
        } else {
            f.container.get_array().emplace_back(std::move(v));
        }
        return true;
    }
    bool grow(std::size_t n) { return buf.size() + n <= max_string || too_long(); }
    bool too_long() {
        problem = "string longer than " + std::to_string(max_string) + " bytes";
        return false;
    }
    bool number_too_long() {
        problem = "number longer than " + std::to_string(max_string) + " bytes";
        return false;
    }

    bool on_document_begin(boost::system::error_code &) { return true; }
    bool on_document_end(boost::system::error_code &) { return true; }
    bool on_object_begin(boost::system::error_code &) {
        stack.push_back({json::object(), {}});
        return true;
    }
    bool on_object_end(std::size_t, boost::system::error_code &) {
        json::value v = std::move(stack.back().container);
        stack.pop_back();
        return add(std::move(v));
    }
    bool on_array_begin(boost::system::error_code &) {
        stack.push_back({json::array(), {}});
        return true;
    }
    bool on_array_end(std::size_t, boost::system::error_code &) {
        json::value v = std::move(stack.back().container);
        stack.pop_back();
        return add(std::move(v));
    }
    bool on_key_part(std::string_view s, std::size_t, boost::system::error_code &) {
        if (!grow(s.size())) return false;
        buf.append(s);
        return true;
    }
    bool on_key(std::string_view s, std::size_t, boost::system::error_code &) {
        if (!grow(s.size())) return false;
        buf.append(s);
        stack.back().key = std::move(buf);
        buf.clear();
        return true;
    }
    // A string's parts go straight into the json::string that becomes the
    // value (a 1 MiB config value is not copied once more at its end).
    bool on_string_part(std::string_view s, std::size_t, boost::system::error_code &) {
        if (text.size() + s.size() > max_string) return too_long();
        text.append(s);
        return true;
    }
    bool on_string(std::string_view s, std::size_t, boost::system::error_code &) {
        if (text.size() + s.size() > max_string) return too_long();
        if (text.empty()) return add(json::string(s));
        text.append(s);
        return add(std::exchange(text, json::string()));
    }
    // A number's text arrives in parts; integers come exact from Boost.JSON.
    bool on_number_part(std::string_view s, boost::system::error_code &) {
        if (number.size() + s.size() > max_string) return number_too_long();
        number.append(s);
        return true;
    }
    bool on_int64(std::int64_t i, std::string_view, boost::system::error_code &) {
        number.clear();
        return add(i);
    }
    bool on_uint64(std::uint64_t u, std::string_view, boost::system::error_code &) {
        number.clear();
        return add(u);
    }
    // Boost.JSON 1.81 does not round every decimal correctly (a 17-digit
    // mantissa may land one unit in the last place off), so the text that
    // canonical() writes for such a double (std::to_chars, shortest) could
    // read back as another double: canonical forms would not be fixed
    // points. std::from_chars rounds correctly, and reads to_chars' output
    // back exactly; Boost's value stays only for what from_chars refuses as
    // out of range (an underflow toward 0).
    bool on_double(double d, std::string_view s, boost::system::error_code &) {
        if (number.size() + s.size() > max_string) return number_too_long();
        number.append(s);
        double exact = 0;
        const auto r = std::from_chars(number.data(), number.data() + number.size(), exact);
        number.clear();
        if (r.ec == std::errc()) d = exact;
        if (!std::isfinite(d)) {
            problem = "number out of range";
            return false;
        }
        return add(d);
    }
    bool on_bool(bool b, boost::system::error_code &) { return add(b); }
    bool on_null(boost::system::error_code &) { return add(nullptr); }
    bool on_comment_part(std::string_view, boost::system::error_code &) { return false; }
    bool on_comment(std::string_view, boost::system::error_code &) { return false; }
};

// A JSON string literal, escaped exactly as Boost.JSON's serializer does
// (stored digests depend on it; tests/unit compare the two), appended in
// runs: a 1 MiB config value is copied, not re-serialised byte by byte.
void string_into(std::string_view s, std::string &out) {
    static constexpr char hex[] = "0123456789abcdef";
    // Eight bytes at a time: whether any is < 0x20, '"' or '\\'.
    constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    auto needs_escape = [](std::uint64_t w) {
        auto zero_byte = [](std::uint64_t x) { return (x - ones) & ~x & highs; };
        return ((w - ones * 0x20) & ~w & highs) | zero_byte(w ^ (ones * '"')) | zero_byte(w ^ (ones * '\\'));
    };
    out.reserve(out.size() + s.size() + 2);
    out.push_back('"');
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        while (i + 8 <= s.size()) {
            std::uint64_t w;
            std::memcpy(&w, s.data() + i, 8);
            if (needs_escape(w)) break;
            i += 8;
        }
        if (i == s.size()) break;
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
        out.push_back('\\');
        switch (c) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '\b': out.push_back('b'); break;
        case '\t': out.push_back('t'); break;
        case '\n': out.push_back('n'); break;
        case '\f': out.push_back('f'); break;
        case '\r': out.push_back('r'); break;
        default:
            out += "u00";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

void canonical_into(const json::value &v, std::string &out, bool sorted) {
    switch (v.kind()) {
    case json::kind::object: {
        const auto &o = v.get_object();
        std::vector<const json::key_value_pair *> items;
        items.reserve(o.size());
        for (const auto &kv : o) items.push_back(&kv);
        if (sorted)
            std::sort(items.begin(), items.end(),
                      [](auto *a, auto *b) { return a->key() < b->key(); });
        out.push_back('{');
        bool first = true;
        for (auto *kv : items) {
            if (!first) out.push_back(',');
            first = false;
            string_into(kv->key(), out);
            out.push_back(':');
            canonical_into(kv->value(), out, sorted);
        }
        out.push_back('}');
        break;
    }
    case json::kind::array: {
        out.push_back('[');
        bool first = true;
        for (const auto &e : v.get_array()) {
            if (!first) out.push_back(',');
            first = false;
            canonical_into(e, out, sorted);
        }
        out.push_back(']');
        break;
    }
    case json::kind::double_: {
        double d = v.get_double();
        double ip;
        if (std::modf(d, &ip) == 0.0 && std::fabs(d) < 9.0e15) {
            out += std::to_string(static_cast<std::int64_t>(d));
        } else {
            char b[64];
            auto r = std::to_chars(b, b + sizeof b, d);
            out.append(b, r.ptr);
        }
        break;
    }
    case json::kind::string:
        string_into(v.get_string(), out);
        break;
    case json::kind::uint64:
        if (v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
            out += std::to_string(v.get_uint64());
            break;
        }
        [[fallthrough]];
    default:
        out += json::serialize(v);
    }
}

} // namespace

json::value parse_strict(std::string_view text, std::string_view what, const JsonLimits &limits) {
    std::string where(what);
    if (text.size() > limits.max_bytes)
        fail(where, "document is " + std::to_string(text.size()) + " bytes; the limit is " +
                        std::to_string(limits.max_bytes));
    json::parse_options opt;
    opt.max_depth = limits.max_depth;
    opt.allow_comments = false;
    opt.allow_trailing_commas = false;
    opt.allow_invalid_utf8 = false;
    json::basic_parser<Builder> p(opt);
    p.handler().max_string = limits.max_string;
    boost::system::error_code ec;
    std::size_t n = p.write_some(false, text.data(), text.size(), ec);
    if (!ec && n < text.size()) ec = json::error::extra_data;
    if (ec || !p.done()) {
        std::string msg = p.handler().problem;
        if (msg.empty()) {
            if (ec == json::error::too_deep)
                msg = "nesting deeper than " + std::to_string(limits.max_depth);
            else if (ec == json::error::syntax && text.size() > 0)
                msg = "invalid JSON (or invalid UTF-8)";
            else
                msg = "invalid JSON: " + ec.message();
        }
        fail(where, msg + " at byte " + std::to_string(n));
    }
    return std::move(p.handler().root);
}

std::string canonical(const json::value &v) {
    std::string out;
    canonical_into(v, out, true);
    return out;
}

std::string dump(const json::value &v) {
    std::string out;
    canonical_into(v, out, false);
    return out;
}

std::string dump_spliced(const json::object &o, std::string_view key, std::string_view raw) {
    std::string out;
    out.reserve(raw.size() + 4096);
    out.push_back('{');
    bool first = true;
    for (const auto &kv : o) {
        if (!first) out.push_back(',');
        first = false;
        string_into(kv.key(), out);
        out.push_back(':');
        if (kv.key() == key) out.append(raw);
        else canonical_into(kv.value(), out, false);
    }
    out.push_back('}');
    return out;
}

namespace {

bool json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Past the string literal that starts at t[i] ('"'): the next quote not
// escaped (preceded by an even number of backslashes), found with memchr.
std::size_t skip_string(std::string_view t, std::size_t i) {
    for (std::size_t from = i + 1; from < t.size();) {
        const void *q = std::memchr(t.data() + from, '"', t.size() - from);
        if (!q) break;
        const std::size_t at = static_cast<std::size_t>(static_cast<const char *>(q) - t.data());
        std::size_t backslashes = 0;
        while (at - backslashes - 1 > i && t[at - backslashes - 1] == '\\') ++backslashes;
        if (backslashes % 2 == 0) return at + 1;
        from = at + 1;
    }
    return t.size() + 1;
}

// Past the value that starts at t[i] (a valid document: no checks).
std::size_t skip_value(std::string_view t, std::size_t i) {
    if (i >= t.size()) return i;
    if (t[i] == '"') return skip_string(t, i);
    if (t[i] != '{' && t[i] != '[') {
        while (i < t.size() && t[i] != ',' && t[i] != '}' && t[i] != ']' && !json_space(t[i])) ++i;
        return i;
    }
    int depth = 0;
    while (i < t.size()) {
        const char c = t[i];
        if (c == '"') {
            i = skip_string(t, i);
            continue;
        }
        if (c == '{' || c == '[') ++depth;
        if ((c == '}' || c == ']') && --depth == 0) return i + 1;
        ++i;
    }
    return i;
}

} // namespace

std::string_view raw_member(std::string_view t, std::string_view key) {
    std::size_t i = 0;
    auto skip_space = [&] {
        while (i < t.size() && json_space(t[i])) ++i;
    };
    skip_space();
    if (i >= t.size() || t[i] != '{') return {};
    ++i;
    for (;;) {
        skip_space();
        if (i >= t.size() || t[i] != '"') return {};
        const std::size_t k = i;
        i = skip_string(t, i);
        const bool match = i - k == key.size() + 2 && t.substr(k + 1, key.size()) == key;
        skip_space();
        if (i >= t.size() || t[i] != ':') return {};
        ++i;
        skip_space();
        const std::size_t v = i;
        i = skip_value(t, i);
        if (match) return i <= t.size() ? t.substr(v, i - v) : std::string_view();
        skip_space();
        if (i >= t.size() || t[i] != ',') return {};
        ++i;
    }
}

std::string path_key(const std::string &base, std::string_view key) {
    bool simple = !key.empty();
    for (char c : key)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) simple = false;
    if (simple) return base + "." + std::string(key);
    return base + "[" + json::serialize(json::string_view(key.data(), key.size())) + "]";
}

std::string path_index(const std::string &base, std::size_t i) {
    return base + "[" + std::to_string(i) + "]";
}

void fail(const std::string &path, const std::string &message) {
    throw Error(ErrorCode::invalid, message, path);
}

const json::object &as_object(const json::value &v, const std::string &path) {
    if (!v.is_object()) fail(path, "must be an object");
    return v.get_object();
}
const json::array &as_array(const json::value &v, const std::string &path) {
    if (!v.is_array()) fail(path, "must be an array");
    return v.get_array();
}
const json::string &as_string(const json::value &v, const std::string &path) {
    if (!v.is_string()) fail(path, "must be a string");
    return v.get_string();
}
std::string as_string_max(const json::value &v, const std::string &path, std::size_t max) {
    const auto &s = as_string(v, path);
    if (s.size() > max) fail(path, "longer than " + std::to_string(max) + " bytes");
    return std::string(s);
}
std::int64_t as_int(const json::value &v, const std::string &path) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) {
        if (v.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) fail(path, "integer out of range");
        return static_cast<std::int64_t>(v.get_uint64());
    }
    fail(path, "must be an integer");
}
bool as_bool(const json::value &v, const std::string &path) {
    if (!v.is_bool()) fail(path, "must be true or false");
    return v.get_bool();
}
double as_number(const json::value &v, const std::string &path) {
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    if (v.is_double()) return v.get_double();
    fail(path, "must be a number");
}

void only_keys(const json::object &o, std::initializer_list<std::string_view> allowed,
               const std::string &path) {
    for (const auto &kv : o) {
        std::string_view k(kv.key().data(), kv.key().size());
        if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
            std::string shown(k.substr(0, 64));
            fail(path_key(path, shown), "unknown field \"" + shown + "\"");
        }
    }
}

} // namespace spinner_rollback::detail
