// Raw file access for data/: MmapFile maps a whole file read-only (64-bit sizes, never copied into RAM;
// the kernel pages it in on demand, so a 767 GB token file costs only address space), and OutputFile
// writes a file under a temporary name and renames it on commit(), so readers never see a partial file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace tttlm::data {

class MmapFile {
 public:
  // Maps `path` read-only; throws RuntimeError naming the path and the OS error. An empty file maps to
  // data() == nullptr, size() == 0.
  explicit MmapFile(const std::string& path);
  ~MmapFile();
  MmapFile(MmapFile&& other) noexcept;
  MmapFile& operator=(MmapFile&& other) noexcept;
  MmapFile(const MmapFile&) = delete;
  MmapFile& operator=(const MmapFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Throws RuntimeError naming the path and the field (device, inode, size, mtime) when the file at
  // path() is no longer the one that was mapped: truncated or rewritten in place (`cp new old`, which
  // would make reads of the mapping die with SIGBUS), replaced by another file, or removed. One stat()
  // call; safe to call from several threads. Call it before reading the mapping.
  void check_unchanged() const;

 private:
  void release() noexcept;
  std::string path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  // The identity of the file when it was mapped.
  uint64_t dev_ = 0, ino_ = 0;
  int64_t mtime_sec_ = 0, mtime_nsec_ = 0;
};

// Size of a file in bytes (64-bit); throws RuntimeError naming the path when it cannot be read.
uint64_t file_size(const std::string& path);

class OutputFile {
 public:
  // Opens "<path>.tmp" for writing; throws RuntimeError naming it on failure.
  explicit OutputFile(std::string path);
  // Removes the temporary file unless commit() succeeded. Never throws.
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Appends n bytes; throws RuntimeError naming the file on a short write (disk full, ...).
  void write(const void* data, size_t n);
  // Overwrites n bytes at byte offset `offset` (< bytes_written(), the range already written), then
  // continues appending at the end: for headers whose counts are known only when the data is done.
  void write_at(uint64_t offset, const void* data, size_t n);
  // Flushes, closes and renames the temporary file to the final path.
  void commit();
  uint64_t bytes_written() const { return written_; }

 private:
  std::string path_, tmp_path_;
  std::FILE* file_ = nullptr;
  uint64_t written_ = 0;
  bool committed_ = false;
};

}  // namespace tttlm::data
