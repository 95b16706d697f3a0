// Quantities: cpu and byte quantities parsed from text as exact decimals,
// scaled by their unit to a whole number, and formatted back in normal form.

#include "quantity.hpp"

#include "json.hpp"
#include "names.hpp"

#include <span>
#include <utility>

namespace spinner_rollback::detail {

namespace {

constexpr std::int64_t kMaxQuantity = std::int64_t{1} << 62;
constexpr std::size_t kMaxQuantityText = 64;

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

// A kind of quantity: its units, and what its messages say for each error.
struct Kind {
    std::span<const Unit> units;
    const char *too_long;   // the text is longer than 64 characters
    const char *zero;
    const char *fraction;   // followed by "got <text>"
    const char *range;
    const char *precision;
    const char *syntax;     // followed by "got <text>"
};

constexpr Kind kCpu{
    kCpuUnits,
    "cpu quantity must be at most 64 characters",
    "cpu must be greater than 0",
    "cpu must be a whole number of millicores (sub-millicore precision is refused), ",
    "cpu must be at most 2^62 millicores",
    "cpu quantity has too many significant digits",
    "cpu must be a positive quantity of cores or millicores such as \"500m\", \"0.5\" or \"2\", ",
};

constexpr Kind kBytes{
    kByteUnits,
    "byte quantity must be at most 64 characters",
    "byte quantity must be greater than 0",
    "byte quantity must be a whole number of bytes, ",
    "byte quantity must be at most 2^62 bytes (4Ei)",
    "byte quantity has too many significant digits",
    "byte quantity must be a positive number with an optional suffix Ki, Mi, Gi, Ti, Pi, Ei, k, "
    "M, G, T, P or E (e.g. \"1Gi\", \"512Mi\", \"1000000\"), ",
};

QError parse_quantity(std::string_view q, std::span<const Unit> units, std::int64_t *out) {
    Decimal d;
    std::string_view rest;
    QError err = parse_decimal(q, &d, &rest);
    if (err != QError::none) return err;
    for (const Unit &u : units)
        if (rest == u.suffix) return scale(d, u.shift10, u.shift2, out);
    return QError::syntax;
}

std::int64_t parse_kind(std::string_view q, const std::string &path, const Kind &kind) {
    if (q.size() > kMaxQuantityText) fail(path, kind.too_long);
    std::int64_t n = 0;
    switch (parse_quantity(q, kind.units, &n)) {
    case QError::none: return n;
    case QError::zero: fail(path, kind.zero);
    case QError::fraction: fail(path, kind.fraction + ("got " + quote(q)));
    case QError::range: fail(path, kind.range);
    case QError::precision: fail(path, kind.precision);
    case QError::syntax: break;
    }
    fail(path, kind.syntax + ("got " + quote(q)));
}

}  // namespace

std::int64_t parse_cpu_millis(std::string_view q, const std::string &path) {
    return parse_kind(q, path, kCpu);
}

std::int64_t parse_bytes(std::string_view q, const std::string &path) {
    return parse_kind(q, path, kBytes);
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

} // namespace spinner_rollback::detail
