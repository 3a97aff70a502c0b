import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci_lines = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    command = ci_lines[-1]
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.S)
    assert blocks, "README has no bash block"
    assert command in [line.strip() for line in blocks[0].splitlines()]
