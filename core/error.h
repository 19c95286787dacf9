// Errors and checks. Library code throws; only apps/ catches, prints and exits.
// InvalidArgument: the caller's shapes, dtypes, devices, configs, files. RuntimeError: CUDA, NCCL, MPI, I/O.
// TTT_CHECK builds its message only on failure; the format is "[op] what was expected; what was got".
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace tttlm {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
class InvalidArgument : public Error {
 public:
  using Error::Error;
};
class RuntimeError : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <class... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream os;
  (os << ... << std::forward<Parts>(parts));
  return os.str();
}
}  // namespace detail

}  // namespace tttlm

// Throws tttlm::InvalidArgument with the concatenated parts when cond is false.
#define TTT_CHECK(cond, ...)                                                           \
  do {                                                                                 \
    if (!(cond)) throw ::tttlm::InvalidArgument(::tttlm::detail::concat(__VA_ARGS__)); \
  } while (0)

// Throws tttlm::RuntimeError (I/O, library failures) when cond is false.
#define TTT_CHECK_RT(cond, ...)                                                     \
  do {                                                                              \
    if (!(cond)) throw ::tttlm::RuntimeError(::tttlm::detail::concat(__VA_ARGS__)); \
  } while (0)
