#!/usr/bin/env python3
"""Fails if a relative link in README.md points at a file the packaged crate does not hold.

Usage: cargo package --list --allow-dirty -p sigchan | .ci/readme_links.py README.md
crates.io and docs.rs show the README from the package, so a link to a file that `exclude`
or a nested workspace member leaves out is broken there.
"""
import re
import sys

packaged = {line.strip() for line in sys.stdin if line.strip()}
readme = open(sys.argv[1]).read()
links = re.findall(r"\]\(([^)\s]+)\)", readme)
relative = [l.split("#")[0] for l in links if not re.match(r"^[a-z]+:|^#", l)]
missing = [l for l in relative if l and l not in packaged]
print(f"{len(relative)} relative links in {sys.argv[1]}, {len(packaged)} packaged files")
if missing:
    sys.exit("not in the package: " + ", ".join(missing))
