#!/usr/bin/env python3
"""ABI files of libtalloc / libtevent: generate them from the public header,
and check a built shared library against them.

  abi.py generate --lib talloc            write abi/talloc-<v>.sigs + abi/talloc.map
  abi.py check --lib talloc --so LIB.so   verify exports, nodes, NEEDED, SONAME, drift
  abi.py pending --lib L --so LIB.so      ABI symbols LIB.so does not export yet
  abi.py parse --header H [--lib L]       print the signatures parsed from a header

Signatures come from the project's header (preprocessed with the C compiler,
only the lines that belong to the header itself are read).  Which version
node introduced a symbol comes from the reference symbol table
(<reference>/<lib>-symbols.tsv and <lib>-versions.txt); without it, from the
committed abi/<lib>-<v>.sigs files.  Standard library only.
"""

import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The project's shared/ folder sits beside the checkout (shared/reference).
DEFAULT_REFERENCE = os.path.join(os.path.dirname(ROOT), 'shared', 'reference')

LIBS = {
    'talloc': {
        'prefix': 'TALLOC_',
        'soname': 'libtalloc.so.2',
        'headers': ['compat/talloc.h'],
        'defines': [],
        'needed': ['libc.so.6'],
        'needed_optional': [],
        'undef_versions': ['GLIBC_'],
    },
    'tevent': {
        'prefix': 'TEVENT_',
        'soname': 'libtevent.so.0',
        # the public header, then declarations of the exported functions that
        # upstream keeps in headers it does not install
        'headers': ['compat/tevent.h', 'compat/tevent_internal.h'],
        'defines': ['TEVENT_DEPRECATED'],
        'needed': ['libtalloc.so.2', 'libc.so.6'],
        # upstream's own build links the loader for __tls_get_addr
        'needed_optional': ['ld-linux-x86-64.so.2'],
        'undef_versions': ['GLIBC_', 'TALLOC_'],
    },
    # the Python bindings (lib/pytalloc): Python 3.11 as Debian 12 has it
    'pytalloc-util': {
        'prefix': 'PYTALLOC_UTIL_',
        'soname': 'libpytalloc-util.cpython-311-x86-64-linux-gnu.so.2',
        'headers': ['lib/pytalloc/pytalloc.h'],
        'defines': [],
        # include directories of these pkg-config packages for cc -E
        'pkgconfig_includes': ['python3'],
        'needed': ['libtalloc.so.2', 'libpython3.11.so.1.0'],
        'needed_optional': ['libc.so.6'],
        'undef_versions': ['GLIBC_', 'TALLOC_'],
        # the Python C API has no symbol versions
        'undef_unversioned': True,
        # upstream's build adds a node named after the library, last and
        # without parent (Debian's 2.4.0: ..._GNU_2.4.0); {v} is the newest
        # numbered node's version
        'library_node': 'PYTALLOC_UTIL.CPYTHON_311_X86_64_LINUX_GNU_{v}',
    },
}


class AbiError(Exception):
    pass


# ---------------------------------------------------------------------------
# Header parsing

TOKEN_RE = re.compile(r'''
    (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<num>\.?\d[\w.]*)
  | (?P<ell>\.\.\.)
  | (?P<punct>->|<<|>>|[^\s\w])
''', re.X)

QUALIFIERS = {'const', 'volatile'}
DROPPED = {'extern', 'restrict', '__restrict', '__restrict__', '__extension__',
           '_Noreturn', 'register', '__const'}
BUILTIN_TYPES = {'void', 'char', 'short', 'int', 'long', 'float', 'double', 'signed',
                 'unsigned', '_Bool', 'bool', '__int128', '_Complex'}
TAGS = {'struct', 'union', 'enum'}
OPEN = {'(': ')', '[': ']', '{': '}'}


def header_text(header, cc, includes, defines):
    """Preprocess header; return only the text that came from the header itself."""
    header = os.path.realpath(header)
    cmd = shlex.split(cc) + ['-E', '-x', 'c', '-std=gnu11']
    for inc in includes:
        cmd += ['-I', inc]
    for d in defines:
        cmd += ['-D' + d]
    cmd.append(header)
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if res.returncode != 0:
        raise AbiError('preprocessing %s failed:\n%s' % (header, res.stderr))
    keep = []
    current = None
    marker = re.compile(r'^#\s*(?:line\s+)?\d+\s+"((?:[^"\\]|\\.)*)"')
    for line in res.stdout.splitlines():
        m = marker.match(line)
        if m:
            name = m.group(1)
            if name.startswith('<'):
                current = None
            else:
                current = os.path.realpath(name)
            continue
        if line.startswith('#'):
            continue  # pragmas and the like
        if current == header:
            keep.append(line)
    return '\n'.join(keep)


def tokenize(text):
    toks = []
    for m in TOKEN_RE.finditer(text):
        toks.append(m.group(0))
    return toks


def skip_group(toks, i):
    """toks[i] opens a bracket; return the index after its match."""
    depth = 0
    while i < len(toks):
        t = toks[i]
        if t in OPEN:
            depth += 1
        elif t in (')', ']', '}'):
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise AbiError('unbalanced brackets in header')


def strip_noise(toks):
    """Remove attributes, asm labels and keywords that do not change a signature."""
    out = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t in ('__attribute__', '__attribute', '__asm__', '__asm', 'asm', '__declspec',
                 'alignas', '_Alignas'):
            i += 1
            if i < len(toks) and toks[i] == '(':
                i = skip_group(toks, i)
            continue
        if t in DROPPED:
            i += 1
            continue
        out.append(t)
        i += 1
    return out


def statements(toks):
    """Top-level declarations without their ';'.  Bodies mark a statement as skipped."""
    stmts = []
    cur = []
    has_body = False
    skip_to_semicolon = False
    depth = 0
    for t in toks:
        if depth == 0 and t == ';':
            if not has_body and not skip_to_semicolon:
                stmts.append(cur)
            cur, has_body, skip_to_semicolon = [], False, False
            continue
        cur.append(t)
        if t in OPEN:
            if t == '{' and depth == 0:
                has_body = True
            depth += 1
        elif t in (')', ']', '}'):
            depth -= 1
            if depth == 0 and t == '}':
                head = [x for x in cur if x not in ('static', 'inline', '__inline', '__inline__')]
                if head and head[0] in ('typedef', 'struct', 'union', 'enum'):
                    skip_to_semicolon = True  # declarators may follow the type body
                else:
                    cur, has_body = [], False  # a function definition ends here
    return stmts


def split_top(toks, sep=','):
    parts, cur, depth = [], [], 0
    for t in toks:
        if t in OPEN:
            depth += 1
        elif t in (')', ']', '}'):
            depth -= 1
        if depth == 0 and t == sep:
            parts.append(cur)
            cur = []
        else:
            cur.append(t)
    parts.append(cur)
    return parts


def canon_words(words):
    """Spell types the way the reference tables do."""
    out = []
    for i, w in enumerate(words):
        if w == '_Bool':
            w = 'bool'
        out.append(w)
        if w == 'unsigned' or w == 'signed':
            nxt = words[i + 1] if i + 1 < len(words) else None
            if nxt not in ('int', 'char', 'short', 'long'):
                out.append('int')
    return out


def fmt_type(toks):
    toks = canon_words(toks)
    s = ''
    for t in toks:
        if t == '*':
            s += '*' if s.endswith('*') else (' *' if s else '*')
        else:
            s += (' ' if s else '') + t
    return s


def join_fn(ret, inner, params):
    sep = '' if ret.endswith('*') else ' '
    return '%s%s%s(%s)' % (ret, sep, inner, params)


def type_without_name(toks):
    """Drop the declarator name from a plain (non-function) parameter."""
    have_base = False
    out = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t in QUALIFIERS or t == '*':
            out.append(t)
        elif t in TAGS:
            out += toks[i:i + 2]
            i += 1
            have_base = True
        elif t in BUILTIN_TYPES:
            out.append(t)
            have_base = True
        elif t == '[':
            end = skip_group(toks, i)
            out.append('*')  # array parameters decay to pointers
            i = end
            continue
        elif re.match(r'^[A-Za-z_]\w*$', t):
            if have_base:
                pass  # the parameter's name
            else:
                out.append(t)
                have_base = True
        else:
            raise AbiError('cannot parse parameter: %s' % ' '.join(toks))
        i += 1
    return out


def fmt_param(toks):
    if toks == ['...']:
        return '...'
    if '(' not in toks:
        return fmt_type(type_without_name(toks))
    # function pointer: RET ( * [name] ) ( PARAMS )
    p = toks.index('(')
    ret = fmt_type(type_without_name(toks[:p]))
    end = skip_group(toks, p)
    inner = toks[p + 1:end - 1]
    stars = ''.join(t for t in inner if t == '*')
    rest = toks[end:]
    if not rest:
        raise AbiError('cannot parse parameter: %s' % ' '.join(toks))
    if rest[0] != '(':
        raise AbiError('cannot parse parameter: %s' % ' '.join(toks))
    pend = skip_group(rest, 0)
    if pend != len(rest):
        raise AbiError('cannot parse parameter: %s' % ' '.join(toks))
    if not stars:
        stars = '*'  # a function parameter decays to a pointer
    return join_fn(ret, '(%s)' % stars, fmt_params(rest[1:pend - 1]))


def fmt_params(toks):
    if not toks:
        return ''
    parts = split_top(toks)
    if len(parts) == 1 and parts[0] == ['void']:
        return 'void'
    return ', '.join(fmt_param(p) for p in parts)


def parse_declarations(text):
    """({name: signature}, {typedef: type}) of the functions declared (not
    defined) and the non-struct typedefs in text."""
    decls, typedefs = {}, {}
    for st in statements(strip_noise(tokenize(text))):
        if not st or 'static' in st or '=' in st:
            continue
        if st[0] == 'typedef':
            parse_typedef(st[1:], typedefs)
            continue
        if '(' not in st:
            continue
        p = st.index('(')
        ident = r'^[A-Za-z_]\w*$'
        if (p > 0 and len(st) > p + 3 and re.match(ident, st[p + 1]) and st[p + 2] == ')'
                and st[p + 3] == '('):
            # "ret (name)(params)": the parentheses keep a function-like
            # macro of the same name from expanding
            name, ret_end, p = st[p + 1], p, p + 3
        elif p > 0 and re.match(ident, st[p - 1]):
            name, ret_end = st[p - 1], p - 1
        else:
            continue  # function pointer variable or something else
        end = skip_group(st, p)
        if end != len(st):
            continue  # e.g. a function returning a function pointer
        ret_toks = [t for t in st[:ret_end] if t not in ('inline', '__inline', '__inline__')]
        if not ret_toks:
            continue
        sig = join_fn(fmt_type(ret_toks), '', fmt_params(st[p + 1:end - 1]))
        if name in decls and decls[name] != sig:
            raise AbiError('%s declared twice with different signatures:\n  %s\n  %s'
                           % (name, decls[name], sig))
        decls[name] = sig
    return decls, typedefs


def parse_typedef(toks, typedefs):
    if '{' in toks or not toks:
        return
    try:
        if '(' in toks:
            p = toks.index('(')
            end = skip_group(toks, p)
            names = [t for t in toks[p + 1:end - 1] if re.match(r'^[A-Za-z_]\w*$', t)
                     and t not in QUALIFIERS]
            if len(names) != 1:
                return
            typedefs[names[0]] = fmt_param(toks)
        else:
            name = toks[-1]
            if re.match(r'^[A-Za-z_]\w*$', name) and len(toks) > 1:
                typedefs[name] = fmt_type(toks[:-1])
    except AbiError:
        pass


def expand_typedefs(sig, typedefs):
    """sig with the header's own typedef names replaced by their types."""
    for _ in range(8):
        new = re.sub(r'[A-Za-z_]\w*', lambda m: typedefs.get(m.group(0), m.group(0)), sig)
        if new == sig:
            break
        sig = new
    return re.sub(r'\s+', ' ', sig)


def equivalent(got, want, typedefs):
    return got == want or expand_typedefs(got, typedefs) == expand_typedefs(want, typedefs)


def header_list(args, lib):
    if args.header:
        return args.header
    out = []
    for h in LIBS[lib]['headers']:
        optional = h.startswith('?')
        path = os.path.join(ROOT, h.lstrip('?'))
        if os.path.exists(path):
            out.append(path)
        elif not optional:
            raise AbiError('header %s not found' % path)
    return out


def pkgconfig_includes(pkg):
    """The -I directories of a pkg-config package (the system's pkg-config)."""
    res = subprocess.run(['pkg-config', '--cflags-only-I', pkg], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    if res.returncode != 0:
        raise AbiError('pkg-config --cflags-only-I %s failed:\n%s' % (pkg, res.stderr))
    return [w[2:] for w in res.stdout.split() if w.startswith('-I')]


def header_signatures(args, lib):
    """Merged declarations and typedefs of the library's headers."""
    decls, typedefs = {}, {}
    defines = (args.define or []) + (LIBS[lib]['defines'] if lib in LIBS else [])
    for header in header_list(args, lib):
        if not os.path.exists(header):
            raise AbiError('header %s not found' % header)
        includes = (args.include or []) + [os.path.dirname(os.path.abspath(header)),
                                           os.path.join(ROOT, 'compat')]
        for pkg in LIBS.get(lib, {}).get('pkgconfig_includes', []):
            includes += pkgconfig_includes(pkg)
        d, t = parse_declarations(header_text(header, args.cc, includes, defines))
        for name, sig in d.items():
            if name in decls and decls[name] != sig:
                raise AbiError('%s declared differently in two headers:\n  %s\n  %s'
                               % (name, decls[name], sig))
            decls[name] = sig
        typedefs.update(t)
    return decls, typedefs


# ---------------------------------------------------------------------------
# Version nodes and the ABI directory

def node_version(lib, node):
    """TALLOC_2.1.0 -> 2.1.0 (the part after the library's prefix)."""
    prefix = LIBS[lib]['prefix'] if lib in LIBS else node.split('_', 1)[0] + '_'
    return node[len(prefix):] if node.startswith(prefix) else node.split('_', 1)[-1]


def with_library_node(lib, nodes):
    """nodes, plus the node named after the library where it has one."""
    fmt = LIBS.get(lib, {}).get('library_node')
    if not fmt or not nodes:
        return nodes
    return nodes + [fmt.format(v=node_version(lib, nodes[-1]))]


def vkey(node_or_version):
    v = node_or_version.rsplit('_', 1)[-1]   # PYTALLOC_UTIL_2.1.0 -> 2.1.0
    return tuple(int(x) for x in v.split('.'))


def read_reference(refdir, lib):
    """(nodes in order, {symbol: node}, {symbol: signature}) from the reference tables."""
    with open(os.path.join(refdir, lib + '-versions.txt')) as f:
        nodes = [l.strip() for l in f if l.strip() and not l.startswith('#')]
    first, sigs = {}, {}
    with open(os.path.join(refdir, lib + '-symbols.tsv')) as f:
        for line in f:
            if not line.strip() or line.startswith('#'):
                continue
            name, node, sig = line.rstrip('\n').split('\t')
            if node not in nodes:
                raise AbiError('%s: node %s of %s is not in %s-versions.txt' % (refdir, node, name, lib))
            first[name] = node
            sigs[name] = sig
    return nodes, first, sigs


def sigs_path(abidir, lib, node):
    return os.path.join(abidir, '%s-%s.sigs' % (lib, node_version(lib, node)))


def read_sigs_file(path):
    out = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            name, sep, sig = line.rstrip('\n').partition(': ')
            if not sep:
                raise AbiError('%s:%d: malformed line' % (path, n))
            out[name] = sig
    return out


def read_abi_dir(abidir, lib):
    """(nodes, {symbol: node}, {symbol: signature}) from committed .sigs files."""
    pat = re.compile(r'^%s-(\d+(?:\.\d+)*)\.sigs$' % re.escape(lib))
    versions = [m.group(1) for m in map(pat.match, os.listdir(abidir)) if m]
    if not versions:
        raise AbiError('no %s-*.sigs files in %s' % (lib, abidir))
    versions.sort(key=lambda v: tuple(int(x) for x in v.split('.')))
    nodes = [LIBS[lib]['prefix'] + v for v in versions]
    first, sigs = {}, {}
    prev = {}
    for node in nodes:
        cur = read_sigs_file(sigs_path(abidir, lib, node))
        for name in prev:
            if name not in cur:
                raise AbiError('%s: %s disappeared' % (sigs_path(abidir, lib, node), name))
        for name, sig in cur.items():
            if name not in first:
                first[name] = node
                sigs[name] = sig
            elif sigs[name] != sig:
                raise AbiError('%s: signature of %s changed' % (sigs_path(abidir, lib, node), name))
        prev = cur
    return nodes, first, sigs


def render(lib, nodes, first, sigs):
    """{file name: content} for every .sigs file and the version script."""
    files = {}
    index = {n: i for i, n in enumerate(nodes)}
    for i, node in enumerate(nodes):
        names = sorted(s for s in first if index[first[s]] <= i)
        files['%s-%s.sigs' % (lib, node_version(lib, node))] = \
            ''.join('%s: %s\n' % (s, sigs[s]) for s in names)
    out = []
    all_nodes = with_library_node(lib, nodes)
    for i, node in enumerate(all_nodes):
        names = sorted(s for s in first if first.get(s) == node)
        out.append('%s {\n' % node)
        if names:
            out.append('\tglobal:\n')
            out += ['\t\t%s;\n' % s for s in names]
        if i == len(all_nodes) - 1:
            out.append('\tlocal: *;\n')
        # a library node (after the numbered ones) has no parent, as upstream's
        parent = nodes[i - 1] if 0 < i < len(nodes) else None
        out.append('}%s;\n' % ((' ' + parent) if parent else ''))
    files['%s.map' % lib] = ''.join(out)
    return files


def compare_header(header, want_sigs):
    """(problems, signatures) of the header's declarations against the wanted
    signatures.  A declaration that spells a parameter with one of the header's
    own typedefs still matches; the wanted spelling is kept then."""
    decls, typedefs = header
    problems, resolved = [], {}
    for name in sorted(want_sigs):
        got = decls.get(name)
        if got is None:
            problems.append('%s: not declared in the header (want %s)' % (name, want_sigs[name]))
        elif not equivalent(got, want_sigs[name], typedefs):
            problems.append('%s: header has %s, ABI has %s' % (name, got, want_sigs[name]))
        else:
            resolved[name] = want_sigs[name] if got != want_sigs[name] else got
    for name in sorted(set(decls) - set(want_sigs)):
        problems.append('%s: declared in the header but not part of the ABI' % name)
    return problems, resolved


def membership(args, lib):
    refdir = args.reference
    if refdir is None and os.path.exists(os.path.join(DEFAULT_REFERENCE, lib + '-symbols.tsv')):
        refdir = DEFAULT_REFERENCE
    if refdir:
        return read_reference(refdir, lib) + ('reference tables in ' + refdir,)
    abidir = args.abi_dir
    return read_abi_dir(abidir, lib) + ('committed files in ' + abidir,)


def read_pending(abidir, lib, path=None):
    path = path or os.path.join(abidir, lib + '-pending.txt')
    if not os.path.exists(path):
        return set()
    with open(path) as f:
        return {l.split('#')[0].strip() for l in f if l.split('#')[0].strip()}


# ---------------------------------------------------------------------------
# ELF inspection (binutils)

def run(cmd):
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if res.returncode != 0:
        raise AbiError('%s failed:\n%s' % (' '.join(cmd), res.stderr))
    return res.stdout


def elf_info(so, readelf='readelf'):
    info = {'needed': [], 'soname': None, 'exports': {}, 'abs': set(), 'undef': [],
            'verdefs': [], 'base': None, 'other': []}
    for line in run([readelf, '-d', '-W', so]).splitlines():
        m = re.search(r'\((NEEDED|SONAME)\)\s+.*\[(.*)\]', line)
        if m:
            if m.group(1) == 'NEEDED':
                info['needed'].append(m.group(2))
            else:
                info['soname'] = m.group(2)
    in_dynsym = False
    for line in run([readelf, '--dyn-syms', '-W', so]).splitlines():
        if line.startswith("Symbol table '.dynsym'"):
            in_dynsym = True
            continue
        if line.startswith('Symbol table'):
            in_dynsym = False
        f = line.split()
        if not in_dynsym or len(f) < 8 or not f[0].endswith(':'):
            continue
        typ, bind, vis, ndx, name = f[3], f[4], f[5], f[6], f[7]
        if bind == 'LOCAL':
            continue
        if len(f) > 8 and f[8].startswith('('):
            pass  # "(version index)" suffix of undefined symbols
        if ndx == 'UND':
            info['undef'].append((name, bind))
            continue
        if vis not in ('DEFAULT', 'PROTECTED'):
            continue
        if ndx == 'ABS' and typ == 'OBJECT' and '@' not in name:
            info['abs'].add(name)  # version node definition symbol
            continue
        base, at, ver = name.partition('@')
        default = ver.startswith('@')
        ver = ver.lstrip('@')
        if at and base == ver:
            info['abs'].add(base)
            continue
        info['exports'][base] = (typ, ver or None, default)
    section = None
    pending_name = None
    for line in run([readelf, '-V', '-W', so]).splitlines():
        if line.startswith('Version definition section'):
            section = 'd'
            continue
        if line.startswith('Version ') and 'section' in line:
            section = None
            continue
        if section != 'd':
            continue
        m = re.search(r'Flags:\s*(\S+).*Name:\s*(\S+)', line)
        if m:
            if m.group(1) == 'BASE':
                info['base'] = m.group(2)
            else:
                info['verdefs'].append([m.group(2), None])
            continue
        m = re.search(r'Parent 1:\s*(\S+)', line)
        if m and info['verdefs']:
            info['verdefs'][-1][1] = m.group(1)
    return info


def check_elf(so, lib, nodes, first, pending, sanitized, readelf='readelf'):
    """List of problems of a built library against the ABI tables."""
    cfg = LIBS[lib]
    problems = []
    info = elf_info(so, readelf)

    if info['soname'] != cfg['soname']:
        problems.append('SONAME is %s, want %s' % (info['soname'], cfg['soname']))

    # version definitions: every node, each inheriting from the one before
    defined = [n for n, _ in info['verdefs']]
    for node in nodes:
        if node not in defined:
            problems.append('version node %s is not defined' % node)
    for node in defined:
        if node not in nodes:
            problems.append('unexpected version node %s' % node)
    # (upstream leaves its newest node without a parent; accept that for the
    # last node defined, the committed map itself is compared separately)
    parents = dict((n, p) for n, p in info['verdefs'])
    for i, node in enumerate(nodes):
        if i and node in parents and parents[node] != nodes[i - 1]:
            if parents[node] is None and defined and node == defined[-1]:
                continue
            problems.append('version node %s inherits from %s, want %s'
                            % (node, parents[node], nodes[i - 1]))

    # exported functions
    expected = {s: n for s, n in first.items() if s not in pending}
    exports = info['exports']
    for name in sorted(expected):
        if name not in exports:
            problems.append('missing export %s@@%s' % (name, expected[name]))
            continue
        typ, ver, default = exports[name]
        if ver != expected[name] or not default:
            problems.append('%s exported as %s%s%s, want %s@@%s'
                            % (name, name, '@@' if default else '@', ver, name, expected[name]))
        if typ not in ('FUNC', 'IFUNC'):
            problems.append('%s is exported as %s, want FUNC' % (name, typ))
    for name in sorted(set(exports) - set(expected)):
        typ, ver, default = exports[name]
        if name in pending:
            problems.append('%s is exported but listed in %s-pending.txt (remove it there)'
                            % (name, lib))
        else:
            problems.append('unexpected export %s%s (%s)'
                            % (name, ('@@' if default else '@') + ver if ver else '', typ))
    for name in sorted(info['abs'] - set(nodes)):
        problems.append('unexpected absolute symbol %s' % name)

    if not sanitized:
        needed = info['needed']
        for lib_needed in cfg['needed']:
            if lib_needed not in needed:
                problems.append('DT_NEEDED lacks %s' % lib_needed)
        for lib_needed in needed:
            if lib_needed not in cfg['needed'] + cfg['needed_optional']:
                problems.append('unexpected DT_NEEDED %s' % lib_needed)
        for name, bind in info['undef']:
            base, at, ver = name.partition('@')
            ver = ver.lstrip('@')
            if not ver:
                if bind != 'WEAK' and not cfg.get('undef_unversioned'):
                    problems.append('unversioned undefined symbol %s' % base)
            elif not any(ver.startswith(p) for p in cfg['undef_versions']):
                problems.append('undefined symbol %s from unexpected version %s' % (base, ver))
    return problems, info


# ---------------------------------------------------------------------------
# commands

def verify_with_ld(lib, files, first, pending, cc):
    """Link a stub library with the version script and check it like a real build."""
    with tempfile.TemporaryDirectory() as tmp:
        vmap = os.path.join(tmp, 'v.map')
        with open(vmap, 'w') as f:
            f.write(files[lib + '.map'])
        src = os.path.join(tmp, 'stub.c')
        with open(src, 'w') as f:
            for s in sorted(first):
                if s not in pending:
                    f.write('void %s(void) {}\n' % s)
            f.write('void not_exported_helper(void) {}\n')
        so = os.path.join(tmp, 'stub.so')
        cmd = shlex.split(cc) + ['-shared', '-fPIC', '-fno-builtin', '-o', so, src,
                                 '-Wl,--version-script=' + vmap,
                                 '-Wl,-soname,' + LIBS[lib]['soname']]
        res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if res.returncode != 0:
            raise AbiError('GNU ld rejected the version script:\n' + res.stderr)
        nodes = [l.split()[0] for l in files[lib + '.map'].splitlines()
                 if l and not l[0].isspace() and l[0] != '}']
        problems, _ = check_elf(so, lib, nodes, first, pending, sanitized=True)
        if problems:
            raise AbiError('stub library linked with the version script is wrong:\n  '
                           + '\n  '.join(problems))


def cmd_generate(args):
    lib = args.lib
    nodes, first, ref_sigs, source = membership(args, lib)
    problems, hsigs = compare_header(header_signatures(args, lib), ref_sigs)
    if problems:
        print('%s header disagrees with the ABI (%s):' % (lib, source), file=sys.stderr)
        for p in problems:
            print('  ' + p, file=sys.stderr)
        return 1
    files = render(lib, nodes, first, hsigs)
    pending = read_pending(args.abi_dir, lib)
    if not args.no_ld:
        verify_with_ld(lib, files, first, pending, args.cc)
    os.makedirs(args.abi_dir, exist_ok=True)
    stale = [f for f in os.listdir(args.abi_dir)
             if re.match(r'^%s-[\d.]+\.sigs$' % re.escape(lib), f) and f not in files]
    for f in stale:
        os.unlink(os.path.join(args.abi_dir, f))
    changed = 0
    for fname, content in sorted(files.items()):
        path = os.path.join(args.abi_dir, fname)
        old = open(path).read() if os.path.exists(path) else None
        if old != content:
            with open(path, 'w') as f:
                f.write(content)
            changed += 1
    print('%s: %d symbols, %d version nodes (%s); %d files written, %d unchanged%s'
          % (lib, len(first), len(nodes), source, changed, len(files) - changed,
             ', %d stale removed' % len(stale) if stale else ''))
    return 0


def cmd_check(args):
    lib = args.lib
    problems = []
    try:
        nodes, first, sigs = read_abi_dir(args.abi_dir, lib)
    except (AbiError, OSError) as e:
        print('FAIL: ' + str(e))
        return 1
    pending = read_pending(args.abi_dir, lib, args.pending)
    for name in sorted(pending - set(first)):
        problems.append('%s-pending.txt names %s, which is not in the ABI' % (lib, name))

    # drift: the header and the committed files must still agree
    if not args.no_header:
        try:
            hp, hsigs = compare_header(header_signatures(args, lib), sigs)
            problems += ['header: ' + p for p in hp]
            if not hp:
                files = render(lib, nodes, first, hsigs)
                for fname, content in sorted(files.items()):
                    path = os.path.join(args.abi_dir, fname)
                    old = open(path).read() if os.path.exists(path) else ''
                    if old != content:
                        diff = ''.join(list(difflib.unified_diff(
                            old.splitlines(True), content.splitlines(True),
                            'committed/' + fname, 'regenerated/' + fname))[:40])
                        problems.append('%s differs from what the header generates '
                                        '(run tools/abi.py generate --lib %s):\n%s'
                                        % (fname, lib, diff))
        except AbiError as e:
            problems.append(str(e))

    sanitized = args.sanitized or os.environ.get('ABI_CHECK_SANITIZED', '') not in ('', '0')
    if args.so:
        try:
            elf_problems, info = check_elf(args.so, lib, with_library_node(lib, nodes), first, pending, sanitized,
                                           args.readelf)
            problems += elf_problems
        except AbiError as e:
            problems.append(str(e))
    for p in problems:
        print('FAIL: ' + p)
    if problems:
        print('%s ABI check: %d problem(s)' % (lib, len(problems)))
        return 1
    msg = '%s ABI check passed: %d symbols' % (lib, len(first) - len(pending))
    if pending:
        msg += ' (+%d pending)' % len(pending)
    msg += ', %d version nodes' % len(nodes)
    if args.so:
        msg += ', %s' % os.path.basename(args.so)
    if sanitized:
        msg += ' (DT_NEEDED not checked: sanitizers)'
    print(msg)
    return 0


def cmd_pending(args):
    """Names of the ABI that the given library does not export yet."""
    lib = args.lib
    nodes, first, sigs = read_abi_dir(args.abi_dir, lib)
    exports = elf_info(args.so, args.readelf)['exports']
    missing = sorted(s for s in first if s not in exports)
    text = ''.join('%s\n' % s for s in missing)
    if args.write:
        path = os.path.join(args.abi_dir, lib + '-pending.txt')
        if missing:
            with open(path, 'w') as f:
                f.write('# %s symbols not implemented yet (tools/abi.py pending --write)\n' % lib)
                f.write(text)
            print('%s: %d pending symbols written to %s' % (lib, len(missing), path))
        elif os.path.exists(path):
            os.unlink(path)
            print('%s: nothing pending, %s removed' % (lib, path))
    else:
        sys.stdout.write(text)
    return 0


def cmd_parse(args):
    lib = args.lib or os.path.splitext(os.path.basename(args.header[0]))[0]
    sigs, _ = header_signatures(args, lib)
    for name in sorted(sigs):
        print('%s: %s' % (name, sigs[name]))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)

    def common(p, lib_required=True):
        p.add_argument('--lib', choices=sorted(LIBS), required=lib_required)
        p.add_argument('--header', action='append',
                       help='header to read (repeatable; default: the library\'s list in LIBS)')
        p.add_argument('-I', '--include', action='append', help='include directory for cc -E')
        p.add_argument('-D', '--define', action='append', help='macro for cc -E')
        p.add_argument('--cc', default=os.environ.get('CC', 'cc'), help='C compiler')
        p.add_argument('--abi-dir', default=os.path.join(ROOT, 'abi'))

    g = sub.add_parser('generate', help='write abi/<lib>-<v>.sigs and abi/<lib>.map')
    common(g)
    g.add_argument('--reference', help='directory with <lib>-symbols.tsv and <lib>-versions.txt '
                   '(default %s when present, else the committed abi files)' % DEFAULT_REFERENCE)
    g.add_argument('--no-ld', action='store_true', help='skip linking a stub with the map')
    g.set_defaults(func=cmd_generate)

    c = sub.add_parser('check', help='check a built library and the header against abi/')
    common(c)
    c.add_argument('--so', help='built shared library')
    c.add_argument('--pending', help='names not implemented yet (default abi/<lib>-pending.txt)')
    c.add_argument('--sanitized', action='store_true',
                   help='sanitizer build: skip DT_NEEDED and undefined-symbol checks '
                   '(also when $ABI_CHECK_SANITIZED is set)')
    c.add_argument('--no-header', action='store_true', help='skip the header drift check')
    c.add_argument('--readelf', default='readelf')
    c.set_defaults(func=cmd_check)

    pe = sub.add_parser('pending', help='list (or --write to abi/<lib>-pending.txt) the ABI '
                        'symbols a built library does not export yet')
    pe.add_argument('--lib', choices=sorted(LIBS), required=True)
    pe.add_argument('--so', required=True)
    pe.add_argument('--abi-dir', default=os.path.join(ROOT, 'abi'))
    pe.add_argument('--readelf', default='readelf')
    pe.add_argument('--write', action='store_true')
    pe.set_defaults(func=cmd_pending)

    p = sub.add_parser('parse', help='print the signatures declared by a header')
    common(p, lib_required=False)
    p.set_defaults(func=cmd_parse)

    args = ap.parse_args(argv)
    if args.cmd == 'parse' and not args.header and not args.lib:
        ap.error('parse needs --header or --lib')
    try:
        return args.func(args)
    except AbiError as e:
        print('error: %s' % e, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
