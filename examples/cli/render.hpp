// Copyright (c) The spinner_rollback authors. See LICENSE.
//
// Human-readable ("table") output of the spinner-rollback tool. The JSON
// output ("-o json") does not go through here: it is the library's own
// to_json() text, unchanged.

#ifndef SPINNER_ROLLBACK_EXAMPLES_CLI_RENDER_HPP_
#define SPINNER_ROLLBACK_EXAMPLES_CLI_RENDER_HPP_

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>
#include <spinner_rollback/spinner_rollback.hpp>

namespace spr_cli {

// Columns of text, left-aligned, two spaces apart. The last column is not
// padded, so a long summary does not widen the others.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void AddRow(std::vector<std::string> cells);
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;  // rows_[0] is the header
};

// Indented JSON, two spaces per level, keys in their given order.
std::string PrettyJson(const boost::json::value& value);

// 1073741824 -> "1Gi"; 1500000000 -> "1.40Gi"; 512 -> "512B".
std::string FormatBytes(std::int64_t bytes);

// 0.1 -> "0.10".
std::string FormatMoney(double amount);

// "2024-05-01T12:00:00.123Z" -> "2024-05-01 12:00:00Z".
std::string FormatTime(std::string_view rfc3339);

// A rollback scope as the operator writes it for --scope: "tracked",
// "all" or "image,env".
std::string ScopeText(const spinner_rollback::RollbackScope& scope);

// One diff line: "~ path: from → to", "+ path: to" or "- path: from".
// `from` and `to` are JSON text.
void PrintChange(std::ostream& out, std::string_view indent,
                 std::string_view kind, std::string_view path,
                 std::string_view from, std::string_view to);

void PrintRecordResult(std::ostream& out, std::string_view spinner,
                       const spinner_rollback::RecordResult& result,
                       std::int64_t current_version);
void PrintVersions(std::ostream& out,
                   const std::vector<spinner_rollback::Version>& versions);
void PrintVersionDetail(std::ostream& out,
                        const spinner_rollback::VersionDetail& detail,
                        bool revealed);
void PrintDiff(std::ostream& out, const spinner_rollback::Diff& diff);
// `plan` is the JSON object of a spinner_rollback::Plan.
void PrintPlan(std::ostream& out, const spinner_rollback::Plan& plan);
void PrintCommitted(std::ostream& out,
                    const spinner_rollback::Version& version);
// After "tag": `name` is on `version`; `moved_from` is the version --move
// took it from (0: none).
void PrintTagged(std::ostream& out, const spinner_rollback::Version& version,
                 std::string_view name, std::int64_t moved_from);
// After "note": the version's notes, oldest first.
void PrintNotes(std::ostream& out,
                const spinner_rollback::VersionNotes& notes);
void PrintSnapshots(std::ostream& out,
                    const std::vector<spinner_rollback::Snapshot>& snapshots);
// After "restore-points": when the version was current, then per volume
// its snapshots in the library's order (during, before, after), and the
// plan command that restores the newest ready "during" snapshots.
void PrintRestorePoints(std::ostream& out,
                        const spinner_rollback::RestorePoints& points);
void PrintDecision(std::ostream& out,
                   const spinner_rollback::Decision& decision);
void PrintSpinners(std::ostream& out,
                   const std::vector<spinner_rollback::SpinnerInfo>& infos);
void PrintSpinnerInfo(std::ostream& out,
                      const spinner_rollback::SpinnerInfo& info);
// After "info" without a spinner: store id, engine, schema and library
// versions.
void PrintStoreInfo(std::ostream& out,
                    const spinner_rollback::StoreInfo& info);

// After "export": "exported 2 spinners, 7 versions (3 secrets sealed) to
// FILE", and the snapshots when there are some.
void PrintExported(std::ostream& out,
                   const spinner_rollback::ExportResult& result,
                   std::string_view path);
// After "import": "imported 2 spinners (0 skipped) from store ID", then the
// versions and snapshots imported and skipped.
void PrintImported(std::ostream& out,
                   const spinner_rollback::ImportResult& result);
// After "migrate": "migrated: 7 versions verified in ID", then what the
// target imported.
void PrintMigrated(std::ostream& out,
                   const spinner_rollback::MigrateResult& result);
// After "rotate-key": "data key re-wrapped under k2; 12 secrets re-sealed".
// `other_keys`: the store was opened with a keyring of more than one key,
// and the keys after the first no longer open it.
void PrintRotated(std::ostream& out,
                  const spinner_rollback::RotateResult& result, bool reseal,
                  bool other_keys);

// The DATA column of "events": a one-line rendering of an event's details
// ("deploy: image nginx:1.25 → nginx:1.26" for version.created, the tag name
// for tag.set, "v1,v2" for versions.pruned, ...); compact JSON for a type it
// does not know; "-" for none.
std::string EventDataText(const spinner_rollback::Event& event);

// The rows of "events": SEQ, AT, TYPE, SPINNER, VERSION, DATA. Printed a
// batch at a time ("events --follow"); the header comes once, and column
// widths only grow, so later batches stay aligned with earlier ones. With
// `streaming`, the columns start wide enough for any timestamp and event
// type.
class EventTable {
 public:
  explicit EventTable(bool streaming);
  // The header line, if not printed yet.
  void PrintHeader(std::ostream& out);
  // The header (if not printed yet) and one row per event.
  void Print(std::ostream& out,
             const std::vector<spinner_rollback::Event>& events);

 private:
  std::vector<size_t> widths_;  // of every column but the last
  bool header_printed_ = false;
};

}  // namespace spr_cli

#endif  // SPINNER_ROLLBACK_EXAMPLES_CLI_RENDER_HPP_
