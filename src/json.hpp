// Internal JSON helpers over Boost.JSON: strict bounded parsing, canonical
// serialisation, paths. Never included by public headers.
#pragma once

#include <spinner_rollback/error.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace spinner_rollback::detail {

namespace json = boost::json;

/// Limits applied to every JSON input.
struct JsonLimits {
    std::size_t max_bytes = 16u << 20;   // whole document
    std::size_t max_depth = 64;          // nesting
    std::size_t max_string = 4u << 20;   // one string or key, bytes
};

/// Strict RFC 8259 parse: UTF-8 validated, no comments/trailing commas,
/// no NaN/Infinity, duplicate object keys refused, bounded by `limits`.
/// Throws Error(invalid) whose path is `what` (e.g. "state") plus the
/// position, and whose message says what is wrong.
json::value parse_strict(std::string_view text, std::string_view what,
                         const JsonLimits &limits = {});

/// Canonical serialisation: object keys sorted by UTF-8 bytes, no whitespace,
/// integers as integers, doubles in shortest round-trip form.
std::string canonical(const json::value &v);

/// Plain serialisation (insertion order).
std::string dump(const json::value &v);

/// Plain serialisation of `o` whose member `key` is written as `raw`, JSON
/// text already serialised (a plan's 1 MiB state is copied, not re-parsed
/// and re-serialised). `key` must be a member of `o` (its value is ignored).
std::string dump_spliced(const json::object &o, std::string_view key, std::string_view raw);

/// The text of member `key` of the JSON object `object_text`, exactly as
/// written there, for a document parse_strict() accepted; empty when the
/// object has no such member (or spells its name with escapes).
std::string_view raw_member(std::string_view object_text, std::string_view key);

/// JSON-path helpers for error messages: "$.a.b[3]".
std::string path_key(const std::string &base, std::string_view key);
std::string path_index(const std::string &base, std::size_t i);

/// Throw Error(invalid, message, path).
[[noreturn]] void fail(const std::string &path, const std::string &message);

/// Accessors that throw Error(invalid) naming the path when the type is wrong.
const json::object &as_object(const json::value &v, const std::string &path);
const json::array &as_array(const json::value &v, const std::string &path);
const json::string &as_string(const json::value &v, const std::string &path);
/// A string of at most `max` bytes (Error(invalid) naming the path otherwise).
std::string as_string_max(const json::value &v, const std::string &path, std::size_t max);
std::int64_t as_int(const json::value &v, const std::string &path);
bool as_bool(const json::value &v, const std::string &path);
double as_number(const json::value &v, const std::string &path);

/// Refuse any key of `o` not in `allowed` (path names the first unknown key).
void only_keys(const json::object &o, std::initializer_list<std::string_view> allowed,
               const std::string &path);

} // namespace spinner_rollback::detail
