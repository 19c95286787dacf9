// The machinery shared by the Hugging Face formats (train/hf_format.cpp: the official TTT model;
// train/hf_baselines.cpp: LlamaForCausalLM and MambaForCausalLM): a rule maps one of our tensors to one
// of theirs and back, and the two directions apply a rule list with every check an import needs.
#pragma once

#include <functional>
#include <map>
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

}  // namespace tttlm::train::hf
