#!/usr/bin/env python3
"""maildir.py DIR COUNT: writes a maildir of COUNT messages to DIR (cur/,
new/, tmp/), the same bytes on every run: 40 senders, threads of up to 8
replies, fixed dates in 2010-2011, a few words from a small vocabulary per
body, every 50th message with a text attachment."""
import os
import random
import sys

out, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(14)
words = ("talloc tevent pool chunk destructor loop timer signal fd event "
         "request queue memory limit reference parent child steal realloc "
         "samba radius notmuch ctdb ldb index search tag dump").split()
people = [f"user{i:02d}@example.org" for i in range(40)]
for sub in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(out, sub), exist_ok=True)
thread_root = None
for n in range(count):
    sender = people[rng.randrange(len(people))]
    to = people[rng.randrange(len(people))]
    day = 1 + n * 600 // count
    hour = rng.randrange(24)
    mid = f"<msg{n:05d}@integration.example>"
    headers = [f"From: User {sender[:6]} <{sender}>", f"To: {to}",
               f"Message-ID: {mid}",
               f"Date: {['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][day % 7]}, "
               f"{1 + day % 28:02d} {['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][(day // 28) % 12]} "
               f"{2010 + day // 336} {hour:02d}:{n % 60:02d}:00 +0000"]
    if thread_root is not None and rng.random() < 0.6:
        headers += [f"Subject: Re: thread {thread_root}", f"In-Reply-To: <msg{thread_root:05d}@integration.example>",
                    f"References: <msg{thread_root:05d}@integration.example>"]
    else:
        thread_root = n
        headers.append(f"Subject: thread {n} about {words[n % len(words)]}")
    body = " ".join(rng.choice(words) for _ in range(12 + n % 30)) + "\n"
    if n % 50 == 0:
        headers += ["MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="b"']
        body = ("--b\nContent-Type: text/plain\n\n" + body +
                f"--b\nContent-Type: text/plain\nContent-Disposition: attachment; filename=\"notes{n}.txt\"\n\n"
                "attached " + " ".join(rng.choice(words) for _ in range(20)) + "\n--b--\n")
    sub = "cur" if n % 3 else "new"
    suffix = ":2,S" if sub == "cur" else ""
    with open(os.path.join(out, sub, f"{1262304000 + n}.{n}.integration{suffix}"), "w") as f:
        f.write("\n".join(headers) + "\n\n" + body)
