"""The README's Python code blocks run as written."""
from __future__ import annotations

import re

from conftest import ROOT


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```$", text, flags=re.S | re.M)
    assert blocks, "no python block in README.md"
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block.replace("/tmp/", str(tmp_path) + "/"), "README.md", "exec"), {})
