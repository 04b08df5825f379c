#!/usr/bin/env python3
"""Generates the differential oracle's programs: tests/oracle/generated.rs.

Each program is one random function body mixing every construct the
transform supports (let/shadowing/blocks, if/else, if let, let-else, match
with guards, loop/while/while let/for, labelled break/continue, break with a
value, early return, `?`, awaits in argument, operand, condition, scrutinee,
iterable and struct-literal positions, drop-logging locals, explicit drops;
and the shapes acceptance testing found: an await in a let-else's `else`,
compound assignment to places, deferred initialisation, a Vec inferred
through an awaiting loop, drop-logging scrutinee temporaries, guards and
`let` chains that await, references dead at the `.await`, and a `_`
parameter holding a drop-logging value, which lives to the end of the body).
It is emitted twice: as a `#[curio::task]` whose awaits are scripted leaf
traps, and as a plain function whose awaits are scripted calls. The test in
tests/oracle.rs runs both under the same script and compares traces.

Usage: python3 tests/oracle/gen.py [--count N] [--seed S] > tests/oracle/generated.rs
The output is committed; tests/oracle.rs checks that it is up to date.
"""
import argparse
import random
import re
import subprocess

PLAIN = {"label": None, "value": False}


class Gen:
    def __init__(self, rng):
        self.rng = rng
        self.n = 0
        self.site = 0
        self.sub = None

    def fresh(self, prefix):
        self.n += 1
        return f"{prefix}{self.n}"

    # ---- expressions -------------------------------------------------
    def atom(self, ctx):
        r = self.rng.random()
        ints = [v for scope in ctx["ints"] for v in scope]
        noisy = [v for scope in ctx["noisy"] for v in scope if v[1]]
        if r < 0.35 and ints:
            return self.rng.choice(ints)
        if r < 0.5 and noisy:
            return f"{self.rng.choice(noisy)[0]}.val()"
        return str(self.rng.randint(-3, 9))

    def await_expr(self, ctx, depth):
        # An await of this program's generated sub-task, with its own
        # awaits and drop-logging locals, when there is one.
        if self.sub is not None and self.rng.random() < 0.25:
            args = f"{self.expr(ctx, depth - 1)}, {self.expr(ctx, depth - 1)}"
            if self.rng.random() < 0.7:
                return f"SUB_{self.sub}({args}, N::new(\"subarg\", 0))SUBAWAIT?"
            return f"SUB_{self.sub}({args}, N::new(\"subarg\", 0))SUBAWAIT.unwrap_or(-2)"
        self.site += 1
        k = self.site
        form = self.rng.random()
        if form < 0.7:
            return f"AWAIT({k})?"
        if form < 0.85:
            return f"AWAIT({k}).unwrap_or(-1)"
        return f"match AWAIT({k}) {{ Ok(v) => v, Err(_) => {{ ev(\"caught\", {k}); -7 }} }}"

    def expr(self, ctx, depth, awaits=True):
        if depth <= 0:
            return self.atom(ctx)
        r = self.rng.random()
        if awaits and r < 0.3:
            return self.await_expr(ctx, depth)
        if r < 0.45:
            return f"add({self.expr(ctx, depth - 1, awaits)}, {self.expr(ctx, depth - 1, awaits)})"
        if r < 0.55:
            return f"mix({self.expr(ctx, depth - 1, awaits)}, {self.expr(ctx, depth - 1, awaits)})"
        if r < 0.62:
            return (f"if {self.cond(ctx, depth - 1, awaits)} {{ {self.expr(ctx, depth - 1, awaits)} }} "
                    f"else {{ {self.expr(ctx, depth - 1, awaits)} }}")
        if r < 0.68:
            return (f"match m3({self.expr(ctx, depth - 1, awaits)}) {{ 0 => {self.expr(ctx, depth - 1, awaits)}, "
                    f"_ => {self.expr(ctx, depth - 1, awaits)} }}")
        if r < 0.74:
            return f"Pt {{ x: {self.expr(ctx, depth - 1, awaits)}, y: {self.expr(ctx, depth - 1, awaits)} }}.sum()"
        if r < 0.78:
            t = self.fresh("t")
            inner = {"ints": ctx["ints"] + [[t]], "noisy": ctx["noisy"]}
            return f"{{ let {t} = {self.expr(ctx, depth - 1, awaits)}; add({t}, {self.expr(inner, depth - 1, awaits)}) }}"
        if r < 0.82:
            return f"[{self.expr(ctx, 0)}, {self.expr(ctx, 0)}, {self.expr(ctx, 0)}][idx3({self.expr(ctx, depth - 1, awaits)})]"
        return self.atom(ctx)

    def cond(self, ctx, depth, awaits=True):
        r = self.rng.random()
        if r < 0.15 and depth > 0:
            return f"(flag({self.expr(ctx, depth - 1, awaits)}) && flag({self.expr(ctx, depth - 1, awaits)}))"
        if r < 0.3 and depth > 0:
            return f"(flag({self.expr(ctx, depth - 1, awaits)}) || flag({self.expr(ctx, depth - 1, awaits)}))"
        return f"flag({self.expr(ctx, depth, awaits)})"

    # ---- statements --------------------------------------------------
    def block(self, ctx, depth, loop):
        ctx = {"ints": ctx["ints"] + [[]], "noisy": ctx["noisy"] + [[]]}
        lines = []
        for _ in range(self.rng.randint(1, 3 if depth > 0 else 2)):
            lines += self.stmt(ctx, depth, loop)
        # Explicit, unconditional drops of this scope's noisy locals.
        for v in ctx["noisy"][-1]:
            if v[1] and self.rng.random() < 0.3:
                lines.append(f"drop({v[0]});")
                v[1] = False
        return lines

    def stmt(self, ctx, depth, loop):
        rng = self.rng
        kinds = ["let", "let", "noisy", "ev", "assign", "shadow", "check", "shadow_noisy"]
        if depth > 0:
            kinds += ["if", "match", "for", "while", "loop", "block", "iflet", "letelse", "whilelet", "breakval", "ret",
                      "letelse_await", "place_assign", "deferred", "collect", "scrutinee_tmp", "guard_await",
                      "chain_await", "dead_ref"]
        if loop:
            kinds += ["jump"]
        kind = rng.choice(kinds)
        e = lambda d=2: self.expr(ctx, d)
        if kind == "let":
            v = self.fresh("v")
            line = f"let mut {v} = {e()};"
            ctx["ints"][-1].append(v)
            return [line]
        if kind == "noisy":
            v = self.fresh("n")
            line = f"let {v} = N::new(\"{v}\", {e(1)});"
            ctx["noisy"][-1].append([v, True])
            return [line]
        if kind == "ev":
            return [f"ev(\"{self.fresh('e')}\", {e()});"]
        if kind == "assign":
            mutable = [v for scope in ctx["ints"] for v in scope if v.startswith("v")]
            if not mutable:
                return [f"ev(\"{self.fresh('e')}\", {e()});"]
            v = rng.choice(mutable)
            return [f"{v} = add({v}, {e()});"]
        if kind == "shadow":
            ints = [v for v in ctx["ints"][-1] if v.startswith("v")]
            if not ints:
                return []
            v = rng.choice(ints)
            return [f"let mut {v} = add({v}, {e(1)});"]
        if kind == "shadow_noisy":
            # Rebind the name of a live drop-logging local: the old value is
            # hidden but stays alive to the end of its own scope.
            live = [v for scope in ctx["noisy"] for v in scope if v[1]]
            if not live:
                return []
            old = rng.choice(live)
            label = self.fresh(old[0] + "s")
            line = f"let {old[0]} = N::new(\"{label}\", {e(1)});"
            old[1] = False
            ctx["noisy"][-1].append([old[0], True])
            return [line]
        if kind == "check":
            v = self.fresh("v")
            line = f"let mut {v} = check({e()})?;"
            ctx["ints"][-1].append(v)
            return [line]
        if kind == "if":
            out = [f"if {self.cond(ctx, 2)} {{"] + self.block(ctx, depth - 1, loop)
            if rng.random() < 0.7:
                out += ["} else {"] + self.block(ctx, depth - 1, loop)
            return out + ["}"]
        if kind == "match":
            return ([f"match m3({e()}) {{", "0 => {"] + self.block(ctx, depth - 1, loop)
                    + [f"}} 1 if flag({self.expr(ctx, 1, awaits=False)}) => {{"] + self.block(ctx, depth - 1, loop)
                    + ["} _ => {"] + self.block(ctx, depth - 1, loop) + ["} }"])
        if kind == "for":
            i = self.fresh("i")
            inner = {"ints": ctx["ints"] + [[i]], "noisy": ctx["noisy"]}
            return [f"for {i} in 0..{rng.randint(0, 3)} {{"] + self.block(inner, depth - 1, PLAIN) + ["}"]
        if kind == "while":
            c = self.fresh("c")
            return ([f"let mut {c} = 0;", f"while {c} < {rng.randint(1, 3)} && {self.cond(ctx, 1)} {{", f"{c} += 1;"]
                    + self.block(ctx, depth - 1, PLAIN) + ["}"])
        if kind == "loop":
            c, label = self.fresh("c"), self.fresh("'l")
            body = self.block(ctx, depth - 1, {"label": label, "value": False})
            return ([f"let mut {c} = 0;", f"{label}: loop {{", f"{c} += 1;", f"if {c} > {rng.randint(1, 3)} {{ break {label}; }}"]
                    + body + ["}"])
        if kind == "jump":
            jump = rng.choice(["break", "continue"])
            target = f" {loop['label']}" if loop["label"] and rng.random() < 0.7 else ""
            value = f" ({self.expr(ctx, 1)})" if jump == "break" and loop["value"] else ""
            return [f"if {self.cond(ctx, 1)} {{ ev(\"{self.fresh('j')}\", 0); {jump}{target}{value}; }}"]
        if kind == "block":
            return ["{"] + self.block(ctx, depth - 1, loop) + ["}"]
        if kind == "iflet":
            x = self.fresh("x")
            inner = {"ints": ctx["ints"] + [[x]], "noisy": ctx["noisy"]}
            return [f"if let Some({x}) = opt({e()}) {{"] + self.block(inner, depth - 1, loop) + ["} else {"] + self.block(ctx, depth - 1, loop) + ["}"]
        if kind == "letelse":
            x = self.fresh("x")
            line = f"let Some({x}) = opt({e()}) else {{ ev(\"{self.fresh('else')}\", 0); return Ok(-1); }};"
            ctx["ints"][-1].append(x)
            return [line]
        if kind == "whilelet":
            q, x = self.fresh("q"), self.fresh("x")
            inner = {"ints": ctx["ints"] + [[x]], "noisy": ctx["noisy"]}
            return ([f"let mut {q} = Vec::from([{e(1)}, {e(1)}]);", f"while let Some({x}) = {q}.pop() {{"]
                    + self.block(inner, depth - 1, PLAIN) + ["}"])
        if kind == "breakval":
            v, c, label = self.fresh("v"), self.fresh("c"), self.fresh("'l")
            first = f"if {c} > {rng.randint(1, 3)} {{ break {label} ({e(1)}); }}"
            body = self.block(ctx, depth - 1, {"label": label, "value": True})
            last = f"if {self.cond(ctx, 1)} {{ break {label} ({e()}); }}"
            ctx["ints"][-1].append(v)
            return [f"let mut {c} = 0;", f"let mut {v} = {label}: loop {{", f"{c} += 1;", first] + body + [last, "};"]
        if kind == "letelse_await":
            # An `.await` inside a let-else's diverging `else`.
            x = self.fresh("x")
            line = (f"let Some({x}) = opt({e()}) else {{ ev(\"{self.fresh('else')}\", {self.await_expr(ctx, 1)}); "
                    f"return Ok(-1); }};")
            ctx["ints"][-1].append(x)
            return [line]
        if kind == "place_assign":
            # Compound assignment to an indexed place and a field, with an
            # awaited right-hand side (primitive operands: value first).
            arr, p = self.fresh("arr"), self.fresh("p")
            lines = [f"let mut {arr} = [{e(1)}, {e(1)}, {e(1)}];",
                     f"{arr}[idx3({self.expr(ctx, 1, awaits=False)})] += {self.await_expr(ctx, 1)};",
                     f"let mut {p} = Pt {{ x: {e(1)}, y: 0 }};",
                     f"{p}.y -= {self.await_expr(ctx, 1)};",
                     f"ev(\"{self.fresh('pl')}\", add({arr}[0], {p}.sum()));"]
            ctx["ints"][-1].append(f"{arr}[1]")
            return lines
        if kind == "deferred":
            # Deferred initialisation, assigned on both branches.
            x = self.fresh("d")
            lines = [f"let {x};",
                     f"if {self.cond(ctx, 1)} {{ {x} = {self.await_expr(ctx, 1)}; }} else {{ {x} = {e(1)}; }}"]
            ctx["ints"][-1].append(x)
            return lines
        if kind == "collect":
            # A Vec whose element type is inferred through a loop that awaits.
            out, i, v = self.fresh("out"), self.fresh("i"), self.fresh("w")
            lines = [f"let mut {out} = Vec::new();",
                     f"for {i} in 0..{rng.randint(0, 3)} {{ {out}.push(add({i}, {self.await_expr(ctx, 1)})); }}",
                     f"let {v} = {out}.iter().map(|x| x.wrapping_abs()).fold(0i64, |a, b| a.wrapping_add(b));"]
            ctx["ints"][-1].append(v)
            return lines
        if kind == "scrutinee_tmp":
            # A drop-logging temporary in a scrutinee lives to the end of the
            # `match` (or `if let`), across the `.await` in its arm.
            t = self.fresh("tmp")
            if rng.random() < 0.5:
                return ([f"match m3(N::new(\"{t}\", {e(1)}).val()) {{", "0 => {"] + self.block(ctx, depth - 1, loop)
                        + ["} _ => {"] + self.block(ctx, depth - 1, loop) + ["} }"])
            x = self.fresh("x")
            inner = {"ints": ctx["ints"] + [[x]], "noisy": ctx["noisy"]}
            return ([f"if let Some({x}) = opt(N::new(\"{t}\", {e(1)}).val()) {{"] + self.block(inner, depth - 1, loop)
                    + ["}"])
        if kind == "guard_await":
            # Guards that await: a false guard goes on to the next arm.
            g = self.fresh("g")
            return ([f"match m3({e()}) {{", f"0 if flag({self.await_expr(ctx, 1)}) => {{"] + self.block(ctx, depth - 1, loop)
                    + [f"}} {g} if flag({g}) || flag({self.await_expr(ctx, 1)}) => {{"] + self.block(ctx, depth - 1, loop)
                    + ["} _ => {"] + self.block(ctx, depth - 1, loop) + ["} }"])
        if kind == "chain_await":
            # A `let` chain with awaits after its first condition.
            x, y = self.fresh("x"), self.fresh("x")
            inner = {"ints": ctx["ints"] + [[x, y]], "noisy": ctx["noisy"]}
            return ([f"if let Some({x}) = opt({e(1)}) && flag({self.await_expr(ctx, 1)}) "
                     f"&& let Some({y}) = opt(add({x}, {self.await_expr(ctx, 1)})) {{"]
                    + self.block(inner, depth - 1, loop) + ["} else {"] + self.block(ctx, depth - 1, loop) + ["}"])
        if kind == "dead_ref":
            # References dead at the `.await`: a borrow of a local, a
            # mutable one, and a binding of a borrowed scrutinee.
            arr, r, n, m, x = (self.fresh("arr"), self.fresh("r"), self.fresh("v"), self.fresh("m"),
                               self.fresh("x"))
            lines = [f"let mut {arr} = [{e(1)}, {e(1)}, {e(1)}];",
                     f"let {r} = &{arr};",
                     f"let mut {n} = {r}[idx3({self.expr(ctx, 1, awaits=False)})];",
                     f"ev(\"{self.fresh('dr')}\", {self.await_expr(ctx, 1)});",
                     f"let {m} = &mut {arr};",
                     f"{m}[0] = add({m}[0], 1);",
                     f"ev(\"{self.fresh('dr')}\", add({arr}[0], {self.await_expr(ctx, 1)}));",
                     f"match &opt({e(1)}) {{ Some({x}) => {{ let {x} = *{x}; "
                     f"ev(\"{self.fresh('dr')}\", add({x}, {self.await_expr(ctx, 1)})); }} None => {{}} }}"]
            ctx["ints"][-1].append(n)
            return lines
        if kind == "ret":
            return [f"if {self.cond(ctx, 1)} {{ return Ok({e()}); }}"]
        raise AssertionError(kind)

    def program(self, index):
        # The sub-task first (its suspension sites are numbered from 100),
        # then the program, which may await it.
        self.sub, self.site = None, 100
        ctx = {"ints": [["a", "b"]], "noisy": [[]]}
        helper = self.block(ctx, 2, None)
        helper.append(f"Ok({self.rng.choice([v for scope in ctx['ints'] for v in scope])})")
        self.sub, self.site = index, 0
        ctx = {"ints": [["a", "b"]], "noisy": [[]]}
        body = self.block(ctx, 3, None)
        ints = [v for scope in ctx["ints"] for v in scope]
        body.append(f"Ok({self.rng.choice(ints)})")
        return helper, body


def render(lines, task):
    """One body in its task form (awaits) or plain form (calls)."""
    text = "\n".join(lines)
    if task:
        text = re.sub(r"AWAIT\((\d+)\)", r"step(\1).await", text)
        return re.sub(r"SUB_(\d+)", r"sub_task_\1", text).replace("SUBAWAIT", ".await")
    text = re.sub(r"AWAIT\((\d+)\)", r"step_plain(\1)", text)
    return re.sub(r"SUB_(\d+)", r"sub_plain_\1", text).replace("SUBAWAIT", "")


def emit(count, seed):
    rng = random.Random(seed)
    g = Gen(rng)
    out = [
        "// @generated by tests/oracle/gen.py -- do not edit; regenerate with:",
        f"// python3 tests/oracle/gen.py --count {count} --seed {seed} > tests/oracle/generated.rs",
        "#![allow(unused, unreachable_code, unused_parens, clippy::all)]",
        "use super::*;",
        "",
    ]
    for i in range(count):
        helper, body = g.program(i)
        for name, lines in ((f"sub_{{}}_{i}", helper), (f"{{}}_{i}", body)):
            # `_` parameters live to the end of the body, as in Rust.
            out.append(f"#[curio::task]\nasync fn {name.format('task')}(a: i64, b: i64, _: N) -> curio::Result<i64> {{\n{render(lines, True)}\n}}\n")
            out.append(f"fn {name.format('plain')}(a: i64, b: i64, _: N) -> curio::Result<i64> {{\n{render(lines, False)}\n}}\n")
    out.append("pub fn cases() -> Vec<Case> {\n    vec![")
    for i in range(count):
        out.append(f"        Case {{ name: \"{i}\", task: |a, b| Box::new(task_{i}(a, b, N::new(\"arg\", 0))), "
                   f"plain: |a, b| plain_{i}(a, b, N::new(\"arg\", 0)) }},")
    out.append("    ]\n}")
    source = "\n".join(out) + "\n"
    formatted = subprocess.run(["rustfmt", "--edition", "2024"], input=source, capture_output=True, text=True, check=True)
    return formatted.stdout


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=240)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    print(emit(args.count, args.seed), end="")
