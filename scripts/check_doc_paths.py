#!/usr/bin/env python3
"""Every repository path named in tttlm's docs, code comments and scripts exists: tokens such as
docs/xyz.md, scripts/foo.py, configs/..., bench/... in *.md, *.h, *.cpp, *.cu, *.sh, *.py and CMake files,
relative to the repository root. URLs, absolute paths, templates (<op>, *, $VAR, {x}) and generated
outputs are skipped. Also, no text points at a tracker's issue numbers ("issue 12", "task 7", "#12") or at
documents outside the repository (the developers' private spec files and their folder): the repository has
to stand alone, and the math is cited from docs/spec/ (scripts/cite_spec.py rewrites old citations).
Prints each finding as FILE:LINE: ... and exits 1 when there is any.

usage: check_doc_paths.py [REPO_ROOT]   (default: the directory above this script)
"""
import os
import re
import subprocess
import sys

SUFFIXES = (".md", ".h", ".cpp", ".cu", ".sh", ".py", ".txt", ".cmake")
# A path starts with one of the repository's top-level folders and is not the tail of a longer path or URL.
TOP = ("apps", "autograd", "bench", "configs", "core", "cudaemu", "docs", "fuzz", "kernels", "layers", "scripts",
       "tests", "train")
PATH_RE = re.compile(r"(?<![\w./:~$-])((?:%s)/[\w./-]*[\w/])" % "|".join(TOP))
TEMPLATE_CHARS = set("<>*{}$%")
# Words in capitals stand for a value (configs/models/KIND-SIZE.json); README and LICENSE are names.
PLACEHOLDER_RE = re.compile(r"(?<![A-Za-z])(?!README|LICENSE)[A-Z]{3,}(?![A-Za-z])")
# Prose that looks like a path.
PROSE = {"train/eval"}
# Outputs that commands write (not sources): the bench binaries' result files are checked in, so only
# names under these prefixes are skipped.
ISSUE_RE = re.compile(r"\b(?:issues?|tasks?|tickets?)\s?#?\d+\b|(?<![&\w#])#\d+\b", re.IGNORECASE)
GENERATED = ("tests/data/out", "bench/results/raw")
# Documents users do not have: the private spec files by their old names, and the folder they lived in. A bare
# data.md outside docs/ is the private one (docs/ may have its own data.md). scripts/cite_spec.py names them
# on purpose.
PRIVATE_RE = re.compile(r"ttt-spec|mamba-spec|\.\./shared|(?<![\w.-])shared/|(?<![\w/.-])style\.md")
PRIVATE_DATA_RE = re.compile(r"(?<![\w/.-])data\.md")
PRIVATE_OK = ("scripts/cite_spec.py",)


def files(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files"], capture_output=True, text=True, check=True).stdout
        rels = out.splitlines()
    except (OSError, subprocess.CalledProcessError):  # a copy without git: every file but build folders
        rels = []
        for d, dirs, names in os.walk(root):
            dirs[:] = [x for x in dirs if not x.startswith((".", "build"))]
            rels += [os.path.relpath(os.path.join(d, n), root) for n in names]
    for rel in rels:
        if rel == "scripts/check_doc_paths.py":
            continue  # its own examples
        if rel.endswith(SUFFIXES) or os.path.basename(rel) == "CMakeLists.txt":
            yield rel


def candidates(line):
    for m in PATH_RE.finditer(line):
        path = m.group(1).rstrip(".")
        word = re.match(r"[^\s`'\"(),;]*", line[m.start(1):]).group(0)
        if TEMPLATE_CHARS & set(word) or PLACEHOLDER_RE.search(path) or path in PROSE:
            continue  # e.g. tests/ops/test_<op>.cpp, bench/results/gpu-<device>.txt, configs/KIND.json
        if path.startswith(GENERATED):
            continue
        # autograd/ops/norm.h/.cpp names two files
        both = re.fullmatch(r"(.*)\.(\w+)/\.(\w+)", path)
        if both:
            yield f"{both.group(1)}.{both.group(2)}"
            yield f"{both.group(1)}.{both.group(3)}"
            continue
        yield path


def private_reference(rel, line):
    """The first reference to a document outside the repository in `line` of file `rel`, or None."""
    if rel in PRIVATE_OK:
        return None
    m = PRIVATE_RE.search(line) or (None if rel.startswith("docs/") else PRIVATE_DATA_RE.search(line))
    return m.group(0) if m else None


def self_test():
    """What counts as a reference: checked on sample lines."""
    cases = {
        "see docs/distributed.md, and scripts/sweep.py.": ["docs/distributed.md", "scripts/sweep.py"],
        "https://github.com/x/y/docs/a.md /work/data/docs/b.md": [],
        "tests/ops/test_<op>.cpp configs/models/KIND-SIZE.json bench/results/gpu-<device>.txt": [],
        "(autograd/ops/norm.h/.cpp)": ["autograd/ops/norm.h", "autograd/ops/norm.cpp"],
        "`bench/results/README.md`": ["bench/results/README.md"],
    }
    for line, found in {"(issue 6)": True, "task 7 and #12": True, "#include <x>": False, "&#39;": False}.items():
        if bool(ISSUE_RE.search(line)) != found:
            print(f"self-test: {line!r}: expected an issue reference: {found}")
            return 1
    private = {("kernels/x.h", "(ttt-spec §3.7)"): True, ("kernels/x.h", "mamba-spec.md"): True,
               ("scripts/x.py", "/work/shared/x"): True, ("README.md", "../shared/design"): True,
               ("data/x.h", "data.md §3"): True, ("docs/a.md", "see data.md"): False,
               ("data/x.h", "docs/data.md"): False, ("kernels/x.h", "docs/spec/ttt.md §3.7"): False,
               ("core/x.h", "std::shared_ptr"): False, ("kernels/x.h", "shared/ memory"): True}
    for (rel, line), found in private.items():
        if bool(private_reference(rel, line)) != found:
            print(f"self-test: {rel}: {line!r}: expected a private-document reference: {found}")
            return 1
    for line, want in cases.items():
        got = list(candidates(line))
        if got != want:
            print(f"self-test: {line!r}: expected {want}, found {got}")
            return 1
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--self-test":
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    missing = []
    for rel in files(root):
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            for no, line in enumerate(f, 1):
                for path in candidates(line):
                    if not os.path.exists(os.path.join(root, path)):
                        missing.append(f"{rel}:{no}: {path} does not exist")
                issue = ISSUE_RE.search(line)
                if issue and not rel.startswith("tests/golden/"):
                    missing.append(f"{rel}:{no}: \"{issue.group(0)}\" points at an issue tracker")
                private = private_reference(rel, line)
                if private:
                    missing.append(f"{rel}:{no}: \"{private}\" cites a document users do not have (cite docs/spec/; "
                                   "scripts/cite_spec.py rewrites old citations)")
    for m in missing:
        print(m)
    if missing:
        print(f"check_doc_paths: {len(missing)} finding(s) in {root}")
        return 1
    print("check_doc_paths: every referenced path exists; no issue numbers; no private documents cited")
    return 0


if __name__ == "__main__":
    sys.exit(main())
