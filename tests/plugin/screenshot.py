"""The README's screenshot of the tab: ``python -m tests.plugin.screenshot [OUT.png]``.

TensorBoard on ``fixtures/sample`` in Debian's Chromium, the "Plateaus" tab open with
the first (worst) row expanded; written to ``docs/tab.png`` by default.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tests.plugin.support import FIXTURES, ROOT, chrome, tensorboard, wait_for


def screenshot(out: Path, row: int = 0) -> None:
    from selenium.webdriver.common.by import By

    work = Path(tempfile.mkdtemp(prefix="tbplateau-shot-"))
    args = ["--logdir", str(FIXTURES / "sample"), "--reload_interval", "0"]
    with tensorboard(args, work / "tb.log") as tb, chrome(work / "profile") as driver:
        driver.set_window_size(1400, 960)
        driver.get(tb.url + "#tbplateau")
        frame = wait_for(lambda: driver.find_element(By.TAG_NAME, "iframe"), 60, "the frame")
        driver.switch_to.frame(frame)
        wait_for(
            lambda: driver.execute_script(
                "return document.body.dataset.state === 'ready'"
                " && document.body.dataset.advicePending === '0';"
            ),
            90,
            "the report",
        )
        driver.find_elements(By.CSS_SELECTOR, "tr.series")[row].click()
        curve = "tr.detail svg path.curve"
        wait_for(lambda: driver.find_element(By.CSS_SELECTOR, curve), 30, "the chart")
        driver.switch_to.default_content()
        driver.save_screenshot(str(out))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?", type=Path, default=ROOT / "docs" / "tab.png")
    ap.add_argument("--row", type=int, default=0, help="which row to expand (0: the worst)")
    args = ap.parse_args(argv)
    screenshot(args.out, args.row)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
