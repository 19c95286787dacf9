// The baselines in their usual Hugging Face classes: the Transformer as LlamaForCausalLM (pre-norm RMSNorm,
// SwiGLU, RoPE, no biases, tied embedding) and Mamba as MambaForCausalLM (transformers' port of mamba_ssm's
// MambaLMHeadModel). Two conventions differ from ours: torch Linear weights are (out, in) where ours are
// (in, out), and Llama's RoPE rotates dimension j with j + D/2 of each head ("rotate_half") where ours rotates
// the interleaved pair (2i, 2i + 1); the export permutes the rows of q_proj and k_proj so that both compute
// the same attention. Mamba's vocabulary is exported padded (the embedding's rows), with the unpadded size
// and max_seq_len kept in tttlm_* keys so that an import restores the exact config.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/tensor.h"
#include "layers/model_config.h"

namespace tttlm::train {

nlohmann::json llama_config(const layers::ModelConfig& c);
std::map<std::string, Tensor> to_llama(const layers::ModelConfig& c, const std::map<std::string, Tensor>& ours);
layers::ModelConfig from_llama_config(const nlohmann::json& j, const std::string& source);
std::map<std::string, Tensor> from_llama(const layers::ModelConfig& c, const std::map<std::string, Tensor>& theirs,
                                         const std::string& source);

nlohmann::json mamba_config(const layers::ModelConfig& c);
std::map<std::string, Tensor> to_mamba(const layers::ModelConfig& c, const std::map<std::string, Tensor>& ours);
layers::ModelConfig from_mamba_config(const nlohmann::json& j, const std::string& source);
std::map<std::string, Tensor> from_mamba(const layers::ModelConfig& c, const std::map<std::string, Tensor>& theirs,
                                         const std::string& source);

}  // namespace tttlm::train
