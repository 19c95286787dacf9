// "Did you mean": the one edit-distance rule behind every suggestion tttlm makes, for config keys, enum
// values, command names and command-line options. A suggestion is offered only for a likely typo, so
// that an unrelated word gets none.
#pragma once

#include <string>
#include <vector>

namespace tttlm {

// Levenshtein distance: insertions, deletions and substitutions each cost 1.
size_t edit_distance(const std::string& a, const std::string& b);

// The candidate nearest to `word`, or "" when none is near enough to be a typo of it: the distance must be
// at most max(2, |word| / 3) and smaller than |word| (so "trian" suggests "train", "banana" nothing).
// Ties go to the earlier candidate.
std::string suggest_nearest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace tttlm
