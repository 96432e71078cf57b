"""Write docs/report.png: the HTML report of the sample digits predictions as headless
Chromium shows it, for the README. Needs the plot extra and Chromium:

    python scripts/make_report_png.py

The report is made by the command the README shows (``xent score ... -o report.html``),
rendered at a fixed window size, and the white space below the page trimmed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "report.png"
WIDTH, HEIGHT = 1100, 2400


def main() -> int:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("chromium is not installed", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder:
        page, shot = Path(folder) / "report.html", Path(folder) / "shot.png"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "xentcli",
                "score",
                "sample_data/digits_logits.parquet",
                "sample_data/digits_labels.csv",
                "-o",
                str(page),
                "-q",
            ],
            cwd=ROOT,
            check=True,
        )
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                f"--user-data-dir={folder}/profile",
                f"--window-size={WIDTH},{HEIGHT}",
                f"--screenshot={shot}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        image = Image.open(shot).convert("RGB")
    background = Image.new("RGB", image.size, (255, 255, 255))
    box = ImageChops.difference(image, background).getbbox()
    if box is not None:  # keep the full width, cut the white below the page
        image = image.crop((0, 0, WIDTH, min(HEIGHT, box[3] + 24)))
    OUT.parent.mkdir(exist_ok=True)
    image.save(OUT, optimize=True)
    print(f"wrote {OUT.relative_to(ROOT)} ({image.size[0]}x{image.size[1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
