#!/usr/bin/env python3
"""Checks that a build folder's ctest entries are exactly its Catch2 test cases, each once.

For every Catch2 executable that ctest runs, the test cases it lists (--list-test-names-only) must each be one ctest
entry, and every ctest entry of that executable must name one of them. This catches the failure modes that let test
cases vanish while the run stays green: names that catch_discover_tests splits (a ';' in a name), entries that match
no test case, test cases added after the last discovery, and executables ctest does not run at all.

In a build with the fuzz targets (SPARSEDENSE_BUILD_FUZZERS), the same holds for them: every fuzz/fuzz_<name>.cpp
is built as sparsedense_fuzz_<name> and is exactly one ctest entry "fuzz: <name>" running that executable.

usage: check_test_inventory.py BUILD_DIR
Prints one line per executable and exits 1 on any mismatch.

usage: check_test_inventory.py --pytest COLLECTED.txt REPORT.xml
The Python stage: every test pytest collected (`pytest --collect-only -q` output) is exactly one test case of the
JUnit report (--junitxml) and the report holds no other, so no test was lost between collection and the run.
"""
import json
import re
import os
import subprocess
import sys


def ctest_entries(build_dir):
    out = subprocess.run(["ctest", "--test-dir", build_dir, "--show-only=json-v1"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["tests"]


def catch_executables(build_dir):
    """Every sparsedense_test_* executable under build_dir/tests."""
    found = []
    for root, _, files in os.walk(os.path.join(build_dir, "tests")):
        for name in files:
            path = os.path.join(root, name)
            if name.startswith("sparsedense_test_") and os.access(path, os.X_OK) and "." not in name:
                found.append(os.path.realpath(path))
    return sorted(found)


def fuzz_problems(build_dir, entries):
    """Problems with the fuzz targets' ctest entries (none when the build has no fuzz folder); prints a summary."""
    fuzz_build = os.path.join(build_dir, "fuzz")
    if not os.path.isdir(fuzz_build):
        return [], 0
    source_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz")
    names = sorted(f[len("fuzz_"):-len(".cpp")] for f in os.listdir(source_dir) if f.startswith("fuzz_") and f.endswith(".cpp"))
    problems = []
    by_name = {}
    for t in entries:
        if t["name"].startswith("fuzz: "):
            by_name.setdefault(t["name"][len("fuzz: "):], []).append(t)
    for name in names:
        exe = os.path.join(fuzz_build, "sparsedense_fuzz_" + name)
        found = by_name.get(name, [])
        if not os.access(exe, os.X_OK):
            problems.append(f"fuzz target {name}: executable {exe} not built")
        if len(found) != 1:
            problems.append(f"fuzz target {name}: {len(found)} ctest entries, expected 1")
        elif os.path.realpath(found[0]["command"][0]) != os.path.realpath(exe):
            problems.append(f"fuzz target {name}: its ctest entry runs {found[0]['command'][0]}")
    for name in sorted(set(by_name) - set(names)):
        problems.append(f"ctest entry 'fuzz: {name}' matches no fuzz/fuzz_{name}.cpp")
    print(f"inventory: {len(names)} fuzz targets, {sum(len(v) for v in by_name.values())} fuzz ctest entries")
    return problems, len(names)


def listed_test_cases(exe):
    out = subprocess.run([exe, "--list-test-names-only"], capture_output=True, text=True).stdout
    return [line.rstrip("\r") for line in out.splitlines() if line.strip()]


def pytest_problems(collected_path, report_path):
    """Collected node ids vs the report's test cases (classname + name, as pytest writes them)."""
    import xml.etree.ElementTree as ET

    with open(collected_path) as f:
        node_ids = [line.strip() for line in f if "::" in line and not line.startswith(" ")]
    expected = []
    for node in node_ids:
        path, *rest = node.split("::")
        name = rest[-1]
        classname = path[:-3].replace("/", ".") + "".join("." + c for c in rest[:-1]) if path.endswith(".py") else path
        expected.append(f"{classname}::{name}")
    try:
        root = ET.parse(report_path).getroot()
    except (OSError, ET.ParseError) as e:
        return [f"pytest report {report_path}: {e}"], 0
    got = [f"{c.get('classname')}::{c.get('name')}" for c in root.iter("testcase")]
    problems = []
    if not expected:
        problems.append(f"pytest collected no test ({collected_path})")
    for name in sorted(set(expected) - set(got)):
        problems.append(f"pytest: collected but not in the report: {name}")
    for name in sorted(set(got) - set(expected)):
        problems.append(f"pytest: in the report but not collected: {name}")
    for name in sorted({n for n in got if got.count(n) > 1}):
        problems.append(f"pytest: reported more than once: {name}")
    for name in sorted({n for n in expected if expected.count(n) > 1}):
        problems.append(f"pytest: collected more than once: {name}")
    return problems, len(expected)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--pytest":
        problems, n = pytest_problems(sys.argv[2], sys.argv[3])
        if problems:
            print("\n".join("inventory error: " + p for p in problems))
            sys.exit(1)
        print(f"inventory: {n} pytest tests collected, each one test case of the report")
        return
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build_dir = sys.argv[1]
    entries = ctest_entries(build_dir)
    by_exe = {}
    for t in entries:
        cmd = t.get("command") or []
        if cmd:
            by_exe.setdefault(os.path.realpath(cmd[0]), []).append(t["name"])
    problems, fuzz_targets = fuzz_problems(build_dir, entries)
    exes = catch_executables(build_dir)
    if not exes and not fuzz_targets:
        problems.append(f"no test executables found under {build_dir}/tests")
    total = 0
    for exe in exes:
        module = os.path.basename(exe)[len("sparsedense_test_"):]
        cases = listed_test_cases(exe)
        # ctest names are "<module>:<test case>" (TEST_PREFIX "<module>: "; CMake drops the trailing blank)
        expected = list(cases)
        got = [re.sub(rf"^{re.escape(module)}: ?", "", n, count=1) for n in by_exe.get(exe, [])]
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        dup = sorted({n for n in got if got.count(n) > 1})
        semi = [c for c in cases if ";" in c]
        for name in semi:
            problems.append(f"{module}: test case name contains ';' (catch_discover_tests splits it): {name!r}")
        for name in missing:
            problems.append(f"{module}: test case has no ctest entry (re-run cmake?): {name!r}")
        for name in extra:
            problems.append(f"{module}: ctest entry matches no test case: {name!r}")
        for name in dup:
            problems.append(f"{module}: ctest entry appears more than once: {name!r}")
        total += len(cases)
        print(f"inventory: {os.path.basename(exe)}: {len(cases)} test cases, {len(got)} ctest entries")
    if problems:
        print("\n".join("inventory error: " + p for p in problems))
        sys.exit(1)
    print(f"inventory: {total} Catch2 test cases in {len(exes)} executables, each one ctest entry; "
          f"{fuzz_targets} fuzz targets, each one ctest entry; {len(entries) - total - fuzz_targets} other ctest entries")


if __name__ == "__main__":
    main()
