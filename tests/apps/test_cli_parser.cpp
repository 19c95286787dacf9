// The declarative parser (apps/cli.h): typed values with errors that name the option and the value, the
// suggestion threshold, the device syntax, and the help texts generated from the declarations.
#include <catch2/catch.hpp>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/usage.h"
#include "core/suggest.h"

using namespace tttlm;
using namespace tttlm::apps;

namespace {

Command sample() {
  Command c("sample", "a command for the tests");
  c.arg("IN", "an input");
  c.integer("batches", "N", "batches", 1);
  c.integer("threads", "N", "threads", 0, 64).def("0");
  c.u64("seed", "S", "a seed").def("7");
  c.number("fraction", "F", "a fraction", 0.0, 1.0, true);
  c.choice("format", "a format", {"npy", "bin", "both"}).def("both");
  c.device("device", "a device").def("cpu");
  c.text("set", "KEY=VALUE", "an override").many();
  c.text("out", "DIR", "an output").req();
  c.flag("quiet", "quiet");
  return c;
}

// ParsedArgs refers to its Command, which must outlive it (as commands() does in the program).
ParsedArgs parse(const std::vector<std::string>& args) {
  static const Command command = sample();
  return parse_args(command, args);
}

std::vector<std::string> with_in_and_out(std::vector<std::string> args) {
  args.insert(args.begin(), {"in.txt", "--out", "o"});
  return args;
}

}  // namespace

TEST_CASE("suggestions are offered for likely typos only", "[apps][suggest]") {
  const std::vector<std::string> commands = {"train", "eval", "generate", "tokenize", "info", "config", "init"};
  CHECK(suggest_nearest("trian", commands) == "train");
  CHECK(suggest_nearest("evl", commands) == "eval");
  CHECK(suggest_nearest("tokenise", commands) == "tokenize");
  CHECK(suggest_nearest("banana", commands).empty());
  CHECK(suggest_nearest("x", commands).empty());
  CHECK(suggest_nearest("hiden_size", {"hidden_size", "num_heads"}) == "hidden_size");
  CHECK(suggest_nearest("completely_unrelated", {"hidden_size", "num_heads"}).empty());
  CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("option values are typed and range-checked at parse time", "[apps][cli]") {
  ParsedArgs a = parse(with_in_and_out({"--batches", "3", "--fraction=0.5", "--set", "a.b=1", "--set=c=2", "--quiet"}));
  CHECK(a.integer("batches") == 3);
  CHECK(a.number("fraction") == 0.5);
  CHECK(a.all("set") == std::vector<std::string>{"a.b=1", "c=2"});
  CHECK(a.flag("quiet"));
  CHECK(a.integer("threads") == 0);  // declared default
  CHECK(a.u64("seed") == 7);
  CHECK(a.text("format") == "both");
  CHECK(a.device("device").is_cpu());
  CHECK(a.positional(0) == "in.txt");
  CHECK(a.has("batches"));
  CHECK_FALSE(a.has("threads"));

  CHECK_THROWS_WITH(parse(with_in_and_out({"--batches", "abc"})),
                    "[sample] --batches: 'abc' is not an integer; expected an integer >= 1");
  CHECK_THROWS_WITH(parse(with_in_and_out({"--batches", "0"})),
                    "[sample] --batches: expected an integer >= 1; found \"0\"");
  CHECK_THROWS_WITH(parse(with_in_and_out({"--batches", "99999999999999999999"})),
                    Catch::Contains("expected an integer >= 1; found \"99999999999999999999\""));
  CHECK_THROWS_WITH(parse(with_in_and_out({"--threads", "65"})), Catch::Contains("expected an integer in [0, 64]"));
  CHECK_THROWS_WITH(parse(with_in_and_out({"--seed", "-1"})),
                    Catch::Contains("--seed: expected an integer in [0, 18446744073709551615]; found \"-1\""));
  CHECK_THROWS_WITH(parse(with_in_and_out({"--fraction", "x1"})), Catch::Contains("--fraction: 'x1' is not a number"));
  CHECK_THROWS_WITH(parse(with_in_and_out({"--fraction", "1"})),
                    Catch::Contains("a finite number in [0, 1); found \"1\""));
  CHECK_THROWS_WITH(parse(with_in_and_out({"--fraction", "nan"})), Catch::Contains("found \"nan\""));
  CHECK_THROWS_WITH(parse(with_in_and_out({"--format", "bim"})),
                    Catch::Contains("--format: expected one of npy, bin, both; found \"bim\" (did you mean bin?)"));
  CHECK_THROWS_AS(parse(with_in_and_out({"--batches", "abc"})), UsageError);
}

TEST_CASE("the device option accepts cpu, cuda and cuda:N only", "[apps][cli]") {
  CHECK(parse_device("cpu", "--device").is_cpu());
  CHECK(parse_device("cuda", "--device") == cuda_device(0));
  CHECK(parse_device("cuda:3", "--device") == cuda_device(3));
  for (const char* bad : {"tpu", "gpu", "cuda:x", "cuda:", "cuda:-1", "cuda:1.5", "CPU", "cuda0", ""})
    CHECK_THROWS_WITH(parse_device(bad, "[eval] --device"),
                      Catch::Contains("[eval] --device: '" + std::string(bad) + "' is not a device") &&
                          Catch::Contains("cpu, cuda or cuda:N"));
  CHECK_THROWS_AS(parse(with_in_and_out({"--device", "cuda:x"})), UsageError);
}

TEST_CASE("command-line mistakes are usage errors with a suggestion for a likely typo", "[apps][cli]") {
  CHECK_THROWS_WITH(parse(with_in_and_out({"--batchs", "2"})),
                    "[sample] unknown option --batchs; did you mean --batches?");
  CHECK_THROWS_WITH(parse(with_in_and_out({"--elephant"})), "[sample] unknown option --elephant");
  CHECK_THROWS_WITH(parse(with_in_and_out({"-x"})), "[sample] unknown option -x");
  CHECK_THROWS_WITH(parse(with_in_and_out({"--batches"})), "[sample] --batches needs a value (N)");
  CHECK_THROWS_WITH(parse(with_in_and_out({"--quiet=yes"})), Catch::Contains("--quiet takes no value"));
  CHECK_THROWS_WITH(parse(with_in_and_out({"--batches", "1", "--batches", "2"})),
                    Catch::Contains("--batches is given more than once"));
  CHECK_THROWS_WITH(parse({"--out", "o"}), "[sample] missing argument IN");
  CHECK_THROWS_WITH(parse({"in.txt"}), "[sample] --out DIR is required");
  CHECK_THROWS_WITH(parse(with_in_and_out({"extra"})), "[sample] unexpected argument 'extra'");
  CHECK(parse({"--out", "o", "--", "--not-an-option"}).positional(0) == "--not-an-option");
  CHECK(wants_help({"x", "-h"}));
  CHECK(wants_help({"--help"}));
  CHECK_FALSE(wants_help({"--", "--help"}));
}

TEST_CASE("each command's generated help lists every declared argument and option", "[apps][usage]") {
  const std::string list = command_list_text(commands());
  for (const Command& c : commands()) {
    INFO(c.name);
    CHECK(list.find("  " + c.name + " ") != std::string::npos);
    CHECK(list.find(c.summary) != std::string::npos);
    const std::string usage = usage_text(c);
    CHECK(usage.rfind("usage: tttlm " + c.name, 0) == 0);
    for (const Positional& p : c.positionals) CHECK(usage.find(p.name) != std::string::npos);
    for (const Option& o : c.options) {
      INFO("--" + o.name);
      CHECK(usage.find("--" + o.name + (o.kind == ValueKind::flag ? "" : " " + o.metavar)) != std::string::npos);
      CHECK(usage.find(o.help) != std::string::npos);
      if (!o.default_value.empty()) CHECK(usage.find("default " + o.default_value) != std::string::npos);
    }
  }
  const std::string eval = usage_text(eval_command());
  CHECK(eval.find("--batches N") != std::string::npos);
  CHECK(eval.find("an integer >= 1") != std::string::npos);
  CHECK(eval.find("cpu, cuda or cuda:N") != std::string::npos);
  CHECK(usage_text(train_command()).find("--resume") != std::string::npos);
  CHECK(usage_text(tokenize_command()).find("FILES...") != std::string::npos);
}
