#!/usr/bin/env python3
"""Fails when a function defined at namespace level in hub/ is longer than LIMIT lines.

usage: check_function_size.py ROOT [LIMIT]
clang-formatted code starts such a definition at column 0 (its signature may wrap onto indented
lines) and closes it with a `}` alone at column 0; the count runs from the signature's first line
to that brace. Member functions defined inside a class body are not seen (none is long in hub/).
"""
import pathlib
import sys

root = pathlib.Path(sys.argv[1])
limit = int(sys.argv[2]) if len(sys.argv) > 2 else 80
skip = ("namespace", "struct", "class", "enum", "union", "using", "template", "#", "//", "extern")


def long_functions(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    start = None  # (line number, signature) of the definition being read
    signature = None  # a column-0 line that may open a definition in a few lines
    for number, line in enumerate(lines, 1):
        if start is not None:
            if line == "}":
                if number - start[0] + 1 > limit:
                    yield start[0], number - start[0] + 1, start[1]
                start = None
            continue
        if line[:1].isalpha() and not line.startswith(skip) and "(" in line:
            signature = (number, line)
        if signature is not None:
            if line.rstrip().endswith(";") or number - signature[0] > 5:
                signature = None
            elif line.rstrip().endswith("{"):
                start, signature = signature, None


problems = [f"{p.relative_to(root)}:{n}: {length} lines: {sig[:70]}"
            for p in sorted((root / "hub").rglob("*.cc"))
            for n, length, sig in long_functions(p)]
print("\n".join(problems + [f"{len(problems)} function(s) over {limit} lines in hub/"]))
sys.exit(1 if problems else 0)
