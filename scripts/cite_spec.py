#!/usr/bin/env python3
"""Points citations of the specification at the repository's own pages under docs/spec/.

Comments, tests and docs cite the math by section: "docs/spec/ttt.md §3.7", "docs/spec/mamba.md §4",
"docs/spec/ttt.md §9 item 19", "docs/spec/data_formats.md §3". Older text used short names for the same
sections (the spec's file name without a folder, "Gotcha N" for the pitfalls list); this script rewrites
those forms in every tracked text file, keeping the section numbers, which are the same in docs/spec/.

usage: cite_spec.py [--check] [REPO_ROOT]   (default root: the directory above this script)
  --check   rewrite nothing; print every old-style citation as FILE:LINE: text and exit 1 if any
"""
import os
import re
import subprocess
import sys

SUFFIXES = (".md", ".h", ".hpp", ".cpp", ".cc", ".cu", ".cuh", ".sh", ".py", ".txt", ".cmake", ".json")
SKIP = {"scripts/cite_spec.py", "scripts/check_doc_paths.py"}  # they spell the old forms on purpose

TTT = "docs/spec/ttt.md"
MAMBA = "docs/spec/mamba.md"
DATA = "docs/spec/data_formats.md"
OLD_TTT = "ttt" + "-spec"  # split so that this file does not match its own patterns
OLD_MAMBA = "mamba" + "-spec"
PRIVATE_DIR = r"(?:/work/shared/|\.\./shared/|(?<![\w./-])shared/)"

# (pattern, replacement, also inside docs/), applied in order to each line.
RULES = [
    # a folder in front of a spec file name goes away with the old name
    (re.compile(PRIVATE_DIR + r"(?=(?:%s|%s|data|style)\.md)" % (OLD_TTT, OLD_MAMBA)), "", True),
    # the pitfalls list is §9 of the TTT page, numbered the same
    (re.compile(r"%s(?:\.md)? Gotchas? (\d+)" % OLD_TTT), TTT + r" §9 item \1", True),
    # the verification runs are described in §0
    (re.compile(r"%s(?:\.md)? V\d\b" % OLD_TTT), "the check in " + TTT + " §0", True),
    (re.compile(r"(?<![\w/.-])%s(?:\.md)?(?![\w-])" % OLD_TTT), TTT, True),
    (re.compile(r"(?<![\w/.-])%s(?:\.md)?(?![\w-])" % OLD_MAMBA), MAMBA, True),
    # the corpus list is §1 of the data page; other data.md citations keep their section number. Inside
    # docs/, a bare data.md is the docs' own page, so these two rules skip docs/.
    (re.compile(r"\bsee data\.md\b(?! §)"), "see " + DATA + " §1", False),
    (re.compile(r"(?<![\w/.-])data\.md's ((?:Llama-2?-?like )?(?:flags|settings))"), r"the \1 of " + DATA + " §2", False),
    (re.compile(r"(?<![\w/.-])data\.md(?=[\s§'),.;:]|$)"), DATA, False),
    # the op-writing section of the old style notes is the repository's op guide
    (re.compile(r"(?<![\w/.-])style\.md §4"), "docs/adding_an_op.md", True),
]
# What --check reports (and check_doc_paths.py refuses): any old name of the spec or its folder.
OLD = re.compile(r"%s|%s|(?<![\w/.-])(?:data|style)\.md|/work/shared|\.\./shared|(?<![\w./-])shared/"
                 % (OLD_TTT, OLD_MAMBA))
# data.md is only the private page outside docs/ (docs/ may hold its own data.md, cited with its folder).
DATA_RULE_DIRS_EXCLUDED = ("docs/",)


def tracked(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files"], capture_output=True, text=True, check=True).stdout
        rels = out.splitlines()
    except (OSError, subprocess.CalledProcessError):
        rels = []
        for d, dirs, names in os.walk(root):
            dirs[:] = [x for x in dirs if not x.startswith((".", "build"))]
            rels += [os.path.relpath(os.path.join(d, n), root) for n in names]
    for rel in sorted(rels):
        if rel in SKIP:
            continue
        if rel.endswith(SUFFIXES) or os.path.basename(rel) == "CMakeLists.txt":
            yield rel


def old_citations(rel, line):
    """The old-style citations in one line (data.md inside docs/ is the docs' own page)."""
    found = []
    for m in OLD.finditer(line):
        if m.group(0) == "data.md" and rel.startswith(DATA_RULE_DIRS_EXCLUDED):
            continue
        found.append(m.group(0))
    return found


def rewrite_line(rel, line):
    for pattern, repl, in_docs in RULES:
        if in_docs or not rel.startswith(DATA_RULE_DIRS_EXCLUDED):
            line = pattern.sub(repl, line)
    return line


def main():
    args = sys.argv[1:]
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    root = args[0] if args else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    findings, changed_files, changed_citations, long_lines = [], 0, 0, []
    for rel in tracked(root):
        path = os.path.join(root, rel)
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        out, dirty = [], False
        for no, line in enumerate(lines, 1):
            old = old_citations(rel, line)
            if not old:
                out.append(line)
                continue
            if check:
                findings.append(f"{rel}:{no}: {line.strip()}")
                out.append(line)
                continue
            new = rewrite_line(rel, line)
            if new != line:
                dirty = True
                changed_citations += len(old) - len(old_citations(rel, new))
                if len(new) > 120 >= len(line):
                    long_lines.append(f"{rel}:{no}: {len(new)} columns")
            for rest in old_citations(rel, new):
                findings.append(f"{rel}:{no}: not rewritten: {rest!r} in {new.strip()}")
            out.append(new)
        if dirty:
            changed_files += 1
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(out))
    for f in findings:
        print(f)
    if not check:
        print(f"cite_spec: rewrote {changed_citations} citation(s) in {changed_files} file(s)")
        for l in long_lines:
            print(f"cite_spec: now longer than 120 columns: {l}")
    if findings:
        print(f"cite_spec: {len(findings)} old-style citation(s) left")
        return 1
    if check:
        print("cite_spec: no old-style citations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
