#include "train/train_state.h"

#include "layers/low_precision.h"
#include "train/resume_state.h"

namespace tttlm::train {

namespace {

std::string model_hash(const RunConfig& c) {
  return std::to_string(std::hash<std::string>{}(c.model.to_json().dump()));
}

// Names the model keys that differ between two configs (for the resume error).
std::string model_diff(const nlohmann::json& a, const nlohmann::json& b) {
  std::string out;
  for (auto it = a.begin(); it != a.end(); ++it)
    if (!b.contains(it.key()) || b[it.key()] != *it)
      out += (out.empty() ? "" : ", ") + std::string("model.") + it.key() + " (checkpoint " +
             (b.contains(it.key()) ? b[it.key()].dump() : "absent") + ", now " + it->dump() + ")";
  return out;
}

}  // namespace

TrainState build_train_state(const RunConfig& cfg, const std::string& checkpoint_dir, Device device,
                             Communicator& comm) {
  TrainState st;
  st.model = std::make_unique<layers::CausalLM>(cfg.model);
  st.model->materialize(device, static_cast<uint64_t>(cfg.train.seed));
  on_every_rank(comm, "data", [&] { st.data = std::make_unique<TrainData>(cfg, comm.rank(), comm.world_size()); });
  CheckpointData ck;
  ResumeState resume;
  const std::string state_path = checkpoint_dir + "/state.json";
  if (!checkpoint_dir.empty()) {
    ck = load_checkpoint(checkpoint_dir);
    resume = parse_resume_state(ck.state, state_path, cfg.train.total_steps);
    const std::string diff = model_diff(cfg.model.to_json(), layers::ModelConfig::with_current_names(resume.model));
    TTT_CHECK(diff.empty(), "[train] --resume: the config changes the model of ", checkpoint_dir, ": ", diff);
    st.model->load_state_dict(ck.model, checkpoint_dir + "/model.safetensors");
    st.model->to_device(device);
  }
  st.params = st.model->parameters();
  // bf16: the matmul weights get bf16 copies, kept current by load_state_dict and after every step.
  layers::set_bf16_copies(st.params, cfg.train.precision == "bf16");
  if (cfg.parallel.zero1 && comm.world_size() > 1) st.zero = std::make_unique<Zero1>(st.params, comm);
  st.optimizer = std::make_unique<AdamW>(st.params, cfg.optimizer, st.zero ? st.zero->owned() : std::vector<bool>{});
  if (!checkpoint_dir.empty()) {
    st.optimizer->load_state_dict(ck.optimizer, checkpoint_dir + "/optimizer.safetensors");
    st.optimizer->set_count(resume.optimizer_count);
    try {
      st.data->load_state(resume.sampler);  // refuses a changed global batch, seq_len, seed or data
    } catch (const InvalidArgument& e) {
      throw InvalidArgument("[train] --resume: " + state_path + ": key 'sampler': " + e.what());
    }
    st.step = resume.step;
  }
  return st;
}

CheckpointData checkpoint_of(const TrainState& st, const RunConfig& cfg, Communicator& comm) {
  CheckpointData ck;
  ck.optimizer = st.zero ? st.zero->gather_state(*st.optimizer) : st.optimizer->state_dict();  // collective with ZeRO-1
  if (!comm.is_root()) return ck;
  ck.model = st.model->state_dict();
  ck.state = {{"step", st.step},
              {"optimizer_count", st.optimizer->count()},
              {"sampler", st.data->state()},
              {"config_hash", model_hash(cfg)},
              {"model", cfg.model.to_json()},
              {"world_size", comm.world_size()},
              {"seed", cfg.train.seed}};
  return ck;
}

}  // namespace tttlm::train
