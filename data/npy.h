// NumPy .npy files (format versions 1.0, 2.0 and 3.0): header parsing, small-array reading and writing.
// Large token files are never read whole: parse the header here, then map the data (data/mmap_file.h).
// Only little-endian data is accepted ('<u2', '<i4', '<i8', '<f4', '<f8'); every error names the file,
// the byte offset and what was expected versus found.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"
#include "core/tensor.h"

namespace tttlm::data {

struct NpyHeader {
  int major = 1;  // format version: 1, 2 or 3
  int minor = 0;
  std::string descr;         // as written, e.g. "<u2"
  Dtype dtype = Dtype::u16;  // '<u2' u16, '<i4' i32, '<i8' i64, '<f4' f32, '<f8' f64
  bool fortran_order = false;
  std::vector<uint64_t> shape;  // () for a scalar
  uint64_t data_offset = 0;     // byte offset of element 0 (10 or 12 + HEADER_LEN; never assumed to be 128)

  uint64_t numel() const;
  uint64_t data_bytes() const { return numel() * dtype_size(dtype); }
  std::string shape_str() const;  // "(5,)", "(2, 3)", "()": Python's spelling
};

// Parses the header at the start of `bytes` (size bytes, which may extend past the header). `path` only
// names the file in errors. Throws InvalidArgument for a wrong magic, an unknown version, a header that
// runs past `size`, a malformed dict, a big-endian or unsupported dtype.
NpyHeader parse_npy_header(const uint8_t* bytes, size_t size, const std::string& path);

// Reads and parses the header of a file and checks that the file holds all data bytes
// (file size >= data_offset + data_bytes; np.save writes exactly that size).
NpyHeader read_npy_header(const std::string& path);
// The size check of read_npy_header, for callers that parsed a mapped header themselves.
void check_npy_file_size(const NpyHeader& header, uint64_t file_size, const std::string& path);

// Reads a whole (small) array into a CPU tensor of the matching dtype. Fortran order is accepted for
// arrays of rank <= 1 only (where it means nothing); other Fortran-ordered arrays are rejected.
Tensor read_npy(const std::string& path);

// The complete header (magic, version, HEADER_LEN, dict, padding, '\n') that np.save writes for this
// dtype and shape: version 1.0, the data offset a multiple of 64. dtype must be f32, f64, i32, i64 or u16.
std::string npy_header_bytes(Dtype dtype, const Shape& shape);

// Writes a contiguous CPU tensor (f32, f64, i32, i64 or u16) as .npy, byte-identical to np.save.
// The file is written to a temporary name and renamed, so readers never see a partial file.
void write_npy(const std::string& path, const Tensor& t);
// The same from raw little-endian data of numel(shape) elements.
void write_npy(const std::string& path, const void* data, Dtype dtype, const Shape& shape);

}  // namespace tttlm::data
