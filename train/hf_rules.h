// The machinery shared by the Hugging Face formats (train/hf_format.cpp: the official TTT model;
// train/hf_baselines.cpp: LlamaForCausalLM and MambaForCausalLM): a rule maps one of our tensors to one
// of theirs and back, and the two directions apply a rule list with every check an import needs.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "layers/model_config.h"

namespace tttlm::train::hf {

// One tensor: our name, theirs, ours -> theirs, theirs -> ours.
struct Rule {
  std::string ours, theirs;
  std::function<Tensor(const Tensor&)> to_theirs, from_theirs;
};

Tensor same(const Tensor& x);
Tensor transpose2(const Tensor& x);     // (in, out) <-> (out, in): our Linear weights vs torch's
Tensor conv_to_torch(const Tensor& x);  // (K, C) -> (C, 1, K)
Tensor conv_from_torch(const Tensor& x);

// Ours -> theirs by `rules`; `head` (e.g. "lm_head.weight") is written as a copy of `embedding` (theirs),
// since every tttlm model ties the output head to the embedding.
std::map<std::string, Tensor> to_theirs(const std::vector<Rule>& rules, const std::map<std::string, Tensor>& ours,
                                        const std::string& embedding, const std::string& head);

// Theirs -> ours, refusing what would silently change the model: a missing tensor, an integer dtype, a
// shape the rule cannot take, an output head `head` that is not a copy of `embedding`, any tensor no rule
// uses (`config_summary` is quoted: the config keys that decide which tensors exist), and a shape that
// differs from the model `c` declares.
std::map<std::string, Tensor> from_theirs(const layers::ModelConfig& c, const std::vector<Rule>& rules,
                                          const std::map<std::string, Tensor>& theirs, const std::string& source,
                                          const std::string& embedding, const std::string& head,
                                          const std::string& config_summary);

// Typed reads of a Hugging Face config.json: a missing key or a value of the wrong type (null included) is
// an InvalidArgument naming the file, the key, the type expected and the value found.
class Keys {
 public:
  Keys(const nlohmann::json& j, std::string source);
  const nlohmann::json& get(const char* k) const;
  std::string text(const char* k) const;
  bool flag(const char* k) const;
  int64_t integer(const char* k) const;
  int64_t integer_or(const char* k, int64_t def) const { return j_.contains(k) ? integer(k) : def; }
  double number_or(const char* k, double def) const;
  // A key that must hold `want` (or be absent or null when `absent_ok`): what tttlm cannot express is refused.
  void require(const char* k, const nlohmann::json& want, bool absent_ok, const char* why) const;
  void require_absent(const char* k, const char* why) const;  // absent or null

 private:
  bool set(const char* k) const { return j_.contains(k) && !j_.at(k).is_null(); }
  const nlohmann::json& typed(const char* k, bool ok, const char* type) const;
  const nlohmann::json& j_;
  std::string source_;
};

}  // namespace tttlm::train::hf
