// Reading whole files that users name (configs, config.json, state.json, the `latest` marker) with errors a
// user can act on: a missing path, a directory or an unreadable file is an InvalidArgument naming the file
// (never the standard library's "basic_filebuf::underflow"), and invalid JSON names the byte where it broke.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace tttlm {

// The bytes of a regular file. `tag` starts the message ("[config]").
std::string read_text_file(const std::string& path, const std::string& tag);

// A JSON document from a regular file; `comments` allows // and /* */ comments (configs).
nlohmann::json read_json_file(const std::string& path, const std::string& tag, bool comments = false);

}  // namespace tttlm
