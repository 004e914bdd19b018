#!/usr/bin/env python3
"""Sums JUnit reports -- ctest's (ctest --output-junit) and pytest's (--junitxml) -- into one line:
'N passed, F failed, M skipped'.

usage: test_summary.py STAGE=REPORT.xml [STAGE=REPORT.xml ...]
ctest: a test is skipped only when ctest says it skipped (SKIP_RETURN_CODE); one that did not run for any other
reason (missing executable, timeout) counts as failed. pytest (test cases without ctest's status attribute): a
<failure> or <error> is a failure, a <skipped> a skip (pytest.skip, e.g. data absent), anything else a pass. A stage
whose report is missing or holds no test counts as one failure. Prints a line per stage, the failed and skipped names, then the closing line; exits 1 if anything failed.
"""
import sys
import xml.etree.ElementTree as ET


def read_stage(path):
    passed, failed, skipped = [], [], []
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        return passed, [f"(no report: {e})"], skipped
    for case in root.iter("testcase"):
        name, status = case.get("name"), case.get("status")
        if status is None:  # pytest
            name = f"{case.get('classname')}::{name}"
            if case.find("failure") is not None or case.find("error") is not None:
                failed.append(name)
            elif case.find("skipped") is not None:
                skipped.append(f"{name} ({case.find('skipped').get('message', '')})")
            else:
                passed.append(name)
            continue
        if case.find("failure") is not None or status == "fail":
            failed.append(name)
        elif status == "notrun" and case.find("skipped") is not None and "SKIP_" in (case.find("skipped").get("message") or ""):
            skipped.append(name)
        elif status == "run":
            passed.append(name)
        else:
            failed.append(f"{name} (status {status})")
    if not (passed or failed or skipped):
        failed.append("(the stage ran no test)")
    return passed, failed, skipped


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    totals = [0, 0, 0]
    for arg in sys.argv[1:]:
        stage, _, path = arg.partition("=")
        passed, failed, skipped = read_stage(path)
        print(f"{stage}: {len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped")
        for n in failed:
            print(f"  FAILED  {n}")
        for n in skipped:
            print(f"  skipped {n}")
        totals = [totals[0] + len(passed), totals[1] + len(failed), totals[2] + len(skipped)]
    print(f"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    sys.exit(1 if totals[1] else 0)


if __name__ == "__main__":
    main()
