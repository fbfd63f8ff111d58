#!/usr/bin/env python3
"""Opens a report's index.html in headless Chromium (Debian's chromium + chromium-driver,
driven by Selenium) and checks it as a reader would see it:

- every <img> loaded (complete, with a natural width);
- at T = 0 the saving reads 0.00%, never -0.00%;
- moving the inference slider (arrow keys, as a user does) changes the inference-aware
  optimum shown, and moves it to smaller models;
- at each position in the page's #checks (values computed by ladder-fit in Rust), the
  page's own JavaScript optimum agrees to 1e-6;
- a screenshot is written.

Usage: check_report.py INDEX_HTML SCREENSHOT_PNG
"""
import json
import os
import pathlib
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")


def fail(msg: str) -> None:
    print(f"check_report: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def main() -> int:
    index, shot = pathlib.Path(sys.argv[1]).resolve(), sys.argv[2]
    profile = tempfile.mkdtemp(prefix="ladder-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", f"--user-data-dir={profile}", "--window-size=1100,2400"]:
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        driver.get(index.as_uri())
        imgs = driver.execute_script(
            "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth]);")
        if len(imgs) < 7:
            fail(f"expected at least 7 figures, found {len(imgs)}")
        broken = [alt for alt, done, width in imgs if not (done and width > 0)]
        if broken:
            fail(f"images that did not load: {broken}")
        print(f"{len(imgs)} images loaded")

        value = lambda: float(driver.find_element(By.ID, "inf-n").get_attribute("data-value"))
        slider = driver.find_element(By.ID, "tokens")
        before = value()
        slider.click()  # focus; a click may move it too, so read the position after
        for _ in range(30):
            slider.send_keys(Keys.ARROW_RIGHT)
        pos = int(slider.get_attribute("value"))
        after = value()
        if pos == 0 or not (after < before):
            fail(f"slider at {pos}: inference-aware N went from {before} to {after}; "
                 "expected a smaller model")
        print(f"slider 0 -> {pos}: inference-aware N {before:.4g} -> {after:.4g}")

        checks = json.loads(driver.find_element(By.ID, "checks").get_attribute("textContent"))
        if not checks:
            fail("the page has no #checks")
        for c in checks:
            driver.execute_script(
                "const s = document.getElementById('tokens'); s.value = arguments[0];"
                "s.dispatchEvent(new Event('input'));", c["slider"])
            got = value()
            if abs(got / c["n"] - 1) > 1e-6:
                fail(f"slider {c['slider']}: page N {got} vs ladder-fit {c['n']}")
        print(f"{len(checks)} slider positions agree with ladder-fit to 1e-6")
        # At T = 0 the two models coincide: the saving must read 0.00%, not -0.00%.
        driver.execute_script(
            "const s = document.getElementById('tokens'); s.value = 0;"
            "s.dispatchEvent(new Event('input'));")
        saved = driver.find_element(By.ID, "saved").text
        if saved.startswith("-0.0"):
            fail(f"at T = 0 the saving reads {saved}")
        print(f"saving at T = 0: {saved}")
        driver.save_screenshot(shot)
        print(f"screenshot: {shot}")
    finally:
        driver.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
