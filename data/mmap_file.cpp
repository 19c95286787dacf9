// Read-only mapping with POSIX mmap and temp-then-rename output files.
#include "data/mmap_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/error.h"

namespace tttlm::data {

namespace {
std::string os_error() { return std::strerror(errno); }
}  // namespace

MmapFile::MmapFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  TTT_CHECK_RT(fd >= 0, "[mmap] cannot open ", path, ": ", os_error());
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    std::string err = os_error();
    ::close(fd);
    throw RuntimeError("[mmap] cannot stat " + path + ": " + err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw RuntimeError("[mmap] " + path + " is not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  dev_ = static_cast<uint64_t>(st.st_dev);
  ino_ = static_cast<uint64_t>(st.st_ino);
  mtime_sec_ = static_cast<int64_t>(st.st_mtim.tv_sec);
  mtime_nsec_ = static_cast<int64_t>(st.st_mtim.tv_nsec);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      std::string err = os_error();
      ::close(fd);
      throw RuntimeError("[mmap] cannot map " + path + " (" + std::to_string(size_) + " bytes): " + err);
    }
    data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);  // the mapping keeps the file alive
}

MmapFile::~MmapFile() { release(); }

MmapFile::MmapFile(MmapFile&& other) noexcept
    : path_(std::move(other.path_)),
      data_(other.data_),
      size_(other.size_),
      dev_(other.dev_),
      ino_(other.ino_),
      mtime_sec_(other.mtime_sec_),
      mtime_nsec_(other.mtime_nsec_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MmapFile& MmapFile::operator=(MmapFile&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    data_ = other.data_;
    size_ = other.size_;
    dev_ = other.dev_;
    ino_ = other.ino_;
    mtime_sec_ = other.mtime_sec_;
    mtime_nsec_ = other.mtime_nsec_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

void MmapFile::release() noexcept {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
}

void MmapFile::check_unchanged() const {
  const char* advice =
      "; it changed while this process was reading it (a data file rewritten, truncated or replaced during a "
      "run). Stop the run before changing its data files, then resume it";
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0)
    throw RuntimeError("[mmap] " + path_ + ": cannot stat the mapped file (" + os_error() + ")" + advice);
  auto fail = [&](const char* field, const std::string& expected, const std::string& found) {
    throw RuntimeError("[mmap] " + path_ + ": " + field + " expected " + expected + " (when it was mapped); found " +
                       found + advice);
  };
  if (static_cast<uint64_t>(st.st_size) != size_)
    fail("size", std::to_string(size_) + " bytes", std::to_string(st.st_size) + " bytes");
  if (static_cast<uint64_t>(st.st_dev) != dev_ || static_cast<uint64_t>(st.st_ino) != ino_)
    fail("device:inode", std::to_string(dev_) + ":" + std::to_string(ino_),
         std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + " (another file)");
  if (static_cast<int64_t>(st.st_mtim.tv_sec) != mtime_sec_ || static_cast<int64_t>(st.st_mtim.tv_nsec) != mtime_nsec_)
    fail("mtime", std::to_string(mtime_sec_) + "." + std::to_string(mtime_nsec_) + " s",
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + " s (rewritten in place)");
}

uint64_t file_size(const std::string& path) {
  struct stat st;
  TTT_CHECK_RT(::stat(path.c_str(), &st) == 0, "cannot stat ", path, ": ", os_error());
  return static_cast<uint64_t>(st.st_size);
}

OutputFile::OutputFile(std::string path) : path_(std::move(path)), tmp_path_(path_ + ".tmp") {
  file_ = std::fopen(tmp_path_.c_str(), "wb");
  TTT_CHECK_RT(file_ != nullptr, "[write] cannot create ", tmp_path_, ": ", os_error());
}

OutputFile::~OutputFile() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_) std::remove(tmp_path_.c_str());
}

void OutputFile::write(const void* data, size_t n) {
  TTT_CHECK_RT(file_ != nullptr, "[write] ", path_, " was already committed");
  if (n == 0) return;
  size_t done = std::fwrite(data, 1, n, file_);
  TTT_CHECK_RT(done == n, "[write] short write to ", tmp_path_, " at byte offset ", written_ + done, ": wrote ", done,
               " of ", n, " bytes: ", os_error());
  written_ += n;
}

void OutputFile::write_at(uint64_t offset, const void* data, size_t n) {
  TTT_CHECK_RT(file_ != nullptr, "[write] ", path_, " was already committed");
  TTT_CHECK_RT(offset <= written_ && n <= written_ - offset, "[write] internal: rewrite of bytes [", offset, ", ",
               offset + n, ") of ", tmp_path_, " passes the ", written_, " bytes written");
  bool ok = ::fseeko(file_, static_cast<off_t>(offset), SEEK_SET) == 0 && std::fwrite(data, 1, n, file_) == n;
  ok = ::fseeko(file_, 0, SEEK_END) == 0 && ok;
  TTT_CHECK_RT(ok, "[write] cannot rewrite ", n, " bytes at byte offset ", offset, " of ", tmp_path_, ": ", os_error());
}

void OutputFile::commit() {
  TTT_CHECK_RT(file_ != nullptr, "[write] ", path_, " was already committed");
  bool flushed = std::fflush(file_) == 0;
  std::string err = flushed ? "" : os_error();
  bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  TTT_CHECK_RT(flushed && closed, "[write] cannot finish ", tmp_path_, " (", written_,
               " bytes): ", flushed ? os_error() : err);
  TTT_CHECK_RT(std::rename(tmp_path_.c_str(), path_.c_str()) == 0, "[write] cannot rename ", tmp_path_, " to ", path_,
               ": ", os_error());
  committed_ = true;
}

}  // namespace tttlm::data
