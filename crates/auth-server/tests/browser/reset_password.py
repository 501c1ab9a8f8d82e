#!/usr/bin/env python3
"""Drives headless Chromium through the reset-password page, as a user who clicked the link.

Usage: reset_password.py LINK NEW_PASSWORD SCREENSHOT_DIR

Opens LINK (a reset link from a real message), checks the form and the page's security headers'
effects (no script, the served stylesheet applied), saves SCREENSHOT_DIR/form.png, first submits
two different passwords (the page must say they differ and show the form again), then
NEW_PASSWORD twice, and saves SCREENSHOT_DIR/success.png once the page says the password is
changed. Any failure ends with status 1 and says why; "ok" on the last line means it all held.
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
    link, new_password, shots = sys.argv[1], sys.argv[2], sys.argv[3]
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
        wait.until(EC.presence_of_element_located((By.ID, "new_password")))
        title = driver.title
        if "auth-server" not in title:
            fail(f"the title does not name the server: {title!r}")
        # The stylesheet is served by the server and applied (the CSP allows it): the button is
        # the blue of pages.css, not the browser's grey.
        button = driver.find_element(By.CSS_SELECTOR, "button[type=submit]")
        colour = button.value_of_css_property("background-color")
        if colour not in ("rgba(31, 111, 235, 1)", "rgb(31, 111, 235)"):
            fail(f"the stylesheet was not applied (button colour {colour})")
        driver.save_screenshot(os.path.join(shots, "form.png"))

        # Two different passwords: the page says so, and shows the form again.
        driver.find_element(By.ID, "new_password").send_keys(new_password)
        driver.find_element(By.ID, "confirm_password").send_keys(new_password + "x")
        button.click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.error")))
        said = driver.find_element(By.CSS_SELECTOR, "p.error").text
        if "differ" not in said:
            fail(f"a mismatch was not explained: {said!r}")
        driver.save_screenshot(os.path.join(shots, "mismatch.png"))

        # Now the same password twice.
        driver.find_element(By.ID, "new_password").send_keys(new_password)
        driver.find_element(By.ID, "confirm_password").send_keys(new_password)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.success")))
        body = driver.find_element(By.TAG_NAME, "body").text
        if "Password changed" not in body:
            fail(f"no success page: {body!r}")
        driver.save_screenshot(os.path.join(shots, "success.png"))

        # Nothing the CSP blocked, no script error: the console is quiet.
        for entry in driver.get_log("browser"):
            # (Chromium asks for /favicon.ico on its own, and the server has none; the mismatch
            # page's 422 was asked for above.)
            message = entry.get("message", "")
            expected = "favicon.ico" in message or (
                "/reset-password" in message and "status of 422" in message
            )
            if entry.get("level") == "SEVERE" and not expected:
                fail(f"the browser console reports: {entry.get('message')}")
    finally:
        driver.quit()
    print("ok", flush=True)


if __name__ == "__main__":
    main()
