#!/usr/bin/env python3
"""ldif.py COUNT DIR [PER-FILE]: writes the LDIF of an ldb directory with
COUNT people under ou=people,dc=example,dc=com, indexed on uid, mail and
employeeNumber (the @INDEXLIST record), the same bytes on every run, as
DIR/00.ldif (the index list and the tree's top) and DIR/01.ldif...,
PER-FILE (10000) people each. ldbadd adds a file in one transaction, and
libldb's cache of the index records a transaction changes makes one
transaction of 100,000 entries take several times as long as ten of
10,000 (7 min against 1.5 on the machine this was written on)."""
import os
import sys

count, outdir = int(sys.argv[1]), sys.argv[2]
per_file = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
os.makedirs(outdir, exist_ok=True)
out = open(os.path.join(outdir, "00.ldif"), "w")
out.write("dn: @INDEXLIST\n@IDXATTR: uid\n@IDXATTR: mail\n@IDXATTR: employeeNumber\n\n")
out.write("dn: @ATTRIBUTES\nuid: CASE_INSENSITIVE\n\n")
out.write("dn: dc=example,dc=com\nobjectClass: top\nobjectClass: domain\ndc: example\n\n")
out.write("dn: ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: people\n\n")
for i in range(count):
    if i % per_file == 0:
        out.close()
        out = open(os.path.join(outdir, f"{1 + i // per_file:02d}.ldif"), "w")
    out.write(f"dn: uid=user{i:06d},ou=people,dc=example,dc=com\n"
              f"objectClass: person\nobjectClass: inetOrgPerson\nuid: user{i:06d}\n"
              f"cn: User Number {i}\nsn: Family{i % 997}\n"
              f"mail: user{i:06d}@example.com\nemployeeNumber: {(i * 7919) % 1000003}\n"
              f"departmentNumber: {i % 50}\n\n")
out.close()
