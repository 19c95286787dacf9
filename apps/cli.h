// The declarative command-line parser. Each subcommand declares its positionals and options once (name,
// value type, range, default, help text); parsing, typed error messages, "did you mean" suggestions and the
// --help text (apps/usage.h) all come from that one declaration, so the usage cannot drift from the parser.
//
// Errors in the command line itself throw UsageError (exit status 2); everything else a command throws is a
// runtime error (exit status 1). Option values are checked when the command line is parsed, before any
// file is read: "[eval] --batches: 'abc' is not an integer; expected an integer >= 1".
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/error.h"

namespace tttlm::apps {

// A mistake in the command line: unknown command or option, missing or invalid value, missing argument.
class UsageError : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};

enum class ValueKind {
  flag,     // no value
  integer,  // int64 in [min, max]
  u64,      // any integer in [0, 2^64)
  number,   // a finite double in [lo, hi] (or [lo, hi) when hi_exclusive)
  text,     // any string
  choice,   // one of `choices`
  device,   // cpu, cuda or cuda:N
};

struct Option {
  std::string name;     // "batch-size" for --batch-size
  char short_name = 0;  // 'h' for -h; 0 for none
  ValueKind kind = ValueKind::flag;
  std::string metavar;        // "N" in "--batches N"
  std::string help;           // one line, without the accepted values (generated from the kind and range)
  std::string default_value;  // the value when absent, shown by --help; "" = none
  bool required = false;
  bool repeated = false;  // may be given more than once (--set); ParsedArgs::all() returns every value
  int64_t min = std::numeric_limits<int64_t>::min(), max = std::numeric_limits<int64_t>::max();
  double lo = 0, hi = 0;
  bool hi_exclusive = false;
  std::vector<std::string> choices;

  Option& def(std::string v) {
    default_value = std::move(v);
    return *this;
  }
  Option& req() {
    required = true;
    return *this;
  }
  Option& many() {
    repeated = true;
    return *this;
  }
  Option& alias(char c) {
    short_name = c;
    return *this;
  }
};

struct Positional {
  std::string name;  // "CKPT"
  std::string help;
  bool required = true;
  bool variadic = false;  // takes every remaining argument (FILES...); must be last
};

class ParsedArgs;

struct Command {
  std::string name;
  std::string summary;               // one line, listed by `tttlm --help`
  std::vector<std::string> details;  // further lines shown by `tttlm NAME --help`
  std::vector<Positional> positionals;
  std::vector<Option> options;  // --help is added by the constructor
  std::function<int(const ParsedArgs&)> run;

  Command(std::string name, std::string summary);
  Command& arg(std::string name, std::string help, bool required = true, bool variadic = false);
  Option& flag(std::string name, std::string help);
  Option& integer(std::string name, std::string metavar, std::string help, int64_t min,
                  int64_t max = std::numeric_limits<int64_t>::max());
  Option& u64(std::string name, std::string metavar, std::string help);
  Option& number(std::string name, std::string metavar, std::string help, double lo, double hi,
                 bool hi_exclusive = false);
  Option& text(std::string name, std::string metavar, std::string help);
  Option& choice(std::string name, std::string help, std::vector<std::string> choices);
  Option& device(std::string name, std::string help);

  const Option* find(const std::string& name) const;  // by long name; nullptr when not declared
};

// What an option accepts, in words: "an integer >= 1", "one of npy, bin, both", "cpu, cuda or cuda:N".
// Empty for flags and free text. Used by both the error messages and --help.
std::string expected_text(const Option& o);

// "cpu", "cuda" (= cuda:0) or "cuda:N" with N a non-negative integer; anything else throws UsageError that
// names `what` (e.g. "[eval] --device") and the accepted forms.
Device parse_device(const std::string& value, const std::string& what);

class ParsedArgs {
 public:
  const Command& command() const { return *command_; }  // the Command parsed against; must outlive this
  bool has(const std::string& name) const;              // given on the command line
  bool flag(const std::string& name) const;
  // The value given, else the declared default. Asking for an undeclared option, or for an absent option
  // without a default (check has() first), is a bug in the command and throws std::logic_error.
  std::string text(const std::string& name) const;
  int64_t integer(const std::string& name) const;
  uint64_t u64(const std::string& name) const;
  double number(const std::string& name) const;
  Device device(const std::string& name) const;
  std::vector<std::string> all(const std::string& name) const;  // every value of a repeated option
  const std::vector<std::string>& positionals() const { return positionals_; }
  const std::string& positional(size_t i) const;  // a declared required positional (present after parsing)

 private:
  friend ParsedArgs parse_args(const Command& command, const std::vector<std::string>& args);
  const Option& declared(const std::string& name) const;
  const Command* command_ = nullptr;
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positionals_;
};

// True when `args` ask for help (-h or --help before any "--").
bool wants_help(const std::vector<std::string>& args);

// Parses the arguments after the command name; throws UsageError for unknown options (with a suggestion for
// a likely typo), missing or invalid values, options given twice, missing required options or arguments,
// and extra arguments. "--name=value" and "--name value" are both accepted; "--" ends the options.
ParsedArgs parse_args(const Command& command, const std::vector<std::string>& args);

}  // namespace tttlm::apps
