#!/usr/bin/env python3
"""Compile checks of compat/talloc.h.

1. header_c.c / header_cpp.cpp (which use every macro) compile without a
   single warning under -Wall -Wextra -Werror for every C and C++ dialect,
   with TALLOC_DEPRECATED off and on, with each compiler given.
2. The header alone is clean under pedantic and extra-strict warnings.
3. Misuse the header's macros are meant to catch (wrongly typed destructor,
   talloc_steal into the wrong pointer type, bad printf arguments, deprecated
   calls, ...) fails to compile, while the corrected program compiles; when
   the reference header is available the same misuse must fail there too.

Prints one line per check and exits non-zero if any failed.
"""

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

C_STDS = ['gnu89', 'c89', 'c99', 'gnu99', 'c11', 'gnu11', 'c17']
CXX_STDS = ['c++98', 'c++03', 'c++11', 'c++14', 'c++17', 'c++20', 'gnu++98', 'gnu++20']
WARN = ['-Wall', '-Wextra', '-Werror']

PRELUDE = '''#include <talloc.h>
struct foo { int x; };
struct other { long y; };
static int foo_destructor(struct foo *f) { (void)f; return 0; }
static int other_destructor(struct other *o) { (void)o; return 0; }
static void use(const void *p) { (void)p; }
'''

# (name, languages, extra flags, misuse, corrected, also on the 2.4 reference)
SAMPLES = [
    ('destructor with the wrong parameter type', ('c', 'c++'),
     ['-Werror=incompatible-pointer-types'],
     'struct foo *f = talloc(NULL, struct foo); talloc_set_destructor(f, other_destructor); use(f);',
     'struct foo *f = talloc(NULL, struct foo); talloc_set_destructor(f, foo_destructor); use(f);',
     True),
    ('destructor with the wrong return type', ('c++',), [],
     'struct foo *f = talloc(NULL, struct foo); talloc_set_destructor(f, use);',
     'struct foo *f = talloc(NULL, struct foo); talloc_set_destructor(f, foo_destructor);',
     True),
    ('talloc_steal into another pointer type', ('c', 'c++'),
     ['-Werror=incompatible-pointer-types'],
     'struct foo *f = talloc(NULL, struct foo); struct other *o = talloc_steal(NULL, f); use(o);',
     'struct foo *f = talloc(NULL, struct foo); struct foo *o = talloc_steal(NULL, f); use(o);',
     True),
    ('talloc_move into another pointer type', ('c', 'c++'),
     ['-Werror=incompatible-pointer-types'],
     'struct foo *f = talloc(NULL, struct foo); struct other *o = talloc_move(NULL, &f); use(o);',
     'struct foo *f = talloc(NULL, struct foo); struct foo *o = talloc_move(NULL, &f); use(o);',
     True),
    ('talloc_reference into another pointer type', ('c', 'c++'),
     ['-Werror=incompatible-pointer-types'],
     'struct foo *f = talloc(NULL, struct foo); struct other *o = talloc_reference(NULL, f); use(o);',
     'struct foo *f = talloc(NULL, struct foo); struct foo *o = talloc_reference(NULL, f); use(o);',
     True),
    ('talloc() result assigned to another pointer type', ('c', 'c++'),
     ['-Werror=incompatible-pointer-types'],
     'struct other *o = talloc(NULL, struct foo); use(o);',
     'struct foo *o = talloc(NULL, struct foo); use(o);',
     True),
    ('talloc_get_type result of another type', ('c++',), [],
     'void *p = talloc(NULL, struct foo); struct other *o = talloc_get_type(p, struct foo); use(o);',
     'void *p = talloc(NULL, struct foo); struct foo *o = talloc_get_type(p, struct foo); use(o);',
     True),
    ('talloc_asprintf with mismatched arguments', ('c', 'c++'), ['-Werror=format'],
     'use(talloc_asprintf(NULL, "%d", "text"));',
     'use(talloc_asprintf(NULL, "%s", "text"));',
     True),
    ('talloc_asprintf_addbuf with mismatched arguments', ('c', 'c++'), ['-Werror=format'],
     'char *s = NULL; talloc_asprintf_addbuf(&s, "%s", 42); use(s);',
     'char *s = NULL; talloc_asprintf_addbuf(&s, "%d", 42); use(s);',
     True),
    ('talloc_set_name with mismatched arguments', ('c',), ['-Werror=format'],
     'void *p = talloc_new(NULL); use(talloc_set_name(p, "%s", 1));',
     'void *p = talloc_new(NULL); use(talloc_set_name(p, "%d", 1));',
     True),
    ('talloc_init with mismatched arguments', ('c',), ['-Werror=format'],
     'use(talloc_init("%s", 1));',
     'use(talloc_init("%d", 1));',
     True),
    ('talloc_asprintf_addsep with mismatched arguments', ('c', 'c++'), ['-Werror=format'],
     'char *s = NULL; talloc_asprintf_addsep(&s, ", ", "%s", 42); use(s);',
     'char *s = NULL; talloc_asprintf_addsep(&s, ", ", "%d", 42); use(s);',
     False),
    ('talloc_realloc_zero into another pointer type', ('c', 'c++'),
     ['-Werror=incompatible-pointer-types'],
     'struct foo *f = NULL; struct other *o = talloc_realloc_zero(NULL, f, struct foo, 2); use(o);',
     'struct foo *f = NULL; struct foo *o = talloc_realloc_zero(NULL, f, struct foo, 2); use(o);',
     False),
    ('talloc_autofree_context is deprecated', ('c', 'c++'), ['-Werror=deprecated-declarations'],
     'use(talloc_autofree_context());',
     'use(talloc_new(NULL));',
     True),
    ('talloc_set_memlimit is deprecated', ('c', 'c++'), ['-Werror=deprecated-declarations'],
     'void *p = talloc_new(NULL); (void)talloc_set_memlimit(p, 10);',
     'void *p = talloc_new(NULL); (void)talloc_total_size(p);',
     True),
    ('old *_p spellings need TALLOC_DEPRECATED', ('c', 'c++'),
     ['-Werror=implicit-function-declaration'],
     'struct foo *f = talloc_p(NULL, struct foo); use(f);',
     'struct foo *f = talloc(NULL, struct foo); use(f);',
     True),
]


class Runner:
    def __init__(self, verbose):
        self.failed = 0
        self.passed = 0
        self.verbose = verbose

    def compile(self, compiler, lang, flags, source, incdir):
        with tempfile.TemporaryDirectory() as tmp:
            ext = '.c' if lang == 'c' else '.cpp'
            path = os.path.join(tmp, 'sample' + ext)
            if os.path.isfile(source):
                path = source
            else:
                with open(path, 'w') as f:
                    f.write(source)
            cmd = shlex.split(compiler) + ['-fsyntax-only', '-I', incdir] + flags + [path]
            res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            return res.returncode == 0, ' '.join(cmd), res.stdout

    def report(self, ok, what, detail=''):
        if ok:
            self.passed += 1
            print('ok     ' + what)
        else:
            self.failed += 1
            print('FAILED ' + what)
            if detail:
                print('       ' + detail.strip().replace('\n', '\n       ')[:3000])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cc', action='append', default=[], help='C compiler (repeatable)')
    ap.add_argument('--cxx', action='append', default=[], help='C++ compiler (repeatable)')
    ap.add_argument('--also', action='store_true',
                    help='also use clang/clang++ when installed')
    ap.add_argument('--include', required=True, help='directory holding our talloc.h')
    ap.add_argument('--src-dir', default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument('--reference-header', default='/usr/include/talloc.h',
                    help='upstream talloc.h for the misuse comparison ("" to skip)')
    ap.add_argument('-v', '--verbose', action='store_true')
    args = ap.parse_args()

    ccs = args.cc or ['cc']
    cxxs = args.cxx or ['c++']
    if args.also:
        if shutil.which('clang') and 'clang' not in ccs:
            ccs.append('clang')
        if shutil.which('clang++') and 'clang++' not in cxxs:
            cxxs.append('clang++')
    r = Runner(args.verbose)
    inc = os.path.abspath(args.include)
    header_c = os.path.join(args.src_dir, 'header_c.c')
    header_cpp = os.path.join(args.src_dir, 'header_cpp.cpp')

    # 1. every macro, every dialect
    variants = [[], ['-DTALLOC_DEPRECATED=1'], ['-DTALLOC_GET_TYPE_ABORT_NOOP']]
    for cc in ccs:
        for std in C_STDS:
            for v in variants:
                ok, cmd, out = r.compile(cc, 'c', ['-std=' + std] + WARN + v, header_c, inc)
                r.report(ok, 'header_c.c: %s -std=%s %s' % (cc, std, ' '.join(v)), out)
    for cxx in cxxs:
        for std in CXX_STDS:
            for v in variants:
                ok, cmd, out = r.compile(cxx, 'c++', ['-std=' + std] + WARN + v, header_cpp, inc)
                r.report(ok, 'header_cpp.cpp: %s -std=%s %s' % (cxx, std, ' '.join(v)), out)

    # 2. the header on its own under strict warnings
    alone = '#include <talloc.h>\n#include <talloc.h>\nint main(void) { return 0; }\n'
    strict_c = ['-pedantic-errors', '-Wstrict-prototypes', '-Wmissing-prototypes',
                '-Wredundant-decls', '-Wshadow', '-Wundef', '-Wcast-qual', '-Wconversion']
    strict_cxx = ['-pedantic-errors', '-Wundef', '-Wshadow', '-Wold-style-cast',
                  '-Wzero-as-null-pointer-constant', '-Wredundant-decls', '-Wconversion']
    for cc in ccs:
        for std in ('c89', 'c99', 'c11'):
            ok, cmd, out = r.compile(cc, 'c', ['-std=' + std] + WARN + strict_c, alone, inc)
            r.report(ok, 'header alone: %s -std=%s strict' % (cc, std), out)
    for cxx in cxxs:
        for std in ('c++98', 'c++11', 'c++20'):
            ok, cmd, out = r.compile(cxx, 'c++', ['-std=' + std] + WARN + strict_cxx,
                                     alone.replace('(void)', '()'), inc)
            r.report(ok, 'header alone: %s -std=%s strict' % (cxx, std), out)

    # 3. misuse is rejected, like upstream
    refdir = None
    if args.reference_header and os.path.exists(args.reference_header):
        refdir = tempfile.mkdtemp()
        os.symlink(os.path.abspath(args.reference_header), os.path.join(refdir, 'talloc.h'))
    try:
        for name, langs, flags, bad, good, on_ref in SAMPLES:
            for lang in langs:
                compilers = ccs if lang == 'c' else cxxs
                for comp in compilers:
                    def prog(body):
                        return PRELUDE + 'int main(void) { %s return 0; }\n' % body
                    std = ['-std=gnu11'] if lang == 'c' else ['-std=c++17']
                    fl = std + flags + ['-Wno-unused-function']
                    ok_bad, cmd, out_bad = r.compile(comp, lang, fl, prog(bad), inc)
                    ok_good, _, out_good = r.compile(comp, lang, fl, prog(good), inc)
                    label = '%s rejected (%s, %s)' % (name, lang, comp)
                    if ok_bad:
                        r.report(False, label, 'compiled although it should not:\n' + bad)
                    elif not ok_good:
                        r.report(False, label, 'the corrected program fails too:\n' + out_good)
                    else:
                        r.report(True, label)
                    if on_ref and refdir:
                        ref_bad, _, _ = r.compile(comp, lang, fl, prog(bad), refdir)
                        ref_good, _, out = r.compile(comp, lang, fl, prog(good), refdir)
                        r.report(not ref_bad and ref_good,
                                 '  same outcome on the reference header (%s, %s)' % (lang, comp),
                                 out if not ref_good else 'reference accepts the misuse')
    finally:
        if refdir:
            shutil.rmtree(refdir)

    print('%d passed, %d failed' % (r.passed, r.failed))
    return 1 if r.failed else 0


if __name__ == '__main__':
    sys.exit(main())
