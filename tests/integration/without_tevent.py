"""Filter for tests/integration/python-talloc.sh: reads a transcript of
talloc_report.py (addresses already removed) and prints it without what
libtevent allocates for itself, so that runs on two different libtevents
can be compared for everything else.

- lines starting with "[tevent]" are dropped;
- in the talloc report, chunks libtevent allocates for itself (struct
  tevent_*, the backends' private structs) are dropped with their subtrees;
- the byte and block totals of a chunk are kept when no such chunk was
  below it, and replaced by "(totals include tevent)" otherwise; the
  report's headline total is dropped for the same reason.

usage: without_tevent.py FILE"""
import re
import sys

REPORT_LINE = re.compile(r"^( *)(.*?) +contains +(\d+) bytes in +(\d+) blocks \(ref (\d+)\)$")
REFERENCE_LINE = re.compile(r"^( *)reference to: (.*)$")
TEVENT_OWN = re.compile(r"^struct (tevent_|epoll_event_context|poll_event_context|std_event_glue)")

lines = open(sys.argv[1], encoding="utf-8").read().splitlines()

# Parse the report into (depth, text, name) entries, with the index of each
# entry's parent, then mark what lies in a tevent subtree and which chunks
# have one below them.
entries = []  # [depth, kind, name, line]
for line in lines:
    m = REPORT_LINE.match(line)
    r = REFERENCE_LINE.match(line)
    if m:
        entries.append([len(m.group(1)) // 4, "chunk", m.group(2), line])
    elif r:
        entries.append([len(r.group(1)) // 4, "ref", r.group(2), line])
    else:
        entries.append([None, "text", None, line])

stack = []          # indices of the open chunks, by depth
in_tevent = [False] * len(entries)
tainted = [False] * len(entries)
for i, (depth, kind, name, line) in enumerate(entries):
    if depth is None:
        stack = []
        continue
    del stack[depth - 1:]   # report lines start at depth 1, below the headline
    parent_tevent = bool(stack) and in_tevent[stack[-1]]
    own = kind == "chunk" and TEVENT_OWN.match(name) is not None
    in_tevent[i] = parent_tevent or own
    if own:
        for j in stack:
            tainted[j] = True
    if kind == "chunk":
        stack.append(i)

for i, (depth, kind, name, line) in enumerate(entries):
    if kind == "text":
        if line.startswith("[tevent]"):
            continue
        if line.startswith("full talloc report on "):
            line = re.sub(r" \(total .*\)$", "", line)
        print(line)
    elif in_tevent[i]:
        continue
    elif kind == "chunk" and tainted[i]:
        m = REPORT_LINE.match(line)
        print("%s%s (totals include tevent) (ref %s)" % (m.group(1), m.group(2), m.group(5)))
    else:
        print(line)
