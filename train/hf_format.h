// The official PyTorch TTT model's format (test-time-training/ttt-lm-pytorch, TTTForCausalLM): config.json
// with TTTConfig's keys and model.safetensors with its parameter names and shapes (PT Linear weights are
// (out, in), ours (in, out); convs [C, 1, K] vs ours (K, C); the lr gate [H, 1, C] vs (H, C); biases
// [H, 1, ·] vs (H, ·)). docs/spec/ttt.md Appendix A. Only the four TTT kinds can be expressed there.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/tensor.h"
#include "layers/model_config.h"

namespace tttlm::train {

// Ours -> PT: config.json and the renamed, transposed tensors. Throws for kinds PT cannot express.
nlohmann::json hf_config(const layers::ModelConfig& c);
std::map<std::string, Tensor> to_hf(const layers::ModelConfig& c, const std::map<std::string, Tensor>& ours);
// PT -> ours (any PT TTT weights, not only ours).
layers::ModelConfig from_hf_config(const nlohmann::json& j, const std::string& source);
std::map<std::string, Tensor> from_hf(const layers::ModelConfig& c, const std::map<std::string, Tensor>& hf,
                                      const std::string& source);

// Export in the Hugging Face class of the model's kind: TTTForCausalLM (the four TTT kinds, format above),
// LlamaForCausalLM (transformer) or MambaForCausalLM (mamba) (train/hf_baselines.h). The tokenizer
// (`tokenizer`, else the run's data.tokenizer when the checkpoint is in a run directory and the file exists)
// is copied as tokenizer.model with a tokenizer_config.json for transformers' LlamaTokenizer.
struct ExportResult {
  std::string architecture;  // "TTTForCausalLM", "LlamaForCausalLM" or "MambaForCausalLM"
  std::string tokenizer;     // the copied tokenizer.model, or "" when there was none to copy
};
ExportResult export_hf(const std::string& checkpoint_dir, const std::string& out_dir,
                       const std::string& tokenizer = "");
// Import of any of the three (config.json's model_type: "ttt" or absent, "llama", "mamba").
void import_hf(const std::string& hf_dir, const std::string& out_checkpoint_dir);

}  // namespace tttlm::train
