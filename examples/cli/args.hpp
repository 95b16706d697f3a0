// Copyright (c) The spinner_rollback authors. See LICENSE.
//
// A small command-line parser for the spinner-rollback tool: long options
// ("--name VALUE", "--name=VALUE"), a few short aliases ("-o json"), flags,
// repeatable options, positionals, and "--" to end the options.

#ifndef SPINNER_ROLLBACK_EXAMPLES_CLI_ARGS_HPP_
#define SPINNER_ROLLBACK_EXAMPLES_CLI_ARGS_HPP_

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace spr_cli {

// A mistake on the command line. The tool exits with kExitUsage.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Exit status for usage errors (sysexits.h EX_USAGE).
inline constexpr int kExitUsage = 64;

// One option the parser accepts.
struct OptionSpec {
  const char* name;   // long name without "--", e.g. "store"
  char short_name;    // e.g. 'o', or 0 for none
  bool takes_value;   // false: a flag
  bool repeatable;    // may be given more than once
};

// The parsed command line.
class Args {
 public:
  // Parses argv[1..argc). Options may appear anywhere; "-" alone is a
  // positional (standard input). Throws UsageError.
  static Args Parse(int argc, const char* const* argv,
                    const std::vector<OptionSpec>& specs);

  bool Has(std::string_view name) const;
  // The value of a single-valued option, or `fallback` when it is absent.
  std::string Get(std::string_view name, std::string fallback = {}) const;
  // Every value of a repeatable option, in order.
  std::vector<std::string> GetAll(std::string_view name) const;
  // The long names of every option given.
  std::vector<std::string> GivenOptions() const;

  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
  std::vector<std::string> positionals_;
};

}  // namespace spr_cli

#endif  // SPINNER_ROLLBACK_EXAMPLES_CLI_ARGS_HPP_
