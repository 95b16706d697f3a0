// Internal: a statement of the PostgreSQL engine (pg_backend.cpp) and its
// rows. Parameters are collected here; the statement itself runs through
// its PgDb: alone (one round trip) outside a transaction, queued in the
// transaction's pipeline inside one. Results are binary.
#pragma once

#include "db.hpp"
#include "names.hpp"

#include <spinner_rollback/error.hpp>

#include <libpq-fe.h>

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace spinner_rollback::detail {

// Type OIDs of the integer results we read (pg_type.h).
constexpr Oid kBoolOid = 16, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23;

class PgDb; // pg_backend.cpp: runs the statement

class PgCursor final : public Cursor {
public:
    PgCursor(PgDb &db, std::string sql, int params)
        : db_(db), sql_(std::move(sql)), values_(static_cast<std::size_t>(params)),
          set_(static_cast<std::size_t>(params), false), binary_(static_cast<std::size_t>(params), 0) {}
    ~PgCursor() override {
        reset();
        PQclear(res_);
    }
    PgCursor(const PgCursor &) = delete;
    PgCursor &operator=(const PgCursor &) = delete;

    void bind_i64(int i, std::int64_t v) override { put(i, std::to_string(v), false); }
    void bind_text(int i, std::string_view t) override {
        if (t.find('\0') != std::string_view::npos)
            throw Error(ErrorCode::invalid, "text for PostgreSQL must not contain NUL characters");
        if (!is_utf8(t)) throw Error(ErrorCode::invalid, "text for PostgreSQL must be UTF-8");
        put(i, std::string(t), false);
    }
    void bind_blob(int i, std::string_view b) override { put(i, std::string(b), true); }
    void bind_null(int i) override {
        slot(i);
        set_[static_cast<std::size_t>(i - 1)] = false;
    }
    bool step() override;
    void run() override;
    void send() override;
    void reset() noexcept override;
    /// The answer to this cursor's queued statement (NULL: none; owned now).
    void deliver(PGresult *r) noexcept {
        PQclear(res_);
        res_ = r;
        rows_ = r ? PQntuples(r) : 0;
        row_ = -1;
        awaiting_ = false;
    }
    std::int64_t i64(int c) const override {
        if (is_null(c)) return 0;
        const char *p = PQgetvalue(res_, row_, c);
        switch (PQftype(res_, c)) {
        case kInt8Oid: {
            std::uint32_t hi = 0, lo = 0;
            std::memcpy(&hi, p, 4);
            std::memcpy(&lo, p + 4, 4);
            return static_cast<std::int64_t>((std::uint64_t(ntohl(hi)) << 32) | ntohl(lo));
        }
        case kInt4Oid: {
            std::uint32_t v = 0;
            std::memcpy(&v, p, 4);
            return static_cast<std::int32_t>(ntohl(v));
        }
        case kInt2Oid: {
            std::uint16_t v = 0;
            std::memcpy(&v, p, 2);
            return static_cast<std::int16_t>(ntohs(v));
        }
        case kBoolOid: return p[0] != 0;
        default: throw Error(ErrorCode::internal, "PostgreSQL column is not an integer");
        }
    }
    std::string text(int c) const override { return blob(c); }
    std::string blob(int c) const override {
        if (is_null(c)) return {};
        return std::string(PQgetvalue(res_, row_, c), static_cast<std::size_t>(PQgetlength(res_, row_, c)));
    }
    bool is_null(int c) const override {
        if (!res_ || row_ < 0 || row_ >= rows_ || c < 0 || c >= PQnfields(res_))
            throw Error(ErrorCode::internal, "PostgreSQL column read outside a row");
        return PQgetisnull(res_, row_, c) != 0;
    }

private:
    void slot(int i) const {
        if (i < 1 || static_cast<std::size_t>(i) > values_.size())
            throw Error(ErrorCode::internal, "statement parameter out of range");
    }
    void put(int i, std::string v, bool binary) {
        slot(i);
        auto k = static_cast<std::size_t>(i - 1);
        values_[k] = std::move(v);
        set_[k] = true;
        binary_[k] = binary ? 1 : 0;
    }

    PgDb &db_;
    std::string sql_; // as given, with `?`
    std::vector<std::string> values_;
    std::vector<bool> set_;
    std::vector<int> binary_;
    PGresult *res_ = nullptr;
    bool executed_ = false;
    bool awaiting_ = false; // queued in the pipeline; deliver() brings the rows
    int row_ = -1, rows_ = 0;
};

} // namespace spinner_rollback::detail
