#!/usr/bin/env python3
"""Print the code of README.md by kind, for regress/integration/readme.sh.

usage: readme_blocks.py README KIND
KIND: yaml   the ```yaml block(s), as they stand
      cmd    every line of the indented (4-space) code blocks, one a line
      make   every "make TARGET" named in backticks or in code blocks
"""
import re
import sys

text = open(sys.argv[1], encoding="utf-8").read()
kind = sys.argv[2]
lines = text.split("\n")

fenced, indented, inside, prev_blank = [], [], None, True
for ln in lines:
    if inside is not None:
        if ln.startswith("```"):
            fenced.append(inside)
            inside = None
        else:
            inside[1].append(ln)
        continue
    if ln.startswith("```"):
        inside = (ln[3:].strip(), [])
        continue
    if ln.startswith("    ") and (prev_blank or indented and
                                  indented[-1] is not None):
        indented.append(ln[4:])
    else:
        if indented and indented[-1] is not None:
            indented.append(None)
    prev_blank = ln.strip() == ""

if kind == "yaml":
    for lang, body in fenced:
        if lang == "yaml":
            print("\n".join(body))
elif kind == "cmd":
    for c in indented:
        if c is not None and c.strip():
            print(c)
elif kind == "make":
    targets = set()
    for c in indented:
        if c is not None:
            m = re.match(r"\s*(?:[A-Z_]+=\S+\s+)*make(\s+[a-z][a-z-]*)?", c)
            if m:
                targets.add((m.group(1) or " all").strip())
    for m in re.finditer(r"`(?:[A-Z_]+=\S+\s+)*make(\s+[a-z][a-z-]*)?[^`]*`",
                         text):
        targets.add((m.group(1) or " all").strip())
    for t in sorted(targets):
        print(t)
else:
    sys.exit("unknown kind " + kind)
