"""How fast a malformed policy is refused: each file of the test corpus, in a real process.

Issue 2 asks for a clear one-line error "in under a second" for every malformed file,
hostile ones included (a 10 MB file, an alias bomb, binary garbage). This measures the wall
time of `python -m runbook_guard validate FILE` per file, interpreter start-up included,
and prints the slowest. Usage: python benchmarks/validate.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "engine" / "malformed"


def timed(path: Path) -> tuple[float, int, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "runbook_guard", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    return time.perf_counter() - started, done.returncode, done.stderr.strip()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        huge = Path(folder) / "ten_megabytes.yaml"
        huge.write_text("rules:\n" + "# padding\n" * 1_100_000)
        files = [*sorted(CORPUS.iterdir()), huge]
        rows = [(path.name, *timed(path)) for path in files]
    rows.sort(key=lambda row: row[1], reverse=True)
    print(f"{'file':<34} {'seconds':>8}  exit  first line of the error")
    for name, seconds, code, error in rows:
        print(
            f"{name:<34} {seconds:8.3f}  {code:>4}  {error.splitlines()[0][:70] if error else ''}"
        )
    slowest = rows[0][1]
    mean = sum(row[1] for row in rows) / len(rows)
    print(
        f"\n{len(rows)} files: slowest {slowest:.3f} s, mean {mean:.3f} s; "
        f"all exit 2: {all(row[2] == 2 for row in rows)}"
    )


if __name__ == "__main__":
    main()
