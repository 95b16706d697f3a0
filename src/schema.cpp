// The store's tables and migrations. Numbered, embedded, forward-only:
// migration N brings the schema version to N, inside one write transaction.
// Each table is written once; {BLOB}, {INT}, {KEY}, {SERIAL} and {NOROWID}
// are replaced by the engine's spellings (Db::dialect()).
#include "schema.hpp"

#include "crypto.hpp"

#include <boost/uuid/uuid.hpp>
#include <boost/uuid/uuid_generators.hpp>
#include <boost/uuid/uuid_io.hpp>

#include <array>
#include <string>
#include <string_view>

namespace spinner_rollback::detail {

namespace {

constexpr std::array<std::string_view, 4> kMigrations{
    // 1: initial schema
    R"sql(
CREATE TABLE meta(key {KEY} PRIMARY KEY, value {BLOB} NOT NULL){NOROWID};
CREATE TABLE spinners(
  id {SERIAL},
  name {KEY} NOT NULL UNIQUE,
  enabled {INT} NOT NULL,
  history_limit {INT} NOT NULL,
  last_number {INT} NOT NULL DEFAULT 0,
  current_number {INT} NOT NULL DEFAULT 0,
  latest_core {BLOB},
  updated_at TEXT NOT NULL);
CREATE TABLE versions(
  spinner_id {INT} NOT NULL,
  number {INT} NOT NULL,
  created_at TEXT NOT NULL,
  author TEXT NOT NULL,
  message TEXT NOT NULL,
  reason {INT} NOT NULL,
  reasons TEXT NOT NULL,
  summary TEXT NOT NULL,
  core {BLOB} NOT NULL,
  rollback_of {INT},
  status {INT} NOT NULL,
  PRIMARY KEY(spinner_id, number)){NOROWID};
CREATE TABLE blobs(
  id {BLOB} NOT NULL UNIQUE,
  refs {INT} NOT NULL,
  kind {INT} NOT NULL,
  codec {INT} NOT NULL,
  size {INT} NOT NULL,
  data {BLOB} NOT NULL);
CREATE TABLE requests(
  spinner_id {INT} NOT NULL,
  request_id {KEY} NOT NULL,
  payload TEXT NOT NULL,
  outcome TEXT NOT NULL,
  number {INT} NOT NULL,
  reasons TEXT NOT NULL,
  PRIMARY KEY(spinner_id, request_id)){NOROWID};
CREATE TABLE volume_bindings(
  spinner_id {INT} NOT NULL,
  name {KEY} NOT NULL,
  volume_id {KEY} NOT NULL,
  last_number {INT} NOT NULL,
  PRIMARY KEY(spinner_id, name, volume_id)){NOROWID};
CREATE TABLE snapshots(
  id {KEY} PRIMARY KEY,
  volume {KEY} NOT NULL,
  size_bytes {INT} NOT NULL,
  created_at {KEY} NOT NULL,
  ready {INT} NOT NULL,
  storage_class TEXT NOT NULL,
  metadata TEXT NOT NULL){NOROWID};
CREATE INDEX snapshots_by_volume ON snapshots(volume, created_at);
)sql",
    // 2: delta-compressed cores and explicit child lists (no parsing to collect garbage)
    R"sql(
ALTER TABLE blobs ADD COLUMN base {BLOB};
ALTER TABLE blobs ADD COLUMN depth {INT} NOT NULL DEFAULT 0;
ALTER TABLE blobs ADD COLUMN children {BLOB};
ALTER TABLE blobs ADD COLUMN base_refs {INT} NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN seq {INT} NOT NULL DEFAULT 0;
CREATE INDEX requests_by_seq ON requests(spinner_id, seq);
)sql",
    // 3: tags and notes (docs/retention.md), rollback scopes, when each version stopped being current
    R"sql(
ALTER TABLE versions ADD COLUMN tags TEXT;
ALTER TABLE versions ADD COLUMN notes TEXT;
ALTER TABLE versions ADD COLUMN scope TEXT;
ALTER TABLE versions ADD COLUMN replaced_at TEXT;
ALTER TABLE spinners ADD COLUMN tagged {INT} NOT NULL DEFAULT 0;
CREATE TABLE tags(
  spinner_id {INT} NOT NULL,
  name {KEY} NOT NULL,
  number {INT} NOT NULL,
  note TEXT NOT NULL,
  author TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY(spinner_id, name)){NOROWID};
CREATE INDEX tags_by_number ON tags(spinner_id, number);
CREATE INDEX versions_untagged ON versions(spinner_id, number) WHERE tags IS NULL;
UPDATE versions SET replaced_at = (SELECT n.created_at FROM versions n
  WHERE n.spinner_id = versions.spinner_id AND n.number = versions.number + 1);
)sql",
    // 4: the event outbox (docs/events.md)
    R"sql(
CREATE TABLE events(
  seq {INT} PRIMARY KEY,
  at TEXT NOT NULL,
  type TEXT NOT NULL,
  spinner TEXT,
  version {INT},
  data TEXT NOT NULL);
)sql",
};

// The migration's SQL in the engine's spelling.
std::string render(std::string_view sql, const Dialect &d) {
    const std::pair<std::string_view, std::string_view> words[] = {
        {"{BLOB}", d.blob}, {"{INT}", d.integer}, {"{KEY}", d.key_text},
        {"{SERIAL}", d.serial_key}, {"{NOROWID}", d.table_options}};
    std::string out;
    out.reserve(sql.size() + 256);
    for (std::size_t i = 0; i < sql.size();) {
        bool replaced = false;
        if (sql[i] == '{')
            for (const auto &[word, spelling] : words)
                if (sql.substr(i, word.size()) == word) {
                    out += spelling;
                    i += word.size();
                    replaced = true;
                    break;
                }
        if (!replaced) out += sql[i++];
    }
    return out;
}

// True when the store needs no set-up: current schema, a plan key and an identity.
bool is_current(Db &db, std::int64_t &found) {
    Tx rtx(db, false);
    found = db.schema_version();
    bool ready = found > current_schema_version();
    if (found == current_schema_version()) {
        Stmt st(db, "SELECT count(*) FROM meta WHERE key IN ('plan_key', 'store_id')");
        ready = st.step() && st.i64(0) == 2;
    }
    rtx.commit();
    return ready;
}

} // namespace

std::string store_id(Db &db) {
    Stmt st(db, "SELECT value FROM meta WHERE key='store_id'");
    if (!st.step()) throw Error(ErrorCode::corrupt, "store has no identity");
    return st.blob(0);
}

std::int64_t current_schema_version() noexcept { return static_cast<std::int64_t>(kMigrations.size()); }

std::int64_t set_up_schema(Db &db) {
    std::int64_t found = 0;
    // A store at the current schema opens without waiting behind a writer.
    if (is_current(db, found)) return found;
    Tx tx(db, true); // the writer lock orders concurrent set-ups
    found = db.schema_version();
    if (found > current_schema_version()) return found; // refused by the caller; nothing written
    for (std::int64_t m = found; m < current_schema_version(); ++m) {
        db.exec(render(kMigrations[static_cast<std::size_t>(m)], db.dialect()));
        db.set_schema_version(m + 1);
    }
    Stmt ins(db, "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT DO NOTHING");
    ins.bind(1, std::string_view("plan_key")).bind_blob(2, random_bytes(32)).run();
    // The store's identity: made once, kept by every later migration.
    ins.reset();
    const std::string id = boost::uuids::to_string(boost::uuids::random_generator()());
    ins.bind(1, std::string_view("store_id")).bind_blob(2, id).run();
    tx.commit();
    return found;
}

} // namespace spinner_rollback::detail
