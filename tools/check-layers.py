#!/usr/bin/env python3
"""Checks the layering of nngraph's sources (docs/architecture.md).

  check-layers.py SRCDIR                 includes only
  check-layers.py SRCDIR --build BUILDDIR  also symbols and exports

Lists each layer's includes and fails (exit 1) when a file includes a
header of a layer above its own, when includes form a cycle, or when the
tools include anything but public headers and their own. With --build it
also reads the layers' static libraries (nm): a layer may use only symbols
of its own and lower layers; and libnngraph.so must export exactly the
functions the public headers declare.
"""
import os
import re
import subprocess
import sys

# Each layer and the layers it may use, bottom up (src/meson.build builds
# them in this order). ops/ is part of core.
LAYERS = {
    'util': set(),
    'core': {'util'},
    'data': {'core', 'util'},
    'train': {'data', 'core', 'util'},
    'graphio': {'core', 'util'},
    'runlog': {'train', 'data', 'graphio', 'core', 'util'},
    'ffi': {'graphio', 'core', 'util'},
    # data parallelism over MPI: its own library (libnngraph_dist, built
    # only with MPI), above everything else
    'dist': {'runlog', 'train', 'data', 'graphio', 'core', 'util'},
}
# Layers built into libraries of their own, not into libnngraph: their
# public header is theirs, and they may be missing (dist: built only with
# MPI). Unlike the add-ons below, dist works on the layers' internals (the
# fit's gradient nodes, a run's values), so it is a layer, at the top.
SEPARATE = {'dist': 'dist.h'}
# Symbols a layer may still use from above, each with the change that
# removes it; empty, and kept so.
KNOWN = set()
# Add-on libraries over libnngraph, each with its own dependencies and its
# own public header, so the core never links them: src/plot (PLplot) and
# src/ui (libmicrohttpd). They use only public headers and their own; their
# headers' functions live in libnngraph_plot.a / libnngraph_ui.a, not in
# libnngraph.so.
ADDONS = {'plot': 'plot.h', 'ui': 'ui.h'}
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(rel):
    parts = rel.split(os.sep)
    if parts[0] == 'ops':
        return 'core'
    if parts[0] == 'src' and len(parts) > 2 and parts[1] in LAYERS:
        return parts[1]
    return None


def sources(src, top):
    for root, _, files in os.walk(os.path.join(src, top)):
        for f in sorted(files):
            if f.endswith(('.c', '.h', '.h.in')):
                yield os.path.relpath(os.path.join(root, f), src)


def check_includes(src):
    problems = []
    headers = {}  # basename -> path, for the layers' own headers
    files = [p for top in ('src', 'ops') for p in sources(src, top) if layer_of(p)]
    for p in files:
        if p.endswith('.h'):
            headers.setdefault(os.path.basename(p), p)
    headers['op_files.h'] = 'ops/op_files.h.in'  # generated into the build
    graph = {}
    uses = {}
    for p in files:
        text = open(os.path.join(src, p), encoding='utf-8').read()
        mine = layer_of(p)
        graph[p] = []
        for inc in INCLUDE_RE.findall(text):
            if inc.startswith('nngraph'):
                continue  # public headers belong to no layer
            target = headers.get(os.path.basename(inc))
            if not target:
                problems.append(f'{p}: includes "{inc}", which is no layer\'s header')
                continue
            graph[p].append(target)
            theirs = layer_of(target)
            uses.setdefault(mine, set()).add(theirs)
            if theirs != mine and theirs not in LAYERS[mine]:
                problems.append(f'{p}: includes {target} of layer {theirs}, which {mine} may not use '
                                f'({mine} uses {", ".join(sorted(LAYERS[mine])) or "nothing"})')
    # include cycles between files (include guards hide them from the compiler)
    state = {}

    def visit(p, stack):
        state[p] = 1
        stack.append(p)
        for q in graph.get(p, []):
            if state.get(q) == 1:
                cyc = stack[stack.index(q):] + [q]
                problems.append('include cycle: ' + ' -> '.join(cyc))
            elif q not in state:
                visit(q, stack)
        stack.pop()
        state[p] = 2

    for p in sorted(graph):
        if p not in state:
            visit(p, [])
    for layer in LAYERS:
        print(f'{layer:8} includes {", ".join(sorted(uses.get(layer, set()) - {layer})) or "-"}')
    # the add-ons, like the tools, see only the public headers and their own
    for p in [q for a in ADDONS for q in sources(src, os.path.join('src', a))] + list(sources(src, 'tools')):
        if p.startswith(os.path.join('tools', 'bench') + os.sep):
            continue  # benchmarks, like tests, measure internals
        text = open(os.path.join(src, p), encoding='utf-8').read()
        for inc in INCLUDE_RE.findall(text):
            if inc.startswith('nngraph') or os.path.exists(os.path.join(src, os.path.dirname(p), inc)):
                continue
            problems.append(f'{p}: includes "{inc}"; the tools and add-ons use only public headers')
    return problems


def nm(path, *flags):
    out = subprocess.run(['nm', *flags, path], capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def check_symbols(build):
    problems = []
    defined, undefined = {}, {}
    for layer in LAYERS:
        lib = os.path.join(build, 'src', f'libnngraph_{layer}.a')
        if layer in SEPARATE:
            lib = os.path.join(build, 'src', layer, f'libnngraph_{layer}.a')
            if not os.path.exists(lib):
                continue
        if not os.path.exists(lib):
            return [f'{lib}: not built']
        undefined[layer] = set()
        for line in nm(lib):
            f = line.split()
            if len(f) == 3 and f[1] in 'TDRBVW':
                defined[f[2]] = layer
            elif len(f) == 2 and f[0] == 'U':
                undefined[layer].add(f[1])
    for layer, syms in undefined.items():
        for s in sorted(syms):
            theirs = defined.get(s)
            if theirs and theirs != layer and theirs not in LAYERS[layer] and (layer, s) not in KNOWN:
                problems.append(f'layer {layer} uses {s} of layer {theirs}')
    return problems


def declared_api(src):
    names = set()
    inc = os.path.join(src, 'include', 'nngraph')
    for f in sorted(os.listdir(inc)):
        if f in ADDONS.values() or f in SEPARATE.values():
            continue  # another library's API
        text = open(os.path.join(inc, f), encoding='utf-8').read()
        text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
        text = re.sub(r'//[^\n]*', ' ', text)
        text = re.sub(r'^\s*#(?:[^\n]*\\\n)*[^\n]*', ' ', text, flags=re.M)
        for stmt in re.split(r'[;{}]', text):
            stmt = stmt.strip()
            if stmt.startswith(('typedef', 'static', 'return')):
                continue
            m = re.match(r'^(?:extern\s+)?[A-Za-z_][\w\s\*]*?\b(nn_\w+)\s*\(', stmt)
            if m:
                names.add(m.group(1))
    return names


def check_exports(src, build):
    so = os.path.join(build, 'libnngraph.so')
    if not os.path.exists(so):
        return [f'{so}: not built']
    exported = {line.split()[2] for line in nm(so, '-D', '--defined-only') if len(line.split()) == 3}
    declared = declared_api(src)
    problems = [f'libnngraph.so exports {s}, which no public header declares' for s in sorted(exported - declared)]
    problems += [f'{s} is declared in include/nngraph but not exported' for s in sorted(declared - exported)]
    print(f'libnngraph.so exports {len(exported)} symbols; the public headers declare {len(declared)} functions')
    return problems


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != '--build'):
        sys.stderr.write(__doc__)
        return 2
    src = argv[1]
    problems = check_includes(src)
    if len(argv) == 4:
        problems += check_symbols(argv[3]) + check_exports(src, argv[3])
    for p in problems:
        print('check-layers: ' + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
