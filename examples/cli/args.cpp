// Copyright (c) The spinner_rollback authors. See LICENSE.

#include "args.hpp"

namespace spr_cli {

namespace {

const OptionSpec* FindLong(const std::vector<OptionSpec>& specs,
                           std::string_view name) {
  for (const OptionSpec& spec : specs) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

const OptionSpec* FindShort(const std::vector<OptionSpec>& specs, char c) {
  for (const OptionSpec& spec : specs) {
    if (spec.short_name != 0 && spec.short_name == c) return &spec;
  }
  return nullptr;
}

}  // namespace

Args Args::Parse(int argc, const char* const* argv,
                 const std::vector<OptionSpec>& specs) {
  Args args;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      args.positionals_.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }

    const OptionSpec* spec = nullptr;
    std::string display;
    bool has_inline_value = false;
    std::string inline_value;
    if (arg.substr(0, 2) == "--") {
      std::string_view name = arg.substr(2);
      size_t eq = name.find('=');
      if (eq != std::string_view::npos) {
        has_inline_value = true;
        inline_value = std::string(name.substr(eq + 1));
        name = name.substr(0, eq);
      }
      spec = FindLong(specs, name);
      display = "--" + std::string(name);
    } else {
      // "-o json" or "-ojson".
      spec = FindShort(specs, arg[1]);
      display = std::string(arg.substr(0, 2));
      if (arg.size() > 2) {
        has_inline_value = true;
        inline_value = std::string(arg.substr(2));
      }
    }
    if (spec == nullptr) throw UsageError("unknown option " + display);

    std::string value;
    if (spec->takes_value) {
      if (has_inline_value) {
        value = std::move(inline_value);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        throw UsageError("option " + display + " needs a value");
      }
    } else if (has_inline_value) {
      throw UsageError("option " + display + " takes no value");
    }

    std::vector<std::string>& slot = args.values_[spec->name];
    if (!slot.empty() && !spec->repeatable) {
      throw UsageError("option --" + std::string(spec->name) +
                       " given more than once");
    }
    slot.push_back(std::move(value));
  }
  return args;
}

bool Args::Has(std::string_view name) const {
  return values_.find(name) != values_.end();
}

std::string Args::Get(std::string_view name, std::string fallback) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return fallback;
  return it->second.back();
}

std::vector<std::string> Args::GetAll(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return {};
  return it->second;
}

std::vector<std::string> Args::GivenOptions() const {
  std::vector<std::string> names;
  names.reserve(values_.size());
  for (const auto& [name, unused] : values_) names.push_back(name);
  return names;
}

}  // namespace spr_cli
