#!/usr/bin/env python3
"""Hyperscan peer for the scan benchmark: every line of NAMES as a literal, caseless, searched
in streaming mode over CORPUS in 1 MiB reads (so that memory stays flat, like vigie's).
Prints the number of matches. Usage: hs_scan.py NAMES CORPUS"""
import sys

import hyperscan

names_path, corpus_path = sys.argv[1], sys.argv[2]
with open(names_path, "rb") as fh:
    names = [line.rstrip(b"\n") for line in fh if line.strip()]
db = hyperscan.Database(mode=hyperscan.HS_MODE_STREAM)
flags = [hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH] * len(names)
db.compile(expressions=names, ids=list(range(len(names))), elements=len(names), flags=flags, literal=True)
count = 0


def on_match(_id, _start, _end, _flags, _ctx):
    global count
    count += 1


with db.stream(match_event_handler=on_match) as stream, open(corpus_path, "rb") as fh:
    while chunk := fh.read(1 << 20):
        stream.scan(chunk)
print(count)
