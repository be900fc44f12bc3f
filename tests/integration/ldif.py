#!/usr/bin/env python3
"""ldif.py COUNT: writes to stdout an LDIF of an ldb directory with COUNT
people under ou=people,dc=example,dc=com, indexed on uid, mail and
employeeNumber (the @INDEXLIST record), the same bytes on every run."""
import sys

count = int(sys.argv[1])
out = sys.stdout
out.write("dn: @INDEXLIST\n@IDXATTR: uid\n@IDXATTR: mail\n@IDXATTR: employeeNumber\n\n")
out.write("dn: @ATTRIBUTES\nuid: CASE_INSENSITIVE\n\n")
out.write("dn: dc=example,dc=com\nobjectClass: top\nobjectClass: domain\ndc: example\n\n")
out.write("dn: ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: people\n\n")
for i in range(count):
    out.write(f"dn: uid=user{i:06d},ou=people,dc=example,dc=com\n"
              f"objectClass: person\nobjectClass: inetOrgPerson\nuid: user{i:06d}\n"
              f"cn: User Number {i}\nsn: Family{i % 997}\n"
              f"mail: user{i:06d}@example.com\nemployeeNumber: {(i * 7919) % 1000003}\n"
              f"departmentNumber: {i % 50}\n\n")
