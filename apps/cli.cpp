#include "apps/cli.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "core/suggest.h"

namespace tttlm::apps {

Command::Command(std::string n, std::string s) : name(std::move(n)), summary(std::move(s)) {
  flag("help", "print this help and exit").alias('h');
}

Command& Command::arg(std::string n, std::string help, bool required, bool variadic) {
  positionals.push_back({std::move(n), std::move(help), required, variadic});
  return *this;
}

Option& Command::flag(std::string n, std::string help) {
  Option o;
  o.name = std::move(n);
  o.help = std::move(help);
  options.push_back(std::move(o));
  return options.back();
}

Option& Command::integer(std::string n, std::string metavar, std::string help, int64_t min, int64_t max) {
  Option& o = flag(std::move(n), std::move(help));
  o.kind = ValueKind::integer;
  o.metavar = std::move(metavar);
  o.min = min;
  o.max = max;
  return o;
}

Option& Command::u64(std::string n, std::string metavar, std::string help) {
  Option& o = flag(std::move(n), std::move(help));
  o.kind = ValueKind::u64;
  o.metavar = std::move(metavar);
  return o;
}

Option& Command::number(std::string n, std::string metavar, std::string help, double lo, double hi, bool hi_exclusive) {
  Option& o = flag(std::move(n), std::move(help));
  o.kind = ValueKind::number;
  o.metavar = std::move(metavar);
  o.lo = lo;
  o.hi = hi;
  o.hi_exclusive = hi_exclusive;
  return o;
}

Option& Command::text(std::string n, std::string metavar, std::string help) {
  Option& o = flag(std::move(n), std::move(help));
  o.kind = ValueKind::text;
  o.metavar = std::move(metavar);
  return o;
}

Option& Command::choice(std::string n, std::string help, std::vector<std::string> choices) {
  Option& o = flag(std::move(n), std::move(help));
  o.kind = ValueKind::choice;
  for (const auto& c : choices) o.metavar += (o.metavar.empty() ? "" : "|") + c;
  o.choices = std::move(choices);
  return o;
}

Option& Command::device(std::string n, std::string help) {
  Option& o = flag(std::move(n), std::move(help));
  o.kind = ValueKind::device;
  o.metavar = "DEVICE";
  return o;
}

const Option* Command::find(const std::string& n) const {
  for (const auto& o : options)
    if (o.name == n) return &o;
  return nullptr;
}

std::string expected_text(const Option& o) {
  switch (o.kind) {
    case ValueKind::integer:
      if (o.max == std::numeric_limits<int64_t>::max()) return "an integer >= " + std::to_string(o.min);
      return "an integer in [" + std::to_string(o.min) + ", " + std::to_string(o.max) + "]";
    case ValueKind::u64:
      return "an integer in [0, 18446744073709551615]";
    case ValueKind::number: {
      char buf[96];
      std::snprintf(buf, sizeof buf, "a finite number in [%g, %g%s", o.lo, o.hi, o.hi_exclusive ? ")" : "]");
      return buf;
    }
    case ValueKind::choice: {
      std::string list;
      for (const auto& c : o.choices) list += (list.empty() ? "" : ", ") + c;
      return "one of " + list;
    }
    case ValueKind::device:
      return "cpu, cuda or cuda:N (N = 0, 1, ...)";
    case ValueKind::flag:
    case ValueKind::text:
      return "";
  }
  return "";
}

Device parse_device(const std::string& v, const std::string& what) {
  if (v == "cpu") return cpu_device();
  if (v == "cuda") return cuda_device(0);
  if (v.rfind("cuda:", 0) == 0) {
    const std::string n = v.substr(5);
    int index = -1;
    auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), index);
    if (!n.empty() && ec == std::errc() && end == n.data() + n.size() && index >= 0) return cuda_device(index);
  }
  throw UsageError(what + ": '" + v + "' is not a device; expected cpu, cuda or cuda:N (N = 0, 1, ...)");
}

namespace {

std::string where(const Command& c, const Option& o) { return "[" + c.name + "] --" + o.name; }

[[noreturn]] void out_of_range(const Command& c, const Option& o, const std::string& v) {
  throw UsageError(where(c, o) + ": expected " + expected_text(o) + "; found \"" + v + "\"");
}

[[noreturn]] void not_a(const Command& c, const Option& o, const char* type, const std::string& v) {
  throw UsageError(where(c, o) + ": '" + v + "' is not " + type + "; expected " + expected_text(o));
}

// An optional '-' and digits: an integer in syntax (its range is checked separately).
bool integer_syntax(const std::string& v) {
  size_t i = !v.empty() && v[0] == '-' ? 1 : 0;
  if (i == v.size()) return false;
  for (; i < v.size(); ++i)
    if (v[i] < '0' || v[i] > '9') return false;
  return true;
}

// Checks `v` against the option's kind and range; throws UsageError naming the option and the value.
void check_value(const Command& c, const Option& o, const std::string& v) {
  switch (o.kind) {
    case ValueKind::integer: {
      if (!integer_syntax(v)) not_a(c, o, "an integer", v);
      int64_t x = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
      if (ec != std::errc() || x < o.min || x > o.max) out_of_range(c, o, v);
      return;
    }
    case ValueKind::u64: {
      if (!integer_syntax(v)) not_a(c, o, "an integer", v);
      uint64_t x = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
      if (v[0] == '-' || ec != std::errc()) out_of_range(c, o, v);
      return;
    }
    case ValueKind::number: {
      char* end = nullptr;
      const double x = v.empty() ? 0.0 : std::strtod(v.c_str(), &end);
      if (v.empty() || end != v.c_str() + v.size()) not_a(c, o, "a number", v);
      if (!std::isfinite(x) || x < o.lo || x > o.hi || (o.hi_exclusive && x == o.hi)) out_of_range(c, o, v);
      return;
    }
    case ValueKind::choice: {
      for (const auto& ch : o.choices)
        if (v == ch) return;
      const std::string near = suggest_nearest(v, o.choices);
      throw UsageError(where(c, o) + ": expected " + expected_text(o) + "; found \"" + v + "\"" +
                       (near.empty() ? "" : " (did you mean " + near + "?)"));
    }
    case ValueKind::device:
      parse_device(v, where(c, o));
      return;
    case ValueKind::flag:
    case ValueKind::text:
      return;
  }
}

[[noreturn]] void unknown_option(const Command& c, const std::string& arg) {
  std::vector<std::string> names;
  for (const auto& o : c.options) names.push_back("--" + o.name);
  std::string name = arg.substr(0, arg.find('='));
  std::string near = suggest_nearest(name.rfind("--", 0) == 0 ? name : "-" + name, names);
  throw UsageError("[" + c.name + "] unknown option " + name + (near.empty() ? "" : "; did you mean " + near + "?"));
}

}  // namespace

bool wants_help(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--") return false;
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

ParsedArgs parse_args(const Command& c, const std::vector<std::string>& args) {
  ParsedArgs p;
  p.command_ = &c;
  bool options_ended = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_ended || a == "-" || a.empty() || a[0] != '-') {
      p.positionals_.push_back(a);
      continue;
    }
    if (a == "--") {
      options_ended = true;
      continue;
    }
    const Option* o = nullptr;
    std::string value;
    bool inline_value = false;
    if (a.rfind("--", 0) == 0) {
      const size_t eq = a.find('=');
      o = c.find(a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2));
      if (eq != std::string::npos) {
        value = a.substr(eq + 1);
        inline_value = true;
      }
    } else if (a.size() == 2) {
      for (const auto& opt : c.options)
        if (opt.short_name == a[1]) o = &opt;
    }
    if (!o) unknown_option(c, a);
    if (o->kind == ValueKind::flag) {
      if (inline_value) throw UsageError("[" + c.name + "] --" + o->name + " takes no value; found \"" + a + "\"");
    } else if (!inline_value) {
      if (i + 1 >= args.size())
        throw UsageError("[" + c.name + "] --" + o->name + " needs a value (" + o->metavar + ")");
      value = args[++i];
    }
    auto& slot = p.values_[o->name];
    if (!slot.empty() && !o->repeated) throw UsageError("[" + c.name + "] --" + o->name + " is given more than once");
    check_value(c, *o, value);
    slot.push_back(value);
  }
  for (const auto& o : c.options)
    if (o.required && !p.values_.count(o.name))
      throw UsageError("[" + c.name + "] --" + o.name + " " + o.metavar + " is required");
  size_t needed = 0;
  bool variadic = false;
  for (const auto& pos : c.positionals) {
    needed += pos.required ? 1 : 0;
    variadic = variadic || pos.variadic;
  }
  if (p.positionals_.size() < needed)
    throw UsageError("[" + c.name + "] missing argument " + c.positionals[p.positionals_.size()].name);
  if (!variadic && p.positionals_.size() > c.positionals.size())
    throw UsageError("[" + c.name + "] unexpected argument '" + p.positionals_[c.positionals.size()] + "'");
  return p;
}

const Option& ParsedArgs::declared(const std::string& name) const {
  const Option* o = command_->find(name);
  if (!o) throw std::logic_error("[" + command_->name + "] asks for undeclared option --" + name);
  return *o;
}

bool ParsedArgs::has(const std::string& name) const {
  declared(name);
  return values_.count(name) > 0;
}

bool ParsedArgs::flag(const std::string& name) const { return has(name); }

std::string ParsedArgs::text(const std::string& name) const {
  const Option& o = declared(name);
  auto it = values_.find(name);
  return it == values_.end() ? o.default_value : it->second.back();
}

namespace {
std::string value_or_default(const ParsedArgs& p, const Option& o, const std::string& v) {
  if (v.empty() && !p.has(o.name))
    throw std::logic_error("[" + p.command().name + "] --" + o.name + " is absent and declares no default");
  return v;
}
}  // namespace

int64_t ParsedArgs::integer(const std::string& name) const {
  const std::string v = value_or_default(*this, declared(name), text(name));
  return std::strtoll(v.c_str(), nullptr, 10);
}

uint64_t ParsedArgs::u64(const std::string& name) const {
  const std::string v = value_or_default(*this, declared(name), text(name));
  return std::strtoull(v.c_str(), nullptr, 10);
}

double ParsedArgs::number(const std::string& name) const {
  const std::string v = value_or_default(*this, declared(name), text(name));
  return std::strtod(v.c_str(), nullptr);
}

Device ParsedArgs::device(const std::string& name) const {
  const std::string v = value_or_default(*this, declared(name), text(name));
  return parse_device(v, "[" + command_->name + "] --" + name);
}

std::vector<std::string> ParsedArgs::all(const std::string& name) const {
  declared(name);
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

const std::string& ParsedArgs::positional(size_t i) const {
  if (i >= positionals_.size())
    throw std::logic_error("[" + command_->name + "] asks for positional " + std::to_string(i) + " which is absent");
  return positionals_[i];
}

}  // namespace tttlm::apps
