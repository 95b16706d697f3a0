// Copyright (c) The spinner_rollback authors. See LICENSE.

#include "render.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <optional>
#include <utility>

#include <boost/json.hpp>

namespace spr_cli {

namespace json = boost::json;
namespace sr = spinner_rollback;

namespace {

// Terminal columns taken by UTF-8 text (one per code point; good enough for
// the arrows and names this tool prints).
size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++width;
  }
  return width;
}

// 1, "spinner" -> "1 spinner"; 2 -> "2 spinners".
std::string Count(std::int64_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

std::string OrDash(std::string_view text) {
  return text.empty() ? std::string("-") : std::string(text);
}

void AppendPretty(std::string* out, const json::value& value, int depth) {
  const std::string indent(2 * (depth + 1), ' ');
  const std::string closing_indent(2 * depth, ' ');
  if (value.is_object()) {
    const json::object& object = value.get_object();
    if (object.empty()) {
      out->append("{}");
      return;
    }
    out->append("{\n");
    bool first = true;
    for (const auto& entry : object) {
      if (!first) out->append(",\n");
      first = false;
      out->append(indent);
      out->append(json::serialize(entry.key()));
      out->append(": ");
      AppendPretty(out, entry.value(), depth + 1);
    }
    out->append("\n" + closing_indent + "}");
  } else if (value.is_array()) {
    const json::array& array = value.get_array();
    if (array.empty()) {
      out->append("[]");
      return;
    }
    out->append("[\n");
    bool first = true;
    for (const json::value& element : array) {
      if (!first) out->append(",\n");
      first = false;
      out->append(indent);
      AppendPretty(out, element, depth + 1);
    }
    out->append("\n" + closing_indent + "]");
  } else {
    out->append(json::serialize(value));
  }
}

// "rollback of v3", with the scope when it is not the default:
// "rollback of v3 [image,env]", "rollback of v3 [all]".
std::string ReasonText(const sr::Version& version) {
  if (version.reason == sr::VersionReason::rollback && version.rollback_of) {
    std::string text = "rollback of v" + std::to_string(*version.rollback_of);
    if (version.scope &&
        version.scope->kind != sr::RollbackScope::Kind::tracked) {
      text += " [" + ScopeText(*version.scope) + "]";
    }
    return text;
  }
  return sr::to_string(version.reason);
}

// "golden,prod", or "-".
std::string TagNames(const sr::Version& version) {
  std::string out;
  for (const sr::Tag& tag : version.tags) {
    if (!out.empty()) out += ',';
    out += tag.name;
  }
  return OrDash(out);
}

// Free text (a note) on indented lines: continuation lines of a multi-line
// text are indented like the first.
void PrintIndentedText(std::ostream& out, std::string_view indent,
                       std::string_view text) {
  size_t start = 0;
  while (true) {
    const size_t newline = text.find('\n', start);
    out << indent << text.substr(start, newline == std::string_view::npos
                                            ? std::string_view::npos
                                            : newline - start)
        << '\n';
    if (newline == std::string_view::npos) break;
    start = newline + 1;
  }
}

void PrintNoteList(std::ostream& out, const std::vector<sr::Note>& notes) {
  for (const sr::Note& note : notes) {
    out << "  " << FormatTime(note.created_at) << "  " << OrDash(note.author)
        << ":\n";
    PrintIndentedText(out, "    ", note.text);
  }
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out.append(sep);
    out.append(parts[i]);
  }
  return out;
}

// "label:  value" lines, values aligned.
void PrintFields(
    std::ostream& out,
    const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [label, value] : fields) {
    width = std::max(width, DisplayWidth(label));
  }
  for (const auto& [label, value] : fields) {
    out << label << ':' << std::string(width - DisplayWidth(label) + 2, ' ')
        << value << '\n';
  }
}

void PrintReasons(std::ostream& out, const std::vector<sr::Reason>& reasons) {
  if (reasons.empty()) return;
  Table table({"CATEGORY", "PATH"});
  for (const sr::Reason& reason : reasons) {
    table.AddRow({reason.category, reason.path});
  }
  table.Print(out);
}

// `text` on one line: control characters (newlines, tabs) become spaces,
// and text longer than `max_width` columns is cut, ending in "…".
std::string OneLine(std::string_view text, size_t max_width) {
  std::string out;
  size_t width = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const bool starts_code_point = (c & 0xC0) != 0x80;
    if (starts_code_point) {
      if (width == max_width) {
        // Cut before the last column's code point to make room for "…".
        while (!out.empty()) {
          const unsigned char last = static_cast<unsigned char>(out.back());
          out.pop_back();
          if ((last & 0xC0) != 0x80) break;
        }
        out += "\u2026";
        return out;
      }
      ++width;
    }
    out += (c < 0x20 || c == 0x7F) ? ' ' : static_cast<char>(c);
  }
  return out;
}

// An event's rollback scope as --scope takes it ("all", "image,env"); empty
// for the default "tracked" or no scope.
std::string EventScopeText(const json::value* scope) {
  if (scope == nullptr) return {};
  if (scope->is_string()) {
    return scope->get_string() == "tracked" ? std::string()
                                            : std::string(scope->get_string());
  }
  if (!scope->is_array()) return {};
  std::vector<std::string> names;
  for (const json::value& name : scope->get_array()) {
    if (name.is_string()) names.emplace_back(name.get_string());
  }
  return Join(names, ",");
}

}  // namespace

Table::Table(std::vector<std::string> headers) {
  rows_.push_back(std::move(headers));
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(rows_[0].size());
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  const size_t columns = rows_[0].size();
  std::vector<size_t> widths(columns, 0);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < columns; ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < columns; ++i) {
      line.append(row[i]);
      if (i + 1 < columns) {
        line.append(widths[i] - DisplayWidth(row[i]) + 2, ' ');
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  }
}

std::string ScopeText(const sr::RollbackScope& scope) {
  switch (scope.kind) {
    case sr::RollbackScope::Kind::tracked:
      return "tracked";
    case sr::RollbackScope::Kind::all:
      return "all";
    case sr::RollbackScope::Kind::categories:
      break;
  }
  return Join(scope.categories, ",");
}

std::string PrettyJson(const json::value& value) {
  std::string out;
  AppendPretty(&out, value, 0);
  return out;
}

std::string FormatBytes(std::int64_t bytes) {
  static const char* const kUnits[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  if (bytes < 1024) return std::to_string(bytes) + "B";
  int unit = -1;
  double scaled = static_cast<double>(bytes);
  std::int64_t divisor = 1;
  while (unit < 5 && bytes / divisor >= 1024) {
    divisor *= 1024;
    ++unit;
  }
  if (bytes % divisor == 0) {
    return std::to_string(bytes / divisor) + kUnits[unit];
  }
  scaled /= static_cast<double>(divisor);
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.2f%s", scaled, kUnits[unit]);
  return buffer;
}

std::string FormatMoney(double amount) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.2f", amount);
  return buffer;
}

std::string FormatTime(std::string_view rfc3339) {
  // YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)
  if (rfc3339.size() < 20 || rfc3339[10] != 'T') return std::string(rfc3339);
  std::string out(rfc3339.substr(0, 10));
  out += ' ';
  out.append(rfc3339.substr(11, 8));
  size_t zone = rfc3339.find_first_of("Z+-", 19);
  if (zone != std::string_view::npos) out.append(rfc3339.substr(zone));
  return out;
}

void PrintChange(std::ostream& out, std::string_view indent,
                 std::string_view kind, std::string_view path,
                 std::string_view from, std::string_view to) {
  out << indent;
  if (kind == "added") {
    out << "+ " << path << ": " << to;
  } else if (kind == "removed") {
    out << "- " << path << ": " << from;
  } else {
    out << "~ " << path << ": " << from << " \u2192 " << to;
  }
  out << '\n';
}

void PrintRecordResult(std::ostream& out, std::string_view spinner,
                       const sr::RecordResult& result,
                       std::int64_t current_version) {
  if (result.outcome == spinner_rollback::Outcome::created && result.version) {
    const sr::Version& version = *result.version;
    out << "created v" << version.number << " of " << spinner << ": "
        << version.summary << '\n';
    PrintReasons(out, result.reasons);
  } else if (result.outcome == spinner_rollback::Outcome::unchanged) {
    out << "unchanged: no tracked field changed";
    if (current_version > 0) {
      out << "; v" << current_version << " stays current";
    }
    out << '\n';
  } else if (result.outcome == spinner_rollback::Outcome::disabled) {
    out << "disabled: rollback is switched off for " << spinner
        << " (settings.rollback.enabled is false); no version created\n";
  } else {
    out << spinner_rollback::to_string(result.outcome) << '\n';
  }
}

void PrintVersions(std::ostream& out,
                   const std::vector<sr::Version>& versions) {
  Table table({"NUMBER", "CREATED", "STATUS", "REASON", "TAGS", "AUTHOR",
               "SUMMARY"});
  for (const sr::Version& version : versions) {
    const std::string marker = version.current ? "* " : "  ";
    table.AddRow({marker + std::to_string(version.number),
                  FormatTime(version.created_at), sr::to_string(version.status),
                  ReasonText(version), TagNames(version),
                  OrDash(version.author), OrDash(version.summary)});
  }
  table.Print(out);
}

void PrintVersionDetail(std::ostream& out, const sr::VersionDetail& detail,
                        bool revealed) {
  const sr::Version& version = detail.version;
  out << "version " << version.number << " of " << version.spinner
      << (version.current ? " (current)" : "") << '\n';
  std::vector<std::string> reasons;
  for (const sr::Reason& reason : version.reasons) {
    reasons.push_back(reason.category + " (" + reason.path + ")");
  }
  std::vector<std::pair<std::string, std::string>> fields = {
      {"created", version.created_at},
      {"status", sr::to_string(version.status)},
      {"reason", ReasonText(version)}};
  if (version.scope) {
    fields.emplace_back("scope", ScopeText(*version.scope));
  }
  fields.insert(fields.end(), {{"author", OrDash(version.author)},
                               {"message", OrDash(version.message)},
                               {"summary", OrDash(version.summary)},
                               {"digest", version.digest},
                               {"triggers", OrDash(Join(reasons, ", "))}});
  PrintFields(out, fields);
  if (!version.tags.empty()) {
    out << "tags (" << version.tags.size() << "):\n";
    Table table({"  NAME", "AUTHOR", "TAGGED", "NOTE"});
    for (const sr::Tag& tag : version.tags) {
      table.AddRow({"  " + tag.name, OrDash(tag.author),
                    FormatTime(tag.created_at), OrDash(tag.note)});
    }
    table.Print(out);
  }
  if (!detail.notes.empty()) {
    out << "notes (" << detail.notes.size() << "):\n";
    PrintNoteList(out, detail.notes);
  }
  out << (revealed ? "state (secret values revealed):\n"
                   : "state (secret values redacted; --reveal-secrets "
                     "shows them):\n");
  out << PrettyJson(json::parse(detail.state_json)) << '\n';
}

void PrintDiff(std::ostream& out, const sr::Diff& diff) {
  if (diff.changes.empty()) {
    out << "no differences\n";
    return;
  }
  for (const sr::Change& change : diff.changes) {
    const char* kind = change.kind == sr::ChangeKind::added     ? "added"
                       : change.kind == sr::ChangeKind::removed ? "removed"
                                                                : "changed";
    PrintChange(out, "", kind, change.path, change.from, change.to);
  }
}

void PrintPlan(std::ostream& out, const sr::Plan& plan) {
  std::int64_t next_version = 0;
  for (const sr::PlanStep& step : plan.steps) {
    if (step.action == "applyState") next_version = step.version;
  }

  out << "Rollback plan " << plan.plan_id << " for spinner \"" << plan.spinner
      << "\"\n";
  out << "  v" << plan.base_version << " (current) \u2192 v"
      << plan.target_version;
  if (next_version > 0) {
    out << ", committed as new version v" << next_version;
  }
  out << '\n';
  out << "  summary: " << plan.summary << '\n';
  if (plan.request.scope.kind == sr::RollbackScope::Kind::all) {
    out << "  scope: all (untracked fields too; settings stay current)\n";
  } else if (plan.request.scope.kind ==
             sr::RollbackScope::Kind::categories) {
    out << "  scope: " << ScopeText(plan.request.scope)
        << " (everything else stays as it is now)\n";
  }

  std::map<std::string, double> cost_by_currency;
  if (!plan.volumes.empty()) {
    out << "\nData:\n";
    for (const sr::PlanVolume& volume : plan.volumes) {
      out << "  " << volume.volume;
      if (!volume.mounts.empty()) out << " (" << Join(volume.mounts, ", ") << ")";
      out << ": ";
      if (volume.source == sr::PlanVolume::Source::snapshot &&
          volume.new_volume) {
        const sr::NewVolume& nv = *volume.new_volume;
        cost_by_currency[nv.currency] += nv.estimated_monthly_cost;
        out << "new volume " << nv.name << " from snapshot "
            << volume.snapshot_id << ": " << FormatBytes(nv.size_bytes);
        if (nv.copies > 1) out << " x " << nv.copies;
        if (!nv.storage_class.empty()) out << " " << nv.storage_class;
        out << ", estimated cost " << FormatMoney(nv.estimated_monthly_cost)
            << " " << nv.currency << "/month\n";
      } else {
        out << "current";
        if (volume.volume_id && !volume.volume_id->empty()) {
          out << " (keeps the volume in use now, " << *volume.volume_id << ")";
        }
        out << '\n';
      }
    }
    for (const auto& [currency, total] : cost_by_currency) {
      out << "  estimated extra storage cost: " << FormatMoney(total) << " "
          << currency << "/month\n";
    }
  }

  out << "\nChanges (" << plan.diff.changes.size() << "):\n";
  for (const sr::Change& change : plan.diff.changes) {
    const char* kind = change.kind == sr::ChangeKind::added     ? "added"
                       : change.kind == sr::ChangeKind::removed ? "removed"
                                                                : "changed";
    PrintChange(out, "  ", kind, change.path, change.from, change.to);
  }

  if (!plan.warnings.empty()) {
    out << "\nWarnings:\n";
    for (const std::string& warning : plan.warnings) {
      out << "  ! " << warning << '\n';
    }
  }

  if (!plan.steps.empty()) {
    out << "\nSteps:\n";
    int index = 0;
    for (const sr::PlanStep& step : plan.steps) {
      out << "  " << ++index << ". "
          << (step.description.empty() ? step.action : step.description)
          << '\n';
    }
  }

  if (plan.requires_confirmation) {
    out << "\nrequires confirmation: commit with --confirm\n";
  }
}

void PrintCommitted(std::ostream& out, const sr::Version& version) {
  out << "committed v" << version.number << " of " << version.spinner << ": "
      << ReasonText(version) << ", status " << sr::to_string(version.status)
      << '\n';
  out << "  summary: " << OrDash(version.summary) << '\n';
  out << "next: apply it (spinner-rollback show " << version.spinner << ' '
      << version.number << " --reveal-secrets gives the full state), then "
      << "report the rollout: spinner-rollback status " << version.spinner
      << ' ' << version.number << " active|failed\n";
}

void PrintTagged(std::ostream& out, const sr::Version& version,
                 std::string_view name, std::int64_t moved_from) {
  out << "tag " << name;
  if (moved_from > 0) {
    out << " moved from v" << moved_from << " to v";
  } else {
    out << " is on v";
  }
  out << version.number << " of " << version.spinner << " (tags of v"
      << version.number << ": " << TagNames(version) << ")\n";
}

void PrintNotes(std::ostream& out, const sr::VersionNotes& notes) {
  out << "v" << notes.number << " of " << notes.spinner << " has "
      << notes.notes.size() << (notes.notes.size() == 1 ? " note" : " notes")
      << ":\n";
  PrintNoteList(out, notes.notes);
}

void PrintSnapshots(std::ostream& out,
                    const std::vector<sr::Snapshot>& snapshots) {
  Table table({"ID", "VOLUME", "SIZE", "READY", "STORAGECLASS", "CREATED"});
  for (const sr::Snapshot& snapshot : snapshots) {
    table.AddRow({snapshot.id, snapshot.volume,
                  FormatBytes(snapshot.size_bytes),
                  snapshot.ready ? "yes" : "no",
                  OrDash(snapshot.storage_class),
                  FormatTime(snapshot.created_at)});
  }
  table.Print(out);
}

void PrintRestorePoints(std::ostream& out, const sr::RestorePoints& points) {
  const std::string version = "v" + std::to_string(points.number);
  out << version << " of " << points.spinner << ": current from "
      << FormatTime(points.current_from);
  if (points.current_until.empty()) {
    out << " (still current)\n";
  } else {
    out << " until " << FormatTime(points.current_until) << '\n';
  }
  if (points.volumes.empty()) {
    out << "\n" << version << " has no volumes: there is no data to restore\n";
    return;
  }

  bool any = false;
  // --data arguments that restore the newest ready snapshot taken while the
  // version was current, per volume that has one.
  std::vector<std::string> data_args;
  for (const sr::VolumeRestorePoints& volume : points.volumes) {
    out << "\nvolume " << volume.volume;
    if (volume.volume_ids.empty()) {
      out << ": no volumeId in " << version
          << "'s state, so no snapshot can be matched to it\n";
      continue;
    }
    out << " (" << Join(volume.volume_ids, ", ") << ")";
    if (volume.snapshots.empty()) {
      out << ": no snapshots registered\n";
      continue;
    }
    const std::size_t n = volume.snapshots.size();
    out << ": " << n << (n == 1 ? " snapshot" : " snapshots") << '\n';
    any = true;
    Table table({"  SNAPSHOT", "VOLUME-ID", "TAKEN", "SIZE", "READY",
                 "STORAGECLASS", "RELATION"});
    bool restorable = false;
    for (const sr::RestorePoint& point : volume.snapshots) {
      const sr::Snapshot& snapshot = point.snapshot;
      table.AddRow({"  " + snapshot.id, snapshot.volume,
                    FormatTime(snapshot.created_at),
                    FormatBytes(snapshot.size_bytes),
                    snapshot.ready ? "yes" : "no",
                    OrDash(snapshot.storage_class),
                    sr::to_string(point.relation)});
      if (!restorable && snapshot.ready &&
          point.relation == sr::RestorePoint::Relation::during) {
        restorable = true;
        data_args.push_back("--data " + volume.volume + "=snapshot:" +
                            snapshot.id);
      }
    }
    table.Print(out);
  }
  if (!any) return;
  out << "\nduring: taken while " << version << " was current (its data); "
      << "before: taken before it was made; after: taken after the next "
         "version replaced it\n";
  // A rollback to the current version is refused: no hint for it.
  if (!data_args.empty() && !points.current_until.empty()) {
    out << "roll back to " << version << " with this data: spinner-rollback "
        << "plan " << points.spinner << ' ' << points.number << ' '
        << Join(data_args, " ") << '\n';
  }
}

void PrintDecision(std::ostream& out, const sr::Decision& decision) {
  out << "snapshot: " << (decision.snapshot ? "yes" : "no") << " ("
      << spinner_rollback::to_string(decision.outcome) << ")\n";
  PrintReasons(out, decision.reasons);
}

void PrintSpinners(std::ostream& out,
                   const std::vector<sr::SpinnerInfo>& infos) {
  Table table({"SPINNER", "CURRENT", "VERSIONS", "ROLLBACK", "HISTORYLIMIT",
               "LASTRECORDED"});
  for (const sr::SpinnerInfo& info : infos) {
    const std::string current =
        info.current_version > 0 ? "v" + std::to_string(info.current_version)
                                 : std::string("-");
    table.AddRow({info.spinner, current,
                  std::to_string(info.versions_created),
                  info.rollback_enabled ? "on" : "off",
                  std::to_string(info.history_limit),
                  OrDash(FormatTime(info.last_recorded_at))});
  }
  table.Print(out);
}

void PrintSpinnerInfo(std::ostream& out, const sr::SpinnerInfo& info) {
  const std::string current =
      info.current_version > 0 ? "v" + std::to_string(info.current_version)
                               : std::string("none");
  PrintFields(out, {{"spinner", info.spinner},
                    {"rollback", info.rollback_enabled ? "on" : "off"},
                    {"history limit", std::to_string(info.history_limit)},
                    {"current version", current},
                    {"versions created", std::to_string(info.versions_created)},
                    {"last recorded", OrDash(info.last_recorded_at)}});
}

void PrintStoreInfo(std::ostream& out, const sr::StoreInfo& info) {
  PrintFields(out, {{"store id", info.store_id},
                    {"engine", info.engine},
                    {"schema version", std::to_string(info.schema_version)},
                    {"library", "spinner_rollback " + info.library_version}});
}

void PrintExported(std::ostream& out, const sr::ExportResult& result,
                   std::string_view path) {
  out << "exported " << Count(result.spinners, "spinner") << ", "
      << Count(result.versions, "version");
  if (result.secrets > 0) {
    out << " (" << Count(result.secrets, "secret") << " sealed)";
  } else {
    out << " (no secrets)";
  }
  if (result.snapshots > 0) {
    out << " and " << Count(result.snapshots, "snapshot");
  }
  out << " to " << path << '\n';
}

namespace {

// The versions and snapshots lines of "import" and "migrate".
void PrintImportCounts(std::ostream& out, const sr::ImportResult& result) {
  out << "  versions:  " << result.versions_imported << " imported, "
      << result.versions_skipped << " skipped\n"
      << "  snapshots: " << result.snapshots_imported << " imported, "
      << result.snapshots_skipped << " skipped\n";
}

}  // namespace

void PrintImported(std::ostream& out, const sr::ImportResult& result) {
  out << "imported " << Count(result.spinners_imported, "spinner") << " ("
      << result.spinners_skipped << " skipped) from store "
      << OrDash(result.source_store_id) << '\n';
  PrintImportCounts(out, result);
  if (result.spinners_imported == 0 && result.snapshots_imported == 0 &&
      result.spinners_skipped + result.snapshots_skipped > 0) {
    out << "(all of it was already here: nothing changed)\n";
  }
}

void PrintMigrated(std::ostream& out, const sr::MigrateResult& result) {
  out << "migrated: " << Count(result.versions_verified, "version")
      << " verified in " << OrDash(result.target_store_id) << '\n'
      << "  spinners:  " << result.imported.spinners_imported
      << " imported, " << result.imported.spinners_skipped << " skipped\n";
  PrintImportCounts(out, result.imported);
}

void PrintRotated(std::ostream& out, const sr::RotateResult& result,
                  bool reseal, bool other_keys) {
  if (result.rewrapped == 0) {
    out << "nothing to re-wrap: the store holds no secret value yet\n";
    return;
  }
  out << "data key re-wrapped under ";
  if (result.key_id.empty()) {
    out << "the store's key";
  } else if (result.key_id == "cipher") {
    out << "the host cipher";
  } else {
    out << result.key_id;
  }
  if (reseal) {
    out << "; " << Count(result.resealed, "secret") << " re-sealed";
    if (result.resumed) out << " (resumed an interrupted re-seal)";
  }
  out << '\n';
  if (other_keys) {
    out << "the other keys of --keyring no longer open the store";
    if (!reseal) {
      out << "; add --reseal to also replace the data key";
    }
    out << '\n';
  }
}

std::string EventDataText(const sr::Event& event) {
  // Longer data is cut: "show" and "-o json" have all of it.
  constexpr size_t kMaxWidth = 160;
  boost::system::error_code ec;
  const json::value data = json::parse(event.data_json, ec);
  if (ec || !data.is_object()) return OneLine(event.data_json, kMaxWidth);
  const json::object& object = data.get_object();
  auto text_of = [&](const char* key) -> std::string {
    const json::value* value = object.if_contains(key);
    return value != nullptr && value->is_string()
               ? std::string(value->get_string())
               : std::string();
  };
  auto number_of = [&](const char* key) -> std::optional<std::int64_t> {
    const json::value* value = object.if_contains(key);
    if (value == nullptr || !value->is_number()) return std::nullopt;
    boost::system::error_code number_ec;
    const auto number = value->to_number<std::int64_t>(number_ec);
    if (number_ec) return std::nullopt;
    return number;
  };
  auto scope_suffix = [&] {
    const std::string scope = EventScopeText(object.if_contains("scope"));
    return scope.empty() ? scope : " [" + scope + "]";
  };

  std::string text;
  const std::string& type = event.type;
  if (type == "version.created") {
    // "deploy: SUMMARY"; a rollback's summary says "rollback to v3: ...",
    // shown with the scope: "rollback to v3 [image]: ...".
    const std::string summary = text_of("summary");
    if (const auto target = number_of("rollbackOf")) {
      const std::string prefix = "rollback to v" + std::to_string(*target);
      if (summary.rfind(prefix + ":", 0) == 0) {
        text = prefix + scope_suffix() + summary.substr(prefix.size());
      } else {
        text = prefix + scope_suffix();
        if (!summary.empty()) text += ": " + summary;
      }
    } else {
      text = text_of("reason");
      if (!summary.empty()) text += (text.empty() ? "" : ": ") + summary;
    }
  } else if (type == "rollback.committed") {
    // "to v3 [image] (plan plan-1a2b)".
    if (const auto target = number_of("target")) {
      text = "to v" + std::to_string(*target) + scope_suffix();
      const std::string plan = text_of("planId");
      if (!plan.empty()) text += " (plan " + plan + ")";
    }
  } else if (type == "status.changed") {
    text = text_of("status");
  } else if (type == "tag.set") {
    // "golden (moved from v1) by alice".
    text = text_of("name");
    if (!text.empty()) {
      if (const auto from = number_of("movedFrom")) {
        text += " (moved from v" + std::to_string(*from) + ")";
      }
      const std::string author = text_of("author");
      if (!author.empty()) text += " by " + author;
    }
  } else if (type == "tag.removed") {
    text = text_of("name");
  } else if (type == "note.added") {
    // "carol: v4 broke checkout".
    text = text_of("text");
    const std::string author = text_of("author");
    if (!text.empty() && !author.empty()) text = author + ": " + text;
  } else if (type == "snapshot.registered") {
    // "snap-1 of vol-1, ready".
    text = text_of("id");
    if (!text.empty()) {
      const std::string volume = text_of("volume");
      if (!volume.empty()) text += " of " + volume;
      if (const json::value* ready = object.if_contains("ready");
          ready != nullptr && ready->is_bool()) {
        text += ready->get_bool() ? ", ready" : ", not ready";
      }
    }
  } else if (type == "snapshot.deleted") {
    text = text_of("id");
  } else if (type == "spinner.imported") {
    // "12 versions from store 0f3c...".
    if (const auto versions = number_of("versions")) {
      text = Count(*versions, "version");
      const std::string source = text_of("sourceStoreId");
      if (!source.empty()) text += " from store " + source;
    }
  } else if (type == "store.key_rotated") {
    // "under k2, re-sealing".
    const std::string key_id = text_of("keyId");
    text = key_id.empty() ? "under the store's key" : "under " + key_id;
    if (const json::value* reseal = object.if_contains("reseal");
        reseal != nullptr && reseal->is_bool() && reseal->get_bool()) {
      text += ", re-sealing";
    }
  } else if (type == "versions.pruned") {
    // "v1,v2".
    if (const json::value* numbers = object.if_contains("numbers");
        numbers != nullptr && numbers->is_array()) {
      std::vector<std::string> names;
      for (const json::value& number : numbers->get_array()) {
        names.push_back(number.is_int64()
                            ? "v" + std::to_string(number.get_int64())
                            : json::serialize(number));
      }
      text = Join(names, ",");
    }
  }
  // An unknown type, or one whose data is not as expected: the JSON.
  if (text.empty()) text = object.empty() ? "-" : json::serialize(data);
  return OneLine(text, kMaxWidth);
}

namespace {

constexpr size_t kEventColumns = 6;

void PrintEventRow(std::ostream& out, const std::vector<size_t>& widths,
                   const std::array<std::string, kEventColumns>& cells) {
  std::string line;
  for (size_t i = 0; i < kEventColumns; ++i) {
    line.append(cells[i]);
    if (i + 1 < kEventColumns) {
      line.append(widths[i] - std::min(widths[i], DisplayWidth(cells[i])) + 2,
                  ' ');
    }
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  out << line << '\n';
}

const std::array<std::string, kEventColumns>& EventHeader() {
  static const std::array<std::string, kEventColumns> kHeader = {
      "SEQ", "AT", "TYPE", "SPINNER", "VERSION", "DATA"};
  return kHeader;
}

}  // namespace

EventTable::EventTable(bool streaming) {
  for (size_t i = 0; i + 1 < kEventColumns; ++i) {
    widths_.push_back(DisplayWidth(EventHeader()[i]));
  }
  if (streaming) {
    // "2024-05-01 12:00:00Z", "snapshot.registered": the widest of their
    // columns; a seq of 6 digits and a spinner of 12 letters are common.
    const size_t minimum[] = {6, 20, 19, 12, 7};
    for (size_t i = 0; i < widths_.size(); ++i) {
      widths_[i] = std::max(widths_[i], minimum[i]);
    }
  }
}

void EventTable::PrintHeader(std::ostream& out) {
  if (header_printed_) return;
  PrintEventRow(out, widths_, EventHeader());
  header_printed_ = true;
}

void EventTable::Print(std::ostream& out, const std::vector<sr::Event>& events) {
  std::vector<std::array<std::string, kEventColumns>> rows;
  rows.reserve(events.size());
  for (const sr::Event& event : events) {
    rows.push_back({std::to_string(event.seq), FormatTime(event.at),
                    event.type, OrDash(event.spinner),
                    event.version ? "v" + std::to_string(*event.version)
                                  : std::string("-"),
                    EventDataText(event)});
    for (size_t i = 0; i < widths_.size(); ++i) {
      widths_[i] = std::max(widths_[i], DisplayWidth(rows.back()[i]));
    }
  }
  PrintHeader(out);
  for (const auto& row : rows) PrintEventRow(out, widths_, row);
}

}  // namespace spr_cli
