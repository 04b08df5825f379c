#!/usr/bin/env python3
"""Lists import cycles between the runtime's files: file A names something
of file B (`crate::x::y` in a `use` or in code, `super::` in a child) and B
names something of A. Prints each group of files that import each other;
exits non-zero if there is one. Run from the repository root:
`python3 scripts/import_cycles.py`."""
import os, re, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'curio-rt', 'src')

def module_of(path):
    rel = os.path.relpath(path, ROOT)[:-3]
    parts = rel.split(os.sep)
    if parts[-1] in ('mod', 'lib'):
        parts = parts[:-1]
    return tuple(parts)

files = {}
for dirpath, _, names in os.walk(ROOT):
    for n in names:
        if n.endswith('.rs'):
            p = os.path.join(dirpath, n)
            files[module_of(p)] = p

def target(path_segments):
    """The file that defines the longest module prefix of the path."""
    for k in range(len(path_segments), 0, -1):
        if tuple(path_segments[:k]) in files:
            return tuple(path_segments[:k])
    return None

def expand_use(text):
    """`crate::a::{b, c::d}` -> ['a::b', 'a::c::d'] (one level of braces is enough here)."""
    out = []
    for m in re.finditer(r'crate::((?:\w+::)*)\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}', text):
        prefix = m.group(1)
        for item in re.split(r',(?![^{]*\})', m.group(2)):
            item = item.strip()
            if not item:
                continue
            inner = re.match(r'(\w+(?:::\w+)*)::\{(.*)\}', item, re.S)
            if inner:
                for sub in inner.group(2).split(','):
                    if sub.strip():
                        out.append(prefix + inner.group(1) + '::' + sub.strip())
            else:
                out.append(prefix + item)
    for m in re.finditer(r'crate::((?:\w+::)*\w+)', text):
        out.append(m.group(1))
    return out

graph = {}
for mod, path in files.items():
    code = '\n'.join(l for l in open(path).read().split('\n')
                     if not l.lstrip().startswith('//'))
    deps = set()
    for p in expand_use(code):
        t = target(p.split('::'))
        if t is not None and t != mod and t != ():
            deps.add(t)
    for m in re.finditer(r'\bsuper::(\w+)', code):
        parent = mod[:-1] if files[mod].endswith('mod.rs') is False else mod[:-1]
        t = target(list(parent) + [m.group(1)]) or (parent if parent in files else None)
        if t is not None and t != mod:
            deps.add(t)
    graph[mod] = deps

# Tarjan's strongly connected components.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
def visit(v):
    index[v] = low[v] = counter[0]; counter[0] += 1
    stack.append(v); on.add(v)
    for w in graph.get(v, ()):
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(comp)
sys.setrecursionlimit(10000)
for v in graph:
    if v not in index:
        visit(v)

def show(m):
    return os.path.relpath(files[m], ROOT)
for comp in sccs:
    names = sorted(show(m) for m in comp)
    edges = sorted(f'{show(a)} -> {show(b)}' for a in comp for b in graph[a] if b in comp)
    print('cycle:', ', '.join(names))
    for e in edges:
        print('   ', e)
sys.exit(1 if sccs else 0)
