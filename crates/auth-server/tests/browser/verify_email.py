#!/usr/bin/env python3
"""Drives headless Chromium through the verify-email page, as a user who clicked the link.

Usage: verify_email.py LINK ADDRESS SCREENSHOT_DIR

Opens LINK (a verification link from a real message), checks the page (one button, the served
stylesheet applied, no script), saves SCREENSHOT_DIR/verify.png, presses the button and saves
SCREENSHOT_DIR/verified.png once the page says ADDRESS is verified. Any failure ends with
status 1 and says why; "ok" on the last line means it all held.
Needs Debian's chromium and chromium-driver (/usr/bin/chromedriver) and Python's selenium.
"""

import os
import shutil
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def fail(why):
    print(f"FAIL: {why}", flush=True)
    sys.exit(1)


def main():
    link, address, shots = sys.argv[1], sys.argv[2], sys.argv[3]
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=480,760",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    try:
        wait = WebDriverWait(driver, 20)
        driver.get(link)
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "button[type=submit]")))
        if "auth-server" not in driver.title:
            fail(f"the title does not name the server: {driver.title!r}")
        buttons = driver.find_elements(By.CSS_SELECTOR, "button")
        if len(buttons) != 1:
            fail(f"the page has {len(buttons)} buttons, not one")
        colour = buttons[0].value_of_css_property("background-color")
        if colour not in ("rgba(31, 111, 235, 1)", "rgb(31, 111, 235)"):
            fail(f"the stylesheet was not applied (button colour {colour})")
        driver.save_screenshot(os.path.join(shots, "verify.png"))

        buttons[0].click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.success")))
        said = driver.find_element(By.CSS_SELECTOR, "p.success").text
        if f"Your address {address} is verified" not in said:
            fail(f"no success page: {said!r}")
        driver.save_screenshot(os.path.join(shots, "verified.png"))

        for entry in driver.get_log("browser"):
            # (Chromium asks for /favicon.ico on its own, and the server has none.)
            message = entry.get("message", "")
            if entry.get("level") == "SEVERE" and "favicon.ico" not in message:
                fail(f"the browser console reports: {message}")
    finally:
        driver.quit()
    print("ok", flush=True)


if __name__ == "__main__":
    main()
