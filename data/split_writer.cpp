// SplitWriter (streaming .npy and .bin output with headers rewritten at the end) and the removal of stale
// outputs of an earlier tokenize.
#include "data/split_writer.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "core/error.h"
#include "data/npy.h"
#include "data/token_source.h"

namespace tttlm::data {

namespace fs = std::filesystem;

std::string bin_shard_name(const std::string& prefix, const std::string& tag, uint64_t index) {
  char num[32];
  std::snprintf(num, sizeof num, "%06llu", static_cast<unsigned long long>(index));
  return prefix + "_" + tag + "_" + num + ".bin";
}

SplitWriter::SplitWriter(const fs::path& dir, const std::string& npy_name, const std::string& bin_tag, Dtype npy_dtype,
                         const SplitWriterOptions& options)
    : dir_(dir), bin_tag_(bin_tag), npy_dtype_(npy_dtype), opt_(options) {
  TTT_CHECK(opt_.shard_tokens >= 1 && opt_.shard_tokens <= static_cast<uint64_t>(INT32_MAX),
            "[tokenize] shard_tokens must be in [1, 2^31-1] (the .bin header count is int32); got ", opt_.shard_tokens);
  if (opt_.write_npy) {
    npy_path_ = (dir_ / (npy_name + ".npy")).string();
    npy_ = std::make_unique<OutputFile>(npy_path_);
    // np.save leaves 21 - len(str(n)) spaces to grow the count in place, so the header of count 0 has the
    // length of the final one; finish() checks that and rewrites it.
    std::string header = npy_header_bytes(npy_dtype_, {0});
    npy_header_size_ = header.size();
    npy_->write(header.data(), header.size());
  }
}

void SplitWriter::append(const std::vector<int32_t>& ids, const std::string& source) {
  bool narrow = opt_.write_bin || npy_dtype_ == Dtype::u16;
  if (narrow) {
    u16_.resize(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      TTT_CHECK(ids[i] >= 0 && ids[i] <= 65535, "[tokenize] id ", ids[i], " at token ", i, " of document ", source,
                " does not fit uint16 (the .bin format and '<u2' .npy files hold ids in [0, 65535])");
      u16_[i] = static_cast<uint16_t>(ids[i]);
    }
  }
  if (npy_) {
    if (npy_dtype_ == Dtype::u16) {
      npy_->write(u16_.data(), u16_.size() * 2);
    } else {
      npy_->write(ids.data(), ids.size() * 4);
    }
  }
  if (opt_.write_bin) {
    size_t done = 0;
    while (done < u16_.size()) {
      if (!shard_) open_shard();
      uint64_t take = std::min<uint64_t>(u16_.size() - done, opt_.shard_tokens - shard_fill_);
      shard_->write(u16_.data() + done, take * 2);
      done += take;
      shard_fill_ += take;
      if (shard_fill_ == opt_.shard_tokens) close_shard();
    }
  }
  written_ += ids.size();
}

std::vector<std::string> SplitWriter::finish() {
  std::vector<std::string> files;
  if (npy_) {
    std::string header = npy_header_bytes(npy_dtype_, {static_cast<int64_t>(written_)});
    TTT_CHECK_RT(header.size() == npy_header_size_, "[tokenize] internal: the .npy header for ", written_,
                 " tokens has ", header.size(), " bytes, not the ", npy_header_size_, " reserved");
    npy_->write_at(0, header.data(), header.size());
    npy_->commit();
    npy_.reset();
    files.push_back(npy_path_);
  }
  if (shard_) close_shard();
  files.insert(files.end(), done_.begin(), done_.end());
  return files;
}

void SplitWriter::open_shard() {
  shard_path_ = (dir_ / bin_shard_name(opt_.bin_prefix, bin_tag_, shard_index_)).string();
  shard_ = std::make_unique<OutputFile>(shard_path_);
  std::string header = bin_header_bytes(0);  // the count is rewritten in close_shard()
  shard_->write(header.data(), header.size());
  shard_fill_ = 0;
}

void SplitWriter::close_shard() {
  std::string header = bin_header_bytes(shard_fill_);
  shard_->write_at(0, header.data(), header.size());
  shard_->commit();
  shard_.reset();
  done_.push_back(shard_path_);
  ++shard_index_;
}

std::vector<std::string> remove_stale_outputs(const fs::path& dir, const std::vector<std::string>& written,
                                              const std::string& bin_prefix) {
  std::set<std::string> keep;
  for (const auto& w : written) keep.insert(fs::path(w).filename().string());
  auto is_output = [&](const std::string& name) {
    if (name == "train.npy" || name == "validation.npy" || name == "test.npy") return true;
    for (const std::string tag : {"train", "val"}) {
      const std::string head = bin_prefix + "_" + tag + "_";
      if (name.size() == head.size() + 10 && name.compare(0, head.size(), head) == 0 &&
          name.compare(name.size() - 4, 4, ".bin") == 0 &&
          name.substr(head.size(), 6).find_first_not_of("0123456789") == std::string::npos)
        return true;
    }
    return false;
  };
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!keep.count(name) && is_output(name) && e.is_regular_file(ec)) removed.push_back(e.path().string());
  }
  for (const auto& path : removed) {
    TTT_CHECK_RT(fs::remove(path, ec) && !ec, "[tokenize] cannot remove the stale output ", path,
                 " of an earlier run: ", ec.message());
    fs::remove(path + ".tokcheck.json", ec);
  }
  std::sort(removed.begin(), removed.end());
  return removed;
}

}  // namespace tttlm::data
