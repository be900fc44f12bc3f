#!/usr/bin/env python3
"""Self-test of tools/abi.py: the checker must catch each kind of drift.

Links small stub libraries from the committed version script with one defect
each (extra export, missing export, wrong node, missing node, C++ runtime
dependency, wrong SONAME) and expects exactly the matching complaint; checks
that header drift is reported; and, when Debian's libtalloc is installed,
that the only complaints about it are the nodes and symbols newer than it.
For libpytalloc-util: the committed map passes, a missing library-named
node is caught, and Debian's library lacks only the newer nodes.
"""

import argparse
import importlib.util
import os
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

spec = importlib.util.spec_from_file_location('abi', os.path.join(ROOT, 'tools', 'abi.py'))
abi = importlib.util.module_from_spec(spec)
spec.loader.exec_module(abi)

failures = 0


def report(ok, what, detail=None):
    global failures
    print(('ok     ' if ok else 'FAILED ') + what)
    if not ok:
        failures += 1
        if detail:
            print('       ' + '\n       '.join(detail))


def build_stub(tmp, cc, vmap, symbols, soname='libtalloc.so.2', cxx=False):
    src = os.path.join(tmp, 'stub.c' if not cxx else 'stub.cpp')
    with open(src, 'w') as f:
        f.write('#include <stdlib.h>\n')
        if cxx:
            f.write('#include <new>\nextern "C" {\n')
        for s in symbols:
            f.write('void %s(void) {}\n' % s)
        f.write('void *uses_libc(void) { return malloc(1); }\n')
        if cxx:
            f.write('}\nvoid *grab() { return new int(1); }\n')
    mpath = os.path.join(tmp, 'v.map')
    with open(mpath, 'w') as f:
        f.write(vmap)
    so = os.path.join(tmp, 'stub.so')
    cmd = shlex.split(cc) + ['-shared', '-fPIC', '-o', so, src, '-Wl,--version-script=' + mpath,
                             '-Wl,-soname,' + soname]
    if cxx:
        cmd += ['-x', 'none', '-lstdc++']
    subprocess.run(cmd, check=True)
    return so


def expect(label, problems, wanted):
    """Every wanted fragment matches a problem and every problem is wanted."""
    unmatched = [w for w in wanted if not any(w in p for p in problems)]
    extra = [p for p in problems if not any(w in p for w in wanted)]
    report(not unmatched and not extra, label,
           ['missing complaint: ' + w for w in unmatched] + ['unexpected: ' + p for p in extra])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cc', default='cc')
    ap.add_argument('--cxx', default='c++')
    ap.add_argument('--system-lib', default='/usr/lib/x86_64-linux-gnu/libtalloc.so.2')
    args = ap.parse_args()

    abidir = os.path.join(ROOT, 'abi')
    nodes, first, sigs = abi.read_abi_dir(abidir, 'talloc')
    vmap = open(os.path.join(abidir, 'talloc.map')).read()
    syms = sorted(first)

    with tempfile.TemporaryDirectory() as tmp:
        def check(so, sanitized=False):
            return abi.check_elf(so, 'talloc', nodes, first, set(), sanitized)[0]

        so = build_stub(tmp, args.cc, vmap, syms + ['helper_not_listed'])
        expect('stub built from the committed map passes', check(so), [])

        def vscript(firsts, node_list=nodes):
            return abi.render('talloc', node_list, firsts, dict.fromkeys(firsts, 'void (void)'))[
                'talloc.map']

        so = build_stub(tmp, args.cc, vscript(dict(first, talloc_extra=nodes[0])),
                        syms + ['talloc_extra'])
        expect('extra export is caught', check(so), ['unexpected export talloc_extra@@TALLOC_2.0.2'])

        so = build_stub(tmp, args.cc, vmap, [s for s in syms if s != 'talloc_pool'])
        expect('missing export is caught', check(so), ['missing export talloc_pool@@TALLOC_2.0.2'])

        so = build_stub(tmp, args.cc, vscript(dict(first, talloc_asprintf_addsep=nodes[0])), syms)
        expect('symbol at the wrong node is caught', check(so),
               ['talloc_asprintf_addsep exported as talloc_asprintf_addsep@@TALLOC_2.0.2, '
                'want talloc_asprintf_addsep@@TALLOC_2.5.0'])

        last = nodes[-1]
        older = dict((s, n) for s, n in first.items() if n != last)
        so = build_stub(tmp, args.cc, vscript(older, nodes[:-1]), sorted(older))
        expect('missing version node is caught', check(so),
               ['version node %s is not defined' % last,
                'missing export talloc_asprintf_addsep@@%s' % last])

        so = build_stub(tmp, args.cxx, vmap, syms, cxx=True)
        expect('C++ runtime dependency is caught', check(so),
               ['unexpected DT_NEEDED libstdc++.so.6', 'from unexpected version GLIBCXX_'])
        expect('... but not with --sanitized', check(so, sanitized=True), [])

        so = build_stub(tmp, args.cc, vmap, syms, soname='libtalloc.so.3')
        expect('wrong SONAME is caught', check(so), ['SONAME is libtalloc.so.3'])

    # header drift
    decls, typedefs = abi.parse_declarations(
        'typedef void TALLOC_CTX;\n'
        'void *_talloc(const void *context, unsigned size);\n'
        'int talloc_version_major(void);\n'
        'int talloc_brand_new(void);\n')
    want = {'_talloc': sigs['_talloc'], 'talloc_version_major': sigs['talloc_version_major'],
            'talloc_version_minor': sigs['talloc_version_minor']}
    problems, _ = abi.compare_header((decls, typedefs), want)
    expect('header drift is caught', problems,
           ['_talloc: header has void *(const void *, unsigned int), ABI has void *(const void *, size_t)',
            'talloc_version_minor: not declared in the header',
            'talloc_brand_new: declared in the header but not part of the ABI'])

    with tempfile.TemporaryDirectory() as tmp:
        hdr = os.path.join(tmp, 'sample.h')
        with open(hdr, 'w') as f:
            f.write('#include <stdarg.h>\n'
                    'typedef void (*cb_t)(void *p, const char *fmt, va_list ap)'
                    ' __attribute__((format(printf, 2, 0)));\n'
                    'int set_cb(struct ctx *c, cb_t fn, void *p);\n'
                    'static inline int helper(int a) { return a; }\n'
                    'struct s { int (*f)(void); };\n'
                    'typedef struct { int a; } anon_t;\n'
                    'extern void takes_array(const char *argv[], unsigned n, void (*cb)(int x));\n'
                    'void new_name(int a, const char *b_name, cb_t b);\n'
                    '#define old_name(a, b) new_name(a, #b, b)\n'
                    'void (old_name)(int a, cb_t b);\n')
        decls, typedefs = abi.parse_declarations(abi.header_text(hdr, args.cc, [], []))
    expect('typedef spelling is equivalent', abi.compare_header((decls, typedefs), {
        'set_cb': 'int (struct ctx *, void (*)(void *, const char *, va_list), void *)',
        'takes_array': 'void (const char **, unsigned int, void (*)(int))',
        'old_name': 'void (int, cb_t)',
        'new_name': 'void (int, const char *, cb_t)'})[0], [])

    # Debian's library: only what is newer than it may be missing
    if args.system_lib and os.path.exists(args.system_lib):
        problems, info = abi.check_elf(args.system_lib, 'talloc', nodes, first, set(), False)
        have = [n for n, _ in info['verdefs'] if n in nodes]
        newest = max(have, key=abi.vkey)
        newer = [n for n in nodes if abi.vkey(n) > abi.vkey(newest)]
        wanted = ['version node %s is not defined' % n for n in newer] + \
                 ['missing export %s@@%s' % (s, first[s]) for s in syms if first[s] in newer]
        expect('system %s (newest node %s): only newer nodes/symbols missing'
               % (os.path.basename(args.system_lib), newest), problems, wanted)

    # libpytalloc-util: the node named after the library, last and parentless
    pt = 'pytalloc-util'
    pnodes, pfirst, _ = abi.read_abi_dir(abidir, pt)
    pall = abi.with_library_node(pt, pnodes)
    libnode = pall[-1]
    pmap = open(os.path.join(abidir, pt + '.map')).read()
    psoname = abi.LIBS[pt]['soname']
    with tempfile.TemporaryDirectory() as tmp:
        def pcheck(so, sanitized=True):
            # (stubs need neither libtalloc nor libpython: DT_NEEDED is not checked)
            return abi.check_elf(so, pt, pall, pfirst, set(), sanitized)[0]
        so = build_stub(tmp, args.cc, pmap, sorted(pfirst), soname=psoname)
        expect('pytalloc-util stub from the committed map passes', pcheck(so), [])
        without = pmap[:pmap.index(libnode)].replace('} %s;\n' % pnodes[-2], '\tlocal: *;\n} %s;\n' % pnodes[-2])
        so = build_stub(tmp, args.cc, without, sorted(pfirst), soname=psoname)
        expect('missing library node is caught', pcheck(so), ['version node %s is not defined' % libnode])
    system_py = '/usr/lib/x86_64-linux-gnu/libpytalloc-util.cpython-311-x86-64-linux-gnu.so.2'
    if os.path.exists(system_py):
        problems, info = abi.check_elf(system_py, pt, pall, pfirst, set(), False)
        have = [n for n, _ in info['verdefs'] if n in pnodes]
        newest = max(have, key=abi.vkey)
        newer = [n for n in pnodes if abi.vkey(n) > abi.vkey(newest)]
        own = abi.LIBS[pt]['library_node'].format(v=abi.node_version(pt, newest))
        expect('system libpytalloc-util (newest node %s): only newer nodes missing, its own library node'
               % newest, problems,
               ['version node %s is not defined' % n for n in newer + [libnode]] +
               ['unexpected version node %s' % own, 'unexpected absolute symbol %s' % own])

    print('%s' % ('all passed' if not failures else '%d failed' % failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
