// Copyright (c) The spinner_rollback authors. See LICENSE.
//
// spinner-rollback: the operator's command-line tool over a version store.
// It uses only the public C++ API of spinner_rollback. See docs/cli.md.

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <signal.h>  // sigaction
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <spinner_rollback/spinner_rollback.hpp>

#include "args.hpp"
#include "render.hpp"

namespace spr_cli {

namespace {

namespace json = boost::json;
namespace sr = spinner_rollback;

// Inputs larger than this are refused before the library sees them.
constexpr std::size_t kMaxInputBytes = 64u << 20;

constexpr const char kUsage[] =
    R"(usage: spinner-rollback [--store PATH]
                        [--key-file F | --key HEX | --keyring ID=FILE ...]
                        [--options JSON|@FILE] [-o json|table] <command> ...

Commands:
  record SPINNER STATE.json|- [--author A] [--message M] [--request-id R]
                              [--expected-current N]
                            record a deployed state; creates a version when
                            the snapshot policy says so
  versions SPINNER [--limit N [--before N]]
                            list versions, current (*) first, with their tags
  show SPINNER N [--reveal-secrets]
                            one version with its tags, notes and full state
  diff SPINNER FROM TO      field-level changes from version FROM to TO
  plan SPINNER TARGET [--data VOLUME=current|snapshot:ID ...]
                      [--scope tracked|all|CAT[,CAT...]] [--save PLAN.json]
                            plan a rollback (read-only) and explain it
  commit PLAN.json|- [--confirm] [--author A] [--message M] [--request-id R]
                     [--expected-current N]
                            append a saved plan as a new version
  status SPINNER N active|failed|pending|superseded
                            report the rollout status of a version
  tag SPINNER N NAME [--note TEXT] [--author A] [--move]
                            pin a name on a version (never pruned); --move
                            takes the name from the version holding it
  untag SPINNER NAME        remove a tag
  note SPINNER N TEXT [--author A]
                            append a note to a version
  snapshot register SNAPSHOT.json|-
  snapshot list [VOLUME]
  snapshot delete ID        manage the volume snapshots rollbacks can use
  restore-points SPINNER VERSION
                            the snapshots that can bring back a version's
                            data, per volume: taken while it was current
                            (during) first, then before, then after
  policy check PREV.json|-|none NEXT.json|- [--policy POLICY.json]
                            would NEXT after PREV create a version?
  events [--after N] [--limit N] [--follow] [--timeout-ms N]
                            the store's changes (versions, rollbacks, status,
                            tags, notes, snapshots, pruning, imports, key
                            rotations), oldest first,
                            after seq N (default 0: from the oldest kept), at
                            most --limit (default 1000); --follow keeps
                            printing them as they come until interrupted, or
                            until --timeout-ms N passes without one
  spinners                  list the spinners in the store
  export [--spinner S] [--bundle-key HEX | --bundle-key-file F] FILE
                            write the history of every spinner (or of S)
                            and the snapshots its volumes bound to a bundle
                            file; secret values stay sealed, under the
                            bundle key (needed when there are some)
  import [--bundle-key HEX | --bundle-key-file F] FILE
                            add a bundle's spinners to the store (created if
                            missing), with their history exactly; spinners
                            already here with the same history are skipped
  migrate --to PATH|postgresql://URI [--to-key HEX | --to-key-file F]
                            copy every spinner into another store (a SQLite
                            file or a postgresql:// URI), then check every
                            version there; the target is opened with
                            --to-key[-file], else with this store's key
  rotate-key [--reseal] [--batch-size N]
                            re-wrap the store's keys under the first key of
                            --keyring, so the others can be dropped;
                            --reseal also makes a new data key and re-seals
                            every secret, N per transaction (default 500),
                            continuing an interrupted re-seal
  info [SPINNER]            rollback setting, history limit, current version
                            (no SPINNER: the store's identity and schema)
  version                   print the tool and library versions
  help [COMMAND]            print this text, or one command's synopsis

Version numbers N, FROM, TO, TARGET and VERSION may be written 3, v3,
"current" or @TAG (the version holding tag TAG).

--scope picks what a rollback takes from TARGET: "tracked" (default: the
categories the policy tracks), "all" (untracked fields too), or a comma list
of categories, e.g. image,env (everything else stays as it is now). The
categories: image, codeVersion, env, ports, securityContext, cpu, memory,
command, args, instances, mounts, configValues, secretValues.

--expected-current N writes only if the spinner's current version is N (0:
no version yet, or @TAG); otherwise SPR_E_CONFLICT and nothing is written.

Global options:
  --store PATH        the SQLite store (default: $SPR_STORE)
  --key-file F        file holding the 32-byte secret key, 64 hex digits or
                      base64 (default: $SPR_KEY_FILE)
  --key HEX           the key itself (visible to other users in ps; prefer
                      --key-file)
  --keyring ID=FILE   a keyring instead of one key: repeat it, the new key
                      first (it wraps the store's keys; any of them opens
                      the store), e.g. --keyring k2=new.key --keyring
                      k1=old.key, then rotate-key
  --options JSON      store options as JSON, or @FILE to read them from a
                      file: pricing, policy, busyTimeoutMs, durability, ...
  -o, --output FMT    "table" (default) or "json" (the library's JSON)

Exit status: 0 on success, the SPR_E_* code number on a library error (e.g.
2 for SPR_E_NOT_FOUND, 3 for SPR_E_CONFLICT), 64 on a usage error.
)";

enum class Format { kTable, kJson };

class Cli;
using Handler = void (Cli::*)(const std::vector<std::string>& operands);

// One command: its words, operand count, own options and handler.
struct Command {
  const char* name;        // "record", "snapshot register", ...
  std::size_t min_operands;
  std::size_t max_operands;
  std::vector<std::string_view> options;  // command options, long names
  Handler handler;
  const char* synopsis;    // operands and options, for usage errors
};

// "spinner-rollback show SPINNER N [--reveal-secrets]".
std::string Synopsis(const Command& command) {
  std::string text = std::string("spinner-rollback ") + command.name;
  if (*command.synopsis != '\0') text += std::string(" ") + command.synopsis;
  return text;
}

const std::vector<OptionSpec>& AllOptions() {
  static const std::vector<OptionSpec> kOptions = {
      // Global.
      {"store", 0, true, false},
      {"key-file", 0, true, false},
      {"key", 0, true, false},
      {"options", 0, true, false},
      {"output", 'o', true, false},
      {"help", 'h', false, false},
      // Per command.
      {"author", 0, true, false},
      {"message", 0, true, false},
      {"request-id", 0, true, false},
      {"reveal-secrets", 0, false, false},
      {"data", 0, true, true},
      {"scope", 0, true, false},
      {"save", 0, true, false},
      {"confirm", 0, false, false},
      {"policy", 0, true, false},
      {"limit", 0, true, false},
      {"before", 0, true, false},
      {"expected-current", 0, true, false},
      {"note", 0, true, false},
      {"move", 0, false, false},
      {"after", 0, true, false},
      {"follow", 0, false, false},
      {"timeout-ms", 0, true, false},
      {"spinner", 0, true, false},
      {"bundle-key", 0, true, false},
      {"bundle-key-file", 0, true, false},
      {"to", 0, true, false},
      {"to-key", 0, true, false},
      {"to-key-file", 0, true, false},
      {"reseal", 0, false, false},
      {"batch-size", 0, true, false},
      {"keyring", 0, true, true},
  };
  return kOptions;
}

bool IsGlobalOption(std::string_view name) {
  return name == "store" || name == "key-file" || name == "key" ||
         name == "keyring" || name == "options" || name == "output" ||
         name == "help";
}

// Reads a whole file, or standard input for "-".
std::string ReadInput(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin),
                std::istreambuf_iterator<char>());
    if (std::cin.bad()) {
      throw sr::Error(sr::ErrorCode::io, "cannot read standard input", "-");
    }
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      throw sr::Error(sr::ErrorCode::io,
                      "cannot read \"" + path + "\": " + std::strerror(errno),
                      path);
    }
    text.assign(std::istreambuf_iterator<char>(in),
                std::istreambuf_iterator<char>());
    if (in.bad()) {
      throw sr::Error(sr::ErrorCode::io, "cannot read \"" + path + "\"", path);
    }
  }
  if (text.size() > kMaxInputBytes) {
    throw sr::Error(sr::ErrorCode::invalid, "input is larger than 64 MiB",
                    path);
  }
  return text;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out << content;
  if (out) out.close();
  if (!out) {
    throw sr::Error(sr::ErrorCode::io,
                    "cannot write \"" + path + "\": " + std::strerror(errno),
                    path);
  }
}

// "3", "v3" -> 3 (0 too when `allow_zero`). "current" and "@TAG" are
// resolved by the caller.
std::int64_t ParseNumber(std::string_view text, std::string_view what,
                         bool allow_zero = false) {
  std::string_view digits = text;
  if (!digits.empty() && (digits[0] == 'v' || digits[0] == 'V')) {
    digits.remove_prefix(1);
  }
  std::int64_t number = 0;
  const char* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, number);
  if (digits.empty() || ec != std::errc() || ptr != end ||
      number < (allow_zero ? 0 : 1)) {
    if (allow_zero) {
      throw UsageError(std::string(what) +
                       " must be a version number such as 3 or v3 (0: no "
                       "version yet) or @TAG, not \"" + std::string(text) +
                       "\"");
    }
    throw UsageError(std::string(what) +
                     " must be a version number such as 3 or v3, \"current\" "
                     "or @TAG, not \"" + std::string(text) + "\"");
  }
  return number;
}

// "--scope image,env" -> the JSON the library parses: "tracked", "all", or
// an array of the comma-separated names. The library validates the names,
// so an error names the entry (path "--scope[1]").
sr::RollbackScope ParseScope(const std::string& text) {
  std::string scope_json;
  if (text == "tracked" || text == "all") {
    scope_json = json::serialize(json::string(text));
  } else {
    json::array names;
    std::size_t start = 0;
    while (true) {
      const std::size_t comma = text.find(',', start);
      names.emplace_back(text.substr(start, comma == std::string::npos
                                                ? std::string::npos
                                                : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    scope_json = json::serialize(names);
    try {
      return sr::RollbackScope::from_json(scope_json, "--scope");
    } catch (const sr::Error& e) {
      // "--scope[1]": put the entry itself in front of the message ("is not
      // a category ...", "names a category twice").
      const std::string prefix = "--scope[";
      if (e.path().rfind(prefix, 0) == 0 && e.path().back() == ']') {
        std::size_t index = 0;
        const std::string digits =
            e.path().substr(prefix.size(), e.path().size() - prefix.size() - 1);
        auto [ptr, ec] = std::from_chars(
            digits.data(), digits.data() + digits.size(), index);
        if (ec == std::errc() && ptr == digits.data() + digits.size() &&
            index < names.size()) {
          throw sr::Error(e.code(),
                          json::serialize(names[index]) + " " + e.what(),
                          e.path());
        }
      }
      throw;
    }
  }
  return sr::RollbackScope::from_json(scope_json, "--scope");
}

// "20" -> 20, for a count in 1..10000.
std::int64_t ParseLimit(std::string_view text) {
  std::int64_t n = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (text.empty() || ec != std::errc() || ptr != end || n < 1 || n > 10000) {
    throw UsageError("--limit must be a number from 1 to 10000, not \"" +
                     std::string(text) + "\"");
  }
  return n;
}

// "--after 12" -> 12: an event seq, 0 or more.
std::int64_t ParseAfter(std::string_view text) {
  std::int64_t n = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (text.empty() || ec != std::errc() || ptr != end || n < 0) {
    throw UsageError("--after must be an event seq, 0 or more (0: from the "
                     "oldest kept), not \"" + std::string(text) + "\"");
  }
  return n;
}

// "--timeout-ms 1500" -> 1500, in 0..3600000 (what wait_events takes).
std::int64_t ParseTimeoutMs(std::string_view text) {
  std::int64_t n = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (text.empty() || ec != std::errc() || ptr != end || n < 0 ||
      n > 3600000) {
    throw UsageError("--timeout-ms must be a number of milliseconds from 0 "
                     "to 3600000, not \"" + std::string(text) + "\"");
  }
  return n;
}

// "--batch-size 500" -> 500, in 1..100000 (what rotate_key takes).
std::int64_t ParseBatchSize(std::string_view text) {
  std::int64_t n = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (text.empty() || ec != std::errc() || ptr != end || n < 1 ||
      n > 100000) {
    throw UsageError("--batch-size must be a number from 1 to 100000, not \"" +
                     std::string(text) + "\"");
  }
  return n;
}

// Whether `text` looks like a key itself (64 hex digits, or 32 bytes of
// base64) rather than the path of a file.
bool LooksLikeKey(std::string_view text) {
  if (text.size() == 64 &&
      std::all_of(text.begin(), text.end(), [](unsigned char c) {
        return std::isxdigit(c) != 0;
      })) {
    return true;
  }
  if (text.size() == 43 || text.size() == 44) {
    return std::all_of(text.begin(), text.end(), [](unsigned char c) {
      return std::isalnum(c) != 0 || c == '+' || c == '/' || c == '=' ||
             c == '-' || c == '_';
    });
  }
  return false;
}

// The value of a key-file option (--key-file, --keyring ID=FILE, ...): a
// key given where its file was expected is refused without echoing it, as
// the library's "cannot read key file" error would.
void CheckKeyFileArgument(std::string_view option, const std::string& file) {
  if (file.empty()) {
    throw UsageError(std::string(option) + " needs the path of a key file");
  }
  std::error_code ec;
  if (LooksLikeKey(file) && !std::filesystem::exists(file, ec)) {
    throw UsageError(std::string(option) +
                     " takes the path of a file holding the key, not the key "
                     "itself");
  }
}

// "--keyring k2=new.key --keyring k1=old.key" -> the keyring, in order.
std::vector<sr::KeyringEntry> ParseKeyring(
    const std::vector<std::string>& values) {
  std::vector<sr::KeyringEntry> keys;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string& value = values[i];
    const std::size_t eq = value.find('=');
    // The value is not echoed: it could be a key given by mistake.
    if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) {
      throw UsageError("--keyring must be ID=FILE, a key id and the file "
                       "holding the key (--keyring #" +
                       std::to_string(i + 1) + " is not)");
    }
    sr::KeyringEntry entry;
    entry.id = value.substr(0, eq);
    entry.key_file = value.substr(eq + 1);
    CheckKeyFileArgument("--keyring " + entry.id + "=FILE", entry.key_file);
    for (const sr::KeyringEntry& other : keys) {
      if (other.id == entry.id) {
        throw UsageError("--keyring names key \"" + entry.id + "\" twice");
      }
    }
    keys.push_back(std::move(entry));
  }
  return keys;
}

// "events --follow" waits at most this long per call, so that it sees
// SIGINT and SIGTERM (which only set a flag) this soon.
constexpr std::int64_t kFollowPollMs = 500;

// Set by SIGINT and SIGTERM during "events --follow".
volatile std::sig_atomic_t g_stop_following = 0;

extern "C" void StopFollowing(int) { g_stop_following = 1; }

// A second line for errors an operator fixes on the command line.
// `command` is the command that failed ("" when none was found).
const char* Hint(const sr::Error& error, std::string_view command) {
  const std::string& path = error.path();
  switch (error.code()) {
    case sr::ErrorCode::needs_confirmation:
      return "the plan provisions a new volume: read its cost with \"plan\", "
             "then commit again with --confirm";
    case sr::ErrorCode::no_key:
      // The bundle's key is options.key / options.keyFile of the call.
      if (command == "export" && path.rfind("options.key", 0) == 0) {
        return "give a bundle key with --bundle-key-file F (32 bytes, 64 hex "
               "digits or base64); import needs the same key";
      }
      if (command == "import" && path.rfind("options.key", 0) == 0) {
        return "give the key the bundle was exported with, --bundle-key-file "
               "F; the store needs its own key too (--key-file F)";
      }
      if (command == "migrate") {
        return "the target is opened with --to-key-file F if given, else "
               "with this store's key (--key-file F or --keyring)";
      }
      if (command == "rotate-key") {
        return "open the store with --keyring NEW=FILE --keyring OLD=FILE: "
               "the new key first, then one that opens the store now";
      }
      return "give the store's key with --key-file F (or SPR_KEY_FILE), or "
             "its keyring with --keyring ID=FILE ...";
    case sr::ErrorCode::invalid:
      if (path.rfind("bundle:", 0) == 0) {
        return "the bundle is damaged or incomplete: nothing was imported; "
               "export it again";
      }
      return nullptr;
    case sr::ErrorCode::conflict:
      // Conflicts have several causes; the path tells them apart.
      if (path == "meta.expectedCurrent") {
        return "nothing was written; see the current version with "
               "\"versions SPINNER\", then decide again";
      }
      if (path == "tag.name") {
        return "add --move to move the tag to this version";
      }
      if (path.rfind("plan", 0) == 0) {
        return "the spinner changed since the plan was made: plan again";
      }
      return nullptr;
    default:
      return nullptr;
  }
}

class Cli {
 public:
  explicit Cli(Args args) : args_(std::move(args)) {}

  int Run();
  // The command being run ("" before one is found).
  const std::string& command() const { return command_; }

 private:
  sr::VersionStore& Store();
  // --store, else $SPR_STORE.
  std::string StorePath() const;
  sr::StoreOptions Options() const;
  // --bundle-key or --bundle-key-file.
  sr::BundleOptions BundleKey() const;
  std::int64_t ResolveVersion(const std::string& spinner,
                              const std::string& text, std::string_view what);
  // Who and why from --author, --message, --request-id, --confirm and
  // --expected-current (an @TAG there is resolved for `spinner`; for a
  // commit the spinner comes from the plan, so `spinner_of` is called only
  // then).
  sr::ChangeMeta Meta(const std::function<std::string()>& spinner_of);
  void PrintJson(const std::string& json_text) const;
  template <typename T>
  void PrintJsonArray(const std::vector<T>& values) const;
  bool Json() const { return format_ == Format::kJson; }

  void RecordCommand(const std::vector<std::string>& operands);
  void VersionsCommand(const std::vector<std::string>& operands);
  void ShowCommand(const std::vector<std::string>& operands);
  void DiffCommand(const std::vector<std::string>& operands);
  void PlanCommand(const std::vector<std::string>& operands);
  void CommitCommand(const std::vector<std::string>& operands);
  void StatusCommand(const std::vector<std::string>& operands);
  void TagCommand(const std::vector<std::string>& operands);
  void UntagCommand(const std::vector<std::string>& operands);
  void NoteCommand(const std::vector<std::string>& operands);
  void SnapshotRegisterCommand(const std::vector<std::string>& operands);
  void SnapshotListCommand(const std::vector<std::string>& operands);
  void SnapshotDeleteCommand(const std::vector<std::string>& operands);
  void RestorePointsCommand(const std::vector<std::string>& operands);
  void PolicyCheckCommand(const std::vector<std::string>& operands);
  void EventsCommand(const std::vector<std::string>& operands);
  // "events --follow": pages of events after `after` as they come.
  void FollowEvents(std::int64_t after, std::int64_t limit,
                    std::optional<std::int64_t> idle_timeout_ms);
  // Prints one batch of events: table rows, or one JSON object a line.
  void PrintEventBatch(const sr::EventPage& page, EventTable* table) const;
  void SpinnersCommand(const std::vector<std::string>& operands);
  void ExportCommand(const std::vector<std::string>& operands);
  void ImportCommand(const std::vector<std::string>& operands);
  void MigrateCommand(const std::vector<std::string>& operands);
  void RotateKeyCommand(const std::vector<std::string>& operands);
  void InfoCommand(const std::vector<std::string>& operands);
  void VersionCommand(const std::vector<std::string>& operands);
  void HelpCommand(const std::vector<std::string>& operands);

  static const std::vector<Command>& Commands();

  Args args_;
  std::string command_;
  Format format_ = Format::kTable;
  bool store_may_be_created_ = false;
  std::unique_ptr<sr::VersionStore> store_;
};

const std::vector<Command>& Cli::Commands() {
  static const std::vector<Command> kCommands = {
      {"record", 2, 2, {"author", "message", "request-id", "expected-current"},
       &Cli::RecordCommand,
       "SPINNER STATE.json|- [--author A] [--message M] [--request-id R] "
       "[--expected-current N]"},
      {"versions", 1, 1, {"limit", "before"}, &Cli::VersionsCommand,
       "SPINNER [--limit N [--before N]]"},
      {"show", 2, 2, {"reveal-secrets"}, &Cli::ShowCommand,
       "SPINNER N [--reveal-secrets]"},
      {"diff", 3, 3, {}, &Cli::DiffCommand, "SPINNER FROM TO"},
      {"plan", 2, 2, {"data", "scope", "save"}, &Cli::PlanCommand,
       "SPINNER TARGET [--data VOLUME=current|snapshot:ID ...] "
       "[--scope tracked|all|CAT[,CAT...]] [--save PLAN.json]"},
      {"commit", 1, 1,
       {"confirm", "author", "message", "request-id", "expected-current"},
       &Cli::CommitCommand,
       "PLAN.json|- [--confirm] [--author A] [--message M] [--request-id R] "
       "[--expected-current N]"},
      {"status", 3, 3, {}, &Cli::StatusCommand,
       "SPINNER N active|failed|pending|superseded"},
      {"tag", 3, 3, {"note", "author", "move"}, &Cli::TagCommand,
       "SPINNER N NAME [--note TEXT] [--author A] [--move]"},
      {"untag", 2, 2, {}, &Cli::UntagCommand, "SPINNER NAME"},
      {"note", 3, 3, {"author"}, &Cli::NoteCommand,
       "SPINNER N TEXT [--author A]"},
      {"snapshot register", 1, 1, {}, &Cli::SnapshotRegisterCommand,
       "SNAPSHOT.json|-"},
      {"snapshot list", 0, 1, {}, &Cli::SnapshotListCommand, "[VOLUME]"},
      {"snapshot delete", 1, 1, {}, &Cli::SnapshotDeleteCommand, "ID"},
      {"restore-points", 2, 2, {}, &Cli::RestorePointsCommand,
       "SPINNER VERSION"},
      {"policy check", 2, 2, {"policy"}, &Cli::PolicyCheckCommand,
       "PREV.json|-|none NEXT.json|- [--policy POLICY.json]"},
      {"events", 0, 0, {"after", "limit", "follow", "timeout-ms"},
       &Cli::EventsCommand,
       "[--after N] [--limit N] [--follow] [--timeout-ms N]"},
      {"spinners", 0, 0, {}, &Cli::SpinnersCommand, ""},
      {"export", 1, 1, {"spinner", "bundle-key", "bundle-key-file"},
       &Cli::ExportCommand,
       "[--spinner S] [--bundle-key HEX | --bundle-key-file F] FILE"},
      {"import", 1, 1, {"bundle-key", "bundle-key-file"}, &Cli::ImportCommand,
       "[--bundle-key HEX | --bundle-key-file F] FILE"},
      {"migrate", 0, 0, {"to", "to-key", "to-key-file"}, &Cli::MigrateCommand,
       "--to PATH|postgresql://URI [--to-key HEX | --to-key-file F]"},
      {"rotate-key", 0, 0, {"reseal", "batch-size"}, &Cli::RotateKeyCommand,
       "[--reseal] [--batch-size N]"},
      {"info", 0, 1, {}, &Cli::InfoCommand, "[SPINNER]"},
      {"version", 0, 0, {}, &Cli::VersionCommand, ""},
      {"help", 0, 1, {}, &Cli::HelpCommand, "[COMMAND]"},
  };
  return kCommands;
}

int Cli::Run() {
  const std::string output = args_.Get("output", "table");
  if (output == "json") {
    format_ = Format::kJson;
  } else if (output != "table") {
    throw UsageError("output format must be \"json\" or \"table\", not \"" +
                     output + "\"");
  }

  std::vector<std::string> words = args_.positionals();
  if (args_.Has("help") || words.empty()) {
    if (words.empty() && !args_.Has("help")) {
      throw UsageError("no command given");
    }
    std::cout << kUsage;
    return 0;
  }

  // Find the command: one word, or two for "snapshot ..." and "policy ...".
  const Command* command = nullptr;
  std::size_t command_words = 1;
  if (words[0] == "snapshot" || words[0] == "policy") {
    if (words.size() < 2) {
      throw UsageError("\"" + words[0] + "\" needs a subcommand");
    }
    command_words = 2;
  }
  std::string name = words[0];
  if (command_words == 2) name += " " + words[1];
  for (const Command& candidate : Commands()) {
    if (name == candidate.name) command = &candidate;
  }
  if (command == nullptr) throw UsageError("unknown command \"" + name + "\"");
  command_ = name;

  for (const std::string& option : args_.GivenOptions()) {
    if (IsGlobalOption(option)) continue;
    bool allowed = false;
    for (std::string_view own : command->options) allowed |= (own == option);
    if (!allowed) {
      throw UsageError("option --" + option + " does not apply to \"" + name +
                       "\"");
    }
  }

  std::vector<std::string> operands(words.begin() + command_words, words.end());
  if (operands.size() < command->min_operands ||
      operands.size() > command->max_operands) {
    throw UsageError("wrong number of arguments for \"" + name +
                     "\"\nusage: " + Synopsis(*command));
  }
  // "import" fills a new store as well as an existing one.
  store_may_be_created_ = (name == "record" || name == "snapshot register" ||
                           name == "import");
  (this->*command->handler)(operands);
  return 0;
}

sr::StoreOptions Cli::Options() const {
  sr::StoreOptions options;
  if (args_.Has("options")) {
    std::string text = args_.Get("options");
    if (!text.empty() && text[0] == '@') text = ReadInput(text.substr(1));
    options = sr::StoreOptions::from_json(text);
  }
  if (args_.Has("key") && args_.Has("key-file")) {
    throw UsageError("give --key or --key-file, not both");
  }
  if (args_.Has("keyring") && (args_.Has("key") || args_.Has("key-file"))) {
    throw UsageError("give --keyring or --key/--key-file, not both (a "
                     "keyring holds every key the store needs)");
  }
  if (args_.Has("keyring")) {
    options.keys = ParseKeyring(args_.GetAll("keyring"));
    options.key.clear();
    options.key_file.clear();
  } else if (args_.Has("key")) {
    options.key = args_.Get("key");
    options.key_file.clear();
    options.keys.clear();
  } else if (args_.Has("key-file")) {
    options.key_file = args_.Get("key-file");
    CheckKeyFileArgument("--key-file", options.key_file);
    options.key.clear();
    options.keys.clear();
  } else if (options.key.empty() && options.key_file.empty() &&
             options.keys.empty()) {
    const char* env = std::getenv("SPR_KEY_FILE");
    if (env != nullptr && *env != '\0') options.key_file = env;
  }
  return options;
}

sr::BundleOptions Cli::BundleKey() const {
  if (args_.Has("bundle-key") && args_.Has("bundle-key-file")) {
    throw UsageError("give --bundle-key or --bundle-key-file, not both");
  }
  sr::BundleOptions options;
  if (args_.Has("bundle-key")) {
    options.key = args_.Get("bundle-key");
    if (options.key.empty()) {
      throw UsageError("--bundle-key must not be empty");
    }
  } else if (args_.Has("bundle-key-file")) {
    options.key_file = args_.Get("bundle-key-file");
    CheckKeyFileArgument("--bundle-key-file", options.key_file);
  }
  return options;
}

std::string Cli::StorePath() const {
  std::string path = args_.Get("store");
  if (path.empty()) {
    const char* env = std::getenv("SPR_STORE");
    if (env != nullptr) path = env;
  }
  if (path.empty()) {
    throw UsageError("no store: give --store PATH or set SPR_STORE");
  }
  return path;
}

// A PostgreSQL URI names a server, not a file.
bool IsPostgres(std::string_view path) {
  return path.rfind("postgres://", 0) == 0 ||
         path.rfind("postgresql://", 0) == 0;
}

sr::VersionStore& Cli::Store() {
  if (store_) return *store_;
  const std::string path = StorePath();
  // Reading commands never create a store file by accident (a typo in the
  // path would otherwise show an empty history). A PostgreSQL URI names a
  // server, not a file.
  const bool postgres = IsPostgres(path);
  std::error_code ec;
  if (!store_may_be_created_ && !postgres && path != ":memory:" &&
      path.rfind("file:", 0) != 0 && !std::filesystem::exists(path, ec)) {
    throw sr::Error(sr::ErrorCode::not_found,
                    "no store at \"" + path +
                        "\"; \"record\" creates one",
                    "--store");
  }
  store_ = sr::VersionStore::open(path, Options());
  return *store_;
}

std::int64_t Cli::ResolveVersion(const std::string& spinner,
                                 const std::string& text,
                                 std::string_view what) {
  if (!text.empty() && text[0] == '@') {
    if (text.size() == 1) {
      throw UsageError(std::string(what) + " \"@\" needs a tag name, e.g. "
                       "@golden");
    }
    // An unknown tag is the library's SPR_E_NOT_FOUND.
    return Store().tagged(spinner, std::string_view(text).substr(1));
  }
  if (text != "current") return ParseNumber(text, what);
  const sr::SpinnerInfo info = Store().spinner_info(spinner);
  if (info.current_version == 0) {
    throw sr::Error(sr::ErrorCode::not_found,
                    "spinner \"" + spinner + "\" has no versions", "spinner");
  }
  return info.current_version;
}

sr::ChangeMeta Cli::Meta(const std::function<std::string()>& spinner_of) {
  sr::ChangeMeta meta;
  meta.author = args_.Get("author");
  meta.message = args_.Get("message");
  meta.request_id = args_.Get("request-id");
  if (args_.Has("request-id") && meta.request_id.empty()) {
    throw UsageError("--request-id must not be empty");
  }
  meta.confirmed = args_.Has("confirm");
  if (args_.Has("expected-current")) {
    const std::string text = args_.Get("expected-current");
    if (text == "current") {
      throw UsageError("--expected-current must name the version you expect "
                       "(a number, 0 for none, or @TAG), not \"current\"");
    }
    if (!text.empty() && text[0] == '@') {
      meta.expected_current = ResolveVersion(spinner_of(), text,
                                             "--expected-current");
    } else {
      meta.expected_current =
          ParseNumber(text, "--expected-current", /*allow_zero=*/true);
    }
  }
  return meta;
}

void Cli::PrintJson(const std::string& json_text) const {
  std::cout << json_text << '\n';
}

template <typename T>
void Cli::PrintJsonArray(const std::vector<T>& values) const {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += values[i].to_json();
  }
  out += ']';
  PrintJson(out);
}

void Cli::RecordCommand(const std::vector<std::string>& operands) {
  const std::string& spinner = operands[0];
  const std::string state = ReadInput(operands[1]);
  sr::VersionStore& store = Store();
  const sr::RecordResult result =
      store.record(spinner, state, Meta([&] { return spinner; }));
  if (Json()) {
    PrintJson(result.to_json());
    return;
  }
  std::int64_t current = 0;
  if (result.outcome == spinner_rollback::Outcome::unchanged) {
    current = store.spinner_info(spinner).current_version;
  }
  PrintRecordResult(std::cout, spinner, result, current);
}

void Cli::VersionsCommand(const std::vector<std::string>& operands) {
  // --limit pages through a long history: --before N continues below N.
  if (args_.Has("before") && !args_.Has("limit")) {
    throw UsageError("--before needs --limit");
  }
  const std::vector<sr::Version> versions =
      args_.Has("limit")
          ? Store().versions(operands[0],
                             args_.Has("before")
                                 ? ResolveVersion(operands[0], args_.Get("before"), "--before")
                                 : 0,
                             ParseLimit(args_.Get("limit")))
          : Store().versions(operands[0]);
  if (Json()) {
    PrintJsonArray(versions);
  } else {
    PrintVersions(std::cout, versions);
  }
}

void Cli::ShowCommand(const std::vector<std::string>& operands) {
  const std::string& spinner = operands[0];
  const std::int64_t number = ResolveVersion(spinner, operands[1], "N");
  const bool reveal = args_.Has("reveal-secrets");
  const sr::VersionDetail detail = Store().get(spinner, number, reveal);
  if (Json()) {
    PrintJson(detail.to_json());
  } else {
    PrintVersionDetail(std::cout, detail, reveal);
  }
}

void Cli::DiffCommand(const std::vector<std::string>& operands) {
  const std::string& spinner = operands[0];
  const std::int64_t from = ResolveVersion(spinner, operands[1], "FROM");
  const std::int64_t to = ResolveVersion(spinner, operands[2], "TO");
  const sr::Diff diff = Store().diff(spinner, from, to);
  if (Json()) {
    PrintJson(diff.to_json());
  } else {
    PrintDiff(std::cout, diff);
  }
}

void Cli::PlanCommand(const std::vector<std::string>& operands) {
  const std::string& spinner = operands[0];
  const std::int64_t target = ResolveVersion(spinner, operands[1], "TARGET");

  sr::PlanRequest plan_request;
  for (const std::string& entry : args_.GetAll("data")) {
    const std::size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw UsageError("--data must be VOLUME=current or VOLUME=snapshot:ID, "
                       "not \"" + entry + "\"");
    }
    const std::string volume = entry.substr(0, eq);
    const std::string source = entry.substr(eq + 1);
    if (plan_request.snapshots.count(volume) != 0) {
      throw UsageError("--data names volume \"" + volume + "\" twice");
    }
    if (source == "current") {
      plan_request.snapshots[volume] = "";
    } else if (source.rfind("snapshot:", 0) == 0) {
      plan_request.snapshots[volume] = source.substr(9);
    } else {
      throw UsageError("--data source must be \"current\" or \"snapshot:ID\", "
                       "not \"" + source + "\"");
    }
  }
  if (args_.Has("scope")) plan_request.scope = ParseScope(args_.Get("scope"));

  sr::RollbackPlanner planner(Store());
  const sr::Plan plan = planner.plan(spinner, target, plan_request);
  const std::string save = args_.Get("save");
  const std::string plan_json = plan.to_json();
  if (!save.empty()) WriteFile(save, plan_json + "\n");
  if (Json()) {
    PrintJson(plan_json);
    return;
  }
  PrintPlan(std::cout, plan);
  std::cout << '\n';
  if (save.empty()) {
    std::cout << "(read-only: nothing changed; plan again with --save "
                 "PLAN.json, then commit PLAN.json)\n";
  } else {
    std::cout << "saved to " << save << "; commit it with: spinner-rollback "
              << "commit " << save
              << (plan.requires_confirmation ? " --confirm" : "") << '\n';
  }
}

void Cli::CommitCommand(const std::vector<std::string>& operands) {
  sr::RollbackPlanner planner(Store());
  const std::string plan_json = ReadInput(operands[0]);
  // --expected-current @TAG names a version of the plan's spinner.
  const sr::ChangeMeta meta =
      Meta([&] { return sr::Plan::from_json(plan_json).spinner; });
  const sr::Version version = planner.commit_json(plan_json, meta);
  if (Json()) {
    PrintJson(version.to_json());
  } else {
    PrintCommitted(std::cout, version);
  }
}

void Cli::StatusCommand(const std::vector<std::string>& operands) {
  const std::string& spinner = operands[0];
  const std::int64_t number = ResolveVersion(spinner, operands[1], "N");
  sr::RolloutStatus status;
  try {
    status = sr::parse_status(operands[2]);
  } catch (const sr::Error&) {
    throw UsageError("status must be active, failed, pending or superseded, "
                     "not \"" + operands[2] + "\"");
  }
  sr::VersionStore& store = Store();
  store.set_status(spinner, number, status);
  for (const sr::Version& version : store.versions(spinner)) {
    if (version.number != number) continue;
    if (Json()) {
      PrintJson(version.to_json());
    } else {
      std::cout << "v" << number << " of " << spinner << " is now "
                << sr::to_string(version.status) << '\n';
    }
    return;
  }
}

void Cli::TagCommand(const std::vector<std::string>& operands) {
  const std::string& spinner = operands[0];
  const std::int64_t number = ResolveVersion(spinner, operands[1], "N");
  sr::TagRequest request;
  request.name = operands[2];
  request.note = args_.Get("note");
  request.author = args_.Get("author");
  request.move = args_.Has("move");
  sr::VersionStore& store = Store();
  // Which version held the name, to say where --move took it from. Any
  // error here (no such tag, a bad name) is left to tag() to report.
  std::int64_t previous = 0;
  if (request.move && !Json()) {
    try {
      previous = store.tagged(spinner, request.name);
    } catch (const sr::Error&) {
    }
  }
  const sr::Version version = store.tag(spinner, number, request);
  if (Json()) {
    PrintJson(version.to_json());
  } else {
    PrintTagged(std::cout, version, request.name,
                previous != number ? previous : 0);
  }
}

void Cli::UntagCommand(const std::vector<std::string>& operands) {
  const std::string& spinner = operands[0];
  const std::string& name = operands[1];
  sr::VersionStore& store = Store();
  // The version that held it, for the message; untag() reports an unknown
  // spinner or tag.
  std::int64_t number = 0;
  try {
    number = store.tagged(spinner, name);
  } catch (const sr::Error&) {
  }
  store.untag(spinner, name);
  if (Json()) {
    json::object out{{"spinner", spinner}, {"untagged", name}};
    if (number > 0) out["number"] = number;
    PrintJson(json::serialize(out));
  } else {
    std::cout << "removed tag " << name;
    if (number > 0) std::cout << " from v" << number;
    std::cout << " of " << spinner << '\n';
  }
}

void Cli::NoteCommand(const std::vector<std::string>& operands) {
  const std::string& spinner = operands[0];
  const std::int64_t number = ResolveVersion(spinner, operands[1], "N");
  sr::Note note;
  note.author = args_.Get("author");
  note.text = operands[2];
  const sr::VersionNotes notes = Store().annotate(spinner, number, note);
  if (Json()) {
    PrintJson(notes.to_json());
  } else {
    PrintNotes(std::cout, notes);
  }
}

void Cli::SnapshotRegisterCommand(const std::vector<std::string>& operands) {
  const sr::Snapshot snapshot =
      sr::Snapshot::from_json(ReadInput(operands[0]));
  Store().register_snapshot(snapshot);
  if (Json()) {
    PrintJson(snapshot.to_json());
  } else {
    std::cout << "registered snapshot " << snapshot.id << " of volume "
              << snapshot.volume << " (" << FormatBytes(snapshot.size_bytes)
              << ", " << (snapshot.ready ? "ready" : "not ready") << ")\n";
  }
}

void Cli::SnapshotListCommand(const std::vector<std::string>& operands) {
  const std::string volume = operands.empty() ? std::string() : operands[0];
  const std::vector<sr::Snapshot> snapshots = Store().snapshots(volume);
  if (Json()) {
    PrintJsonArray(snapshots);
  } else {
    PrintSnapshots(std::cout, snapshots);
  }
}

void Cli::SnapshotDeleteCommand(const std::vector<std::string>& operands) {
  Store().delete_snapshot(operands[0]);
  if (Json()) {
    PrintJson(json::serialize(json::object{{"deleted", operands[0]}}));
  } else {
    std::cout << "deleted snapshot " << operands[0] << '\n';
  }
}

void Cli::RestorePointsCommand(const std::vector<std::string>& operands) {
  const std::string& spinner = operands[0];
  const std::int64_t number = ResolveVersion(spinner, operands[1], "VERSION");
  const sr::RestorePoints points = Store().restore_points(spinner, number);
  if (Json()) {
    PrintJson(points.to_json());
  } else {
    PrintRestorePoints(std::cout, points);
  }
}

void Cli::PolicyCheckCommand(const std::vector<std::string>& operands) {
  if (operands[0] == "-" && operands[1] == "-") {
    throw UsageError("only one of PREV and NEXT can be read from stdin");
  }
  sr::SnapshotPolicy policy;
  if (args_.Has("policy")) {
    policy = sr::SnapshotPolicy::from_json(ReadInput(args_.Get("policy")));
  } else if (args_.Has("options")) {
    policy = Options().policy;
  }
  const std::string previous =
      operands[0] == "none" ? std::string() : ReadInput(operands[0]);
  const std::string next = ReadInput(operands[1]);
  // Validate each document alone first, so an error names its file.
  for (std::size_t i = 0; i < 2; ++i) {
    if (i == 0 && operands[0] == "none") continue;
    try {
      sr::canonical_state(i == 0 ? previous : next);
    } catch (const sr::Error& e) {
      const std::string file = operands[i] == "-" ? "stdin" : operands[i];
      throw sr::Error(e.code(), file + ": " + e.what(), e.path());
    }
  }
  const sr::Decision decision = policy.evaluate(previous, next);
  if (Json()) {
    PrintJson(decision.to_json());
  } else {
    PrintDecision(std::cout, decision);
  }
}

// Events after seq N were asked for, but the outbox no longer keeps the
// first ones (the eventsLimit store option): say so, on stderr.
void WarnIfDropped(std::int64_t after, const sr::EventPage& page) {
  if (after <= 0 || page.events.empty()) return;
  const std::int64_t first = page.events.front().seq;
  if (first <= after + 1) return;
  if (first - 1 > after + 1) {
    std::cerr << "warning: events " << after + 1 << " to " << first - 1
              << " are";
  } else {
    std::cerr << "warning: event " << after + 1 << " is";
  }
  std::cerr << " no longer kept (store option eventsLimit); continuing "
               "from seq " << first << '\n';
}

void Cli::EventsCommand(const std::vector<std::string>&) {
  const std::int64_t after =
      args_.Has("after") ? ParseAfter(args_.Get("after")) : 0;
  const std::int64_t limit =
      args_.Has("limit") ? ParseLimit(args_.Get("limit")) : 1000;
  std::optional<std::int64_t> timeout_ms;
  if (args_.Has("timeout-ms")) {
    timeout_ms = ParseTimeoutMs(args_.Get("timeout-ms"));
  }
  if (args_.Has("follow")) {
    FollowEvents(after, limit, timeout_ms);
    return;
  }
  sr::VersionStore& store = Store();
  // --timeout-ms without --follow: one page, waiting up to N ms for it.
  const sr::EventPage page = timeout_ms
                                 ? store.wait_events(after, *timeout_ms, limit)
                                 : store.events(after, limit);
  WarnIfDropped(after, page);
  if (Json()) {
    PrintJson(page.to_json());
    return;
  }
  if (page.events.empty()) {
    std::cout << "no events";
    if (after > 0) std::cout << " after seq " << after;
    std::cout << '\n';
    return;
  }
  EventTable table(/*streaming=*/false);
  table.Print(std::cout, page.events);
  if (static_cast<std::int64_t>(page.events.size()) == limit &&
      !store.events(page.next, 1).events.empty()) {
    std::cout << "(more: spinner-rollback events --after " << page.next;
    if (args_.Has("limit")) std::cout << " --limit " << limit;
    std::cout << ")\n";
  }
}

void Cli::PrintEventBatch(const sr::EventPage& page, EventTable* table) const {
  if (!Json()) {
    table->Print(std::cout, page.events);
    return;
  }
  // JSON Lines: each event as EventPage::to_json() writes it.
  const json::value parsed = json::parse(page.to_json());
  for (const json::value& event : parsed.at("events").as_array()) {
    std::cout << json::serialize(event) << '\n';
  }
}

void Cli::FollowEvents(std::int64_t after, std::int64_t limit,
                       std::optional<std::int64_t> idle_timeout_ms) {
  using Clock = std::chrono::steady_clock;
  sr::VersionStore& store = Store();
  // SIGINT and SIGTERM end the loop after the wait in progress (at most
  // kFollowPollMs), and the command exits 0; a second one kills the
  // process as usual. A signal the parent ignores stays ignored (a
  // background job of a script ignores SIGINT).
  g_stop_following = 0;
  struct sigaction action {};
  action.sa_handler = StopFollowing;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  for (const int signal_number : {SIGINT, SIGTERM}) {
    struct sigaction previous {};
    if (sigaction(signal_number, nullptr, &previous) == 0 &&
        previous.sa_handler == SIG_IGN) {
      continue;
    }
    sigaction(signal_number, &action, nullptr);
  }

  EventTable table(/*streaming=*/true);
  if (!Json()) {
    table.PrintHeader(std::cout);
    std::cout.flush();
  }
  const auto idle_timeout =
      std::chrono::milliseconds(idle_timeout_ms.value_or(0));
  auto deadline = Clock::now() + idle_timeout;
  std::int64_t next = after;
  while (g_stop_following == 0) {
    std::int64_t wait_ms = kFollowPollMs;
    if (idle_timeout_ms) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - Clock::now()).count();
      wait_ms = std::clamp<std::int64_t>(left, 0, kFollowPollMs);
    }
    sr::EventPage page;
    try {
      page = store.wait_events(next, wait_ms, limit);
    } catch (const sr::Error&) {
      // A wait cut short by the signal is the end asked for, not an error.
      if (g_stop_following != 0) break;
      throw;
    }
    if (page.events.empty()) {
      if (idle_timeout_ms && Clock::now() >= deadline) break;
      continue;
    }
    WarnIfDropped(next, page);
    PrintEventBatch(page, &table);
    std::cout.flush();
    if (!std::cout) {
      throw sr::Error(sr::ErrorCode::io, "cannot write to standard output",
                      "-");
    }
    next = page.next;
    deadline = Clock::now() + idle_timeout;
  }
}

void Cli::SpinnersCommand(const std::vector<std::string>&) {
  sr::VersionStore& store = Store();
  std::vector<sr::SpinnerInfo> infos;
  for (const std::string& name : store.spinners()) {
    infos.push_back(store.spinner_info(name));
  }
  if (Json()) {
    PrintJsonArray(infos);
  } else {
    PrintSpinners(std::cout, infos);
  }
}

void Cli::ExportCommand(const std::vector<std::string>& operands) {
  const std::string& path = operands[0];
  if (path == "-") {
    throw UsageError("export writes a bundle file: give its path, not -");
  }
  if (args_.Has("spinner") && args_.Get("spinner").empty()) {
    throw UsageError("--spinner must name a spinner");
  }
  const sr::BundleOptions key = BundleKey();
  const sr::ExportResult result =
      Store().export_bundle(args_.Get("spinner"), path, key);
  if (Json()) {
    PrintJson(result.to_json());
  } else {
    PrintExported(std::cout, result, path);
  }
}

void Cli::ImportCommand(const std::vector<std::string>& operands) {
  const std::string& path = operands[0];
  if (path == "-") {
    throw UsageError("import reads a bundle file: give its path, not -");
  }
  const sr::BundleOptions key = BundleKey();
  // An unreadable bundle is reported before a new store file is created.
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      throw sr::Error(sr::ErrorCode::io,
                      "cannot read \"" + path + "\": " + std::strerror(errno),
                      path);
    }
  }
  sr::ImportResult result;
  try {
    result = Store().import_bundle(path, key);
  } catch (const sr::Error& e) {
    // "bundle line 3: ..." names the line; say which file.
    if (e.path().rfind("bundle", 0) == 0) {
      throw sr::Error(e.code(), path + ": " + e.what(), e.path());
    }
    throw;
  }
  if (Json()) {
    PrintJson(result.to_json());
  } else {
    PrintImported(std::cout, result);
  }
}

void Cli::MigrateCommand(const std::vector<std::string>&) {
  const std::string target = args_.Get("to");
  if (target.empty()) {
    throw UsageError("migrate needs --to TARGET, a store path or a "
                     "postgresql:// URI\nusage: spinner-rollback migrate --to "
                     "PATH|postgresql://URI [--to-key HEX | --to-key-file F]");
  }
  if (args_.Has("to-key") && args_.Has("to-key-file")) {
    throw UsageError("give --to-key or --to-key-file, not both");
  }
  // The target is opened with the source's options (its key, keyring,
  // timeouts, ...) unless it has a key of its own.
  sr::StoreOptions target_options = Options();
  if (args_.Has("to-key") || args_.Has("to-key-file")) {
    target_options.key = args_.Get("to-key");
    target_options.key_file = args_.Get("to-key-file");
    target_options.keys.clear();
    if (args_.Has("to-key") && target_options.key.empty()) {
      throw UsageError("--to-key must not be empty");
    }
    if (args_.Has("to-key-file")) {
      CheckKeyFileArgument("--to-key-file", target_options.key_file);
    }
  }
  // Migrating a store into itself would verify nothing. (The target is
  // not echoed: a URI may hold a password.)
  const std::string source = StorePath();
  bool same = source == target;
  if (!same && !IsPostgres(source) && !IsPostgres(target)) {
    std::error_code ec;
    same = std::filesystem::equivalent(source, target, ec) && !ec;
  }
  if (same) throw UsageError("--to names this store itself");
  const sr::MigrateResult result = Store().migrate_to(target, target_options);
  if (Json()) {
    PrintJson(result.to_json());
  } else {
    PrintMigrated(std::cout, result);
  }
}

void Cli::RotateKeyCommand(const std::vector<std::string>&) {
  sr::RotateOptions options;
  options.reseal = args_.Has("reseal");
  if (args_.Has("batch-size")) {
    if (!options.reseal) throw UsageError("--batch-size needs --reseal");
    options.batch_size = ParseBatchSize(args_.Get("batch-size"));
  }
  const sr::RotateResult result = Store().rotate_key(options);
  if (Json()) {
    PrintJson(result.to_json());
  } else {
    PrintRotated(std::cout, result, options.reseal,
                 /*other_keys=*/args_.GetAll("keyring").size() > 1);
  }
}

void Cli::InfoCommand(const std::vector<std::string>& operands) {
  if (operands.empty()) {
    const sr::StoreInfo store = Store().info();
    if (Json()) {
      PrintJson(store.to_json());
    } else {
      PrintStoreInfo(std::cout, store);
    }
    return;
  }
  const sr::SpinnerInfo info = Store().spinner_info(operands[0]);
  if (Json()) {
    PrintJson(info.to_json());
  } else {
    PrintSpinnerInfo(std::cout, info);
  }
}

void Cli::VersionCommand(const std::vector<std::string>&) {
  if (Json()) {
    PrintJson(json::serialize(json::object{
        {"cli", SPR_VERSION_STRING}, {"library", sr::version_string()}}));
  } else {
    std::cout << "spinner-rollback " << SPR_VERSION_STRING << " (library "
              << sr::version_string() << ")\n";
  }
}

void Cli::HelpCommand(const std::vector<std::string>& operands) {
  if (operands.empty()) {
    std::cout << kUsage;
    return;
  }
  // "help snapshot" lists the three snapshot commands.
  bool found = false;
  for (const Command& command : Commands()) {
    const std::string_view name = command.name;
    if (name == operands[0] || name.rfind(operands[0] + " ", 0) == 0) {
      std::cout << "usage: " << Synopsis(command) << '\n';
      found = true;
    }
  }
  if (!found) throw UsageError("unknown command \"" + operands[0] + "\"");
}

}  // namespace

int Main(int argc, const char* const* argv) {
  std::optional<Cli> cli;
  try {
    cli.emplace(Args::Parse(argc, argv, AllOptions()));
    return cli->Run();
  } catch (const UsageError& e) {
    std::cerr << "error: " << e.what()
              << "\n(run \"spinner-rollback help\" for usage)\n";
    return kExitUsage;
  } catch (const sr::Error& e) {
    std::cerr << "error: " << e.name() << ": " << e.what();
    if (!e.path().empty()) std::cerr << " (at " << e.path() << ")";
    std::cerr << '\n';
    if (const char* hint = Hint(e, cli ? cli->command() : std::string())) {
      std::cerr << "hint: " << hint << '\n';
    }
    const int code = static_cast<int>(e.code());
    return code == 0 ? static_cast<int>(sr::ErrorCode::internal) : code;
  } catch (const std::bad_alloc&) {
    std::cerr << "error: SPR_E_INTERNAL: out of memory\n";
    return static_cast<int>(sr::ErrorCode::internal);
  } catch (const std::exception& e) {
    std::cerr << "error: SPR_E_INTERNAL: " << e.what() << '\n';
    return static_cast<int>(sr::ErrorCode::internal);
  }
}

}  // namespace spr_cli

int main(int argc, char** argv) { return spr_cli::Main(argc, argv); }
