#!/usr/bin/env python3
"""Prints the table of exported functions and the tests that call them (bindings/README.md).

The exported surface is read from the generated Python module (`gridwork_ffi.py`, made by
`bindings/generate.sh python`): its top-level functions and the public methods of its objects.
A function counts as covered by a test file when that file calls it by name — `camelName(` in
the Kotlin tests, `snake_name(` in the pytest tests, `.snake_name(` / `::snake_name(` in the
Rust tests. A grep, not a proof: it shows where each function is exercised.

    python3 bindings/coverage.py > /tmp/table.md
"""

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent
GENERATED = ROOT / "python" / "gridwork" / "gridwork_ffi.py"
OBJECTS = ["GridworkStore", "GridworkSync", "Subscription", "GridworkError"]


def camel(name):
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def exported():
    tree = ast.parse(GENERATED.read_text())
    out = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith(("_", "uniffi")):
            out.append(("", node.name))
        if isinstance(node, ast.ClassDef) and node.name in OBJECTS:
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and not item.name.startswith("_"):
                    if node.name == "GridworkError" and item.name != "code":
                        continue
                    out.append((node.name, item.name))
    # Foreign traits the app implements (covered where a test implements them).
    for trait, method in [("DataObserver", "on_data_changed"), ("SyncProgressObserver", "on_progress")]:
        out.append((trait, method))
    seen, unique = set(), []
    for o in out:
        if o not in seen:
            seen.add(o)
            unique.append(o)
    return unique


def files(pattern):
    return {p: p.read_text() for p in sorted(ROOT.glob(pattern))}


def main():
    kotlin = files("kotlin/src/test/kotlin/**/*.kt")
    python = files("python/tests/*.py")
    rust = files("tests/*.rs")
    rows = []
    covered = 0
    def pattern(name, corpus):
        # A test helper of the same name (`fun household(`) does not count: require `.name(`.
        helpers = set(re.findall(r"\b(?:fun|def|fn) (\w+)\(", "\n".join(corpus.values())))
        lead = r"\." if name in helpers else r"(?<!fun )(?<!def )(?<!fn )\b"
        return re.compile(lead + re.escape(name) + r"\(")

    def users(name, corpus, implemented=False):
        # A foreign trait's method is covered where a test implements it.
        pat = re.compile(r"\b(?:fun|def|fn) " + name + r"\(") if implemented else pattern(name, corpus)
        return sorted({p.stem for p, t in corpus.items() if pat.search(t)})

    for owner, name in exported():
        foreign = owner in ("DataObserver", "SyncProgressObserver")
        kt, py, rs = (users(camel(name), kotlin, foreign), users(name, python, foreign),
                      users(name, rust, foreign))
        if kt or py or rs:
            covered += 1
        label = f"`{owner}.{name}`" if owner else f"`{name}`"
        rows.append(f"| {label} | {', '.join(kt) or '—'} | {', '.join(py) or '—'} | {', '.join(rs) or '—'} |")
    print(f"{covered} of {len(rows)} exported functions and methods are called by at least one test.\n")
    print("| exported | Kotlin (JUnit) | Python (pytest) | Rust (`cargo test -p gridwork-ffi`) |")
    print("| --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
