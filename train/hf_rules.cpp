#include "train/hf_rules.h"

#include <cstring>
#include <set>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/view.h"
#include "core/shape.h"
#include "layers/causal_lm.h"

namespace tttlm::train::hf {

Tensor same(const Tensor& x) { return x; }
Tensor transpose2(const Tensor& x) { return ops::contiguous(ops::transpose(x, 0, 1)); }
Tensor conv_to_torch(const Tensor& x) { return ops::reshape(transpose2(x), {x.size(1), 1, x.size(0)}); }
Tensor conv_from_torch(const Tensor& x) { return transpose2(ops::reshape(x, {x.size(0), x.size(2)})); }

std::map<std::string, Tensor> to_theirs(const std::vector<Rule>& rules, const std::map<std::string, Tensor>& ours,
                                        const std::string& embedding, const std::string& head) {
  autograd::NoGradGuard ng;
  std::map<std::string, Tensor> out;
  for (const Rule& r : rules) {
    auto it = ours.find(r.ours);
    TTT_CHECK(it != ours.end(), "[export] missing tensor \"", r.ours, "\"");
    out[r.theirs] = ops::contiguous(r.to_theirs(it->second.detach())).detach();
  }
  out[head] = out.at(embedding);
  return out;
}

std::map<std::string, Tensor> from_theirs(const layers::ModelConfig& c, const std::vector<Rule>& rules,
                                          const std::map<std::string, Tensor>& theirs, const std::string& source,
                                          const std::string& embedding, const std::string& head,
                                          const std::string& config_summary) {
  autograd::NoGradGuard ng;
  std::map<std::string, Tensor> out;
  std::set<std::string> used;
  for (const Rule& r : rules) {
    auto it = theirs.find(r.theirs);
    TTT_CHECK(it != theirs.end(), "[import] ", source, ": missing tensor \"", r.theirs, "\"");
    const Tensor& x = it->second;
    TTT_CHECK(x.dtype() == Dtype::f32 || x.dtype() == Dtype::bf16 || x.dtype() == Dtype::f64, "[import] ", source,
              ": tensor \"", r.theirs, "\" has dtype ", dtype_name(x.dtype()), "; weights must be F32, BF16 or F64");
    try {
      out[r.ours] = ops::contiguous(ops::cast(r.from_theirs(x.detach()), Dtype::f32)).detach();
    } catch (const std::exception& e) {  // a layout change that this tensor's shape cannot take
      throw InvalidArgument("[import] " + source + ": tensor \"" + r.theirs + "\" of shape " + shape_str(x.shape()) +
                            " does not fit the model config.json describes (" + e.what() + ")");
    }
    used.insert(r.theirs);
  }
  // An untied output head would be silently dropped.
  if (auto it = theirs.find(head); it != theirs.end()) {
    const Tensor& emb = theirs.at(embedding);
    bool tied = it->second.shape() == emb.shape() && it->second.dtype() == emb.dtype() &&
                std::memcmp(it->second.data_ptr(), emb.data_ptr(), emb.nbytes()) == 0;
    TTT_CHECK(tied, "[import] ", source, ": ", head, " differs from ", embedding, "; tttlm models tie the output ",
              "head to the embedding, so an untied head cannot be imported");
    used.insert(head);
  }
  // Every tensor of the file must land somewhere: extra layers or weights of a variant the config does not
  // select mean that config.json does not describe these weights.
  std::vector<std::string> extra;
  for (const auto& [name, t] : theirs)
    if (!used.count(name)) extra.push_back(name);
  if (!extra.empty()) {
    std::string list;
    for (size_t i = 0; i < extra.size() && i < 4; ++i) list += (i ? ", " : "") + ("\"" + extra[i] + "\"");
    if (extra.size() > 4) list += " and " + std::to_string(extra.size() - 4) + " more";
    throw InvalidArgument("[import] " + source + ": " + std::to_string(extra.size()) + " tensor(s) that the config (" +
                          config_summary + ") has no place for: " + list);
  }
  // Shapes against the model that config.json declares (declared only: nothing is allocated).
  layers::CausalLM model(c);
  for (const layers::Parameter* p : model.parameters()) {
    const Tensor& t = out.at(p->name);
    TTT_CHECK(t.shape() == p->shape, "[import] ", source, ": tensor for \"", p->name, "\" has shape ",
              shape_str(t.shape()), ", but config.json's model expects ", shape_str(p->shape));
  }
  return out;
}

Keys::Keys(const nlohmann::json& j, std::string source) : j_(j), source_(std::move(source)) {
  TTT_CHECK(j.is_object(), "[import] ", source_, ": expected a JSON object; found ", j.dump().substr(0, 200));
}

const nlohmann::json& Keys::get(const char* k) const {
  TTT_CHECK(j_.contains(k), "[import] ", source_, ": config.json has no \"", k, "\"");
  return j_.at(k);
}

const nlohmann::json& Keys::typed(const char* k, bool ok, const char* type) const {
  TTT_CHECK(ok, "[import] ", source_, ": key \"", k, "\": expected ", type, "; found ", j_.at(k).dump());
  return j_.at(k);
}

std::string Keys::text(const char* k) const { return typed(k, get(k).is_string(), "a string").get<std::string>(); }
bool Keys::flag(const char* k) const { return typed(k, get(k).is_boolean(), "true or false").get<bool>(); }
int64_t Keys::integer(const char* k) const { return typed(k, get(k).is_number_integer(), "an integer").get<int64_t>(); }
double Keys::number_or(const char* k, double def) const {
  return j_.contains(k) ? typed(k, j_.at(k).is_number(), "a number").get<double>() : def;
}

void Keys::require(const char* k, const nlohmann::json& want, bool absent_ok, const char* why) const {
  if (!set(k)) {
    TTT_CHECK(absent_ok, "[import] ", source_, ": config.json has no \"", k, "\"");
    return;
  }
  TTT_CHECK(j_.at(k) == want, "[import] ", source_, ": ", k, " ", j_.at(k).dump(), " is not supported (expected ",
            want.dump(), ": ", why, ")");
}

void Keys::require_absent(const char* k, const char* why) const {
  TTT_CHECK(!set(k), "[import] ", source_, ": ", k, " ", set(k) ? j_.at(k).dump() : "", " is not supported (", why,
            ")");
}

}  // namespace tttlm::train::hf
