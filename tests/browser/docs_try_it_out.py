"""The interactive docs in a real headless Chromium: /docs renders the lookup operation, and
"Try it out" with a demo number shows that customer in the response.

Run by scripts/browser-test.sh, which starts the service and passes its address:
    .tools/venv/bin/python tests/browser/docs_try_it_out.py http://127.0.0.1:PORT
"""

import json
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

BASE = sys.argv[1].rstrip("/")
DEMO_NUMBER = "+15551234567"
ALICE = {"customer_id": "CUST-001", "name": "Alice Smith", "loyalty_points": 1500, "is_vip": True}


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    # Headless, and nothing that would reach for the network (this machine's network is closed).
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,2400"):
        options.add_argument(flag)
    # The driver from the same Debian release as the browser; no download of another.
    return webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)


def main():
    driver = browser()
    wait = WebDriverWait(driver, 30)
    try:
        driver.get(f"{BASE}/docs")
        # The lookup operation is rendered from /openapi.json.
        operation = wait.until(seen.presence_of_element_located((By.ID, "operations-lookup-lookup_post")))
        assert "/api/v1/lookup" in operation.text, operation.text
        operation.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
        try_it = wait.until(seen.element_to_be_clickable((By.CSS_SELECTOR, "#operations-lookup-lookup_post .try-out__btn")))
        if "Cancel" not in try_it.text:
            try_it.click()
        body = wait.until(seen.presence_of_element_located(
            (By.CSS_SELECTOR, "#operations-lookup-lookup_post textarea.body-param__text")))
        body.clear()
        body.send_keys(json.dumps({"phoneNumber": DEMO_NUMBER}))
        driver.find_element(By.CSS_SELECTOR, "#operations-lookup-lookup_post button.execute").click()
        # The live response: status and body as the service answered them.
        answer = wait.until(seen.presence_of_element_located(
            (By.CSS_SELECTOR, "#operations-lookup-lookup_post .live-responses-table .response-col_description pre")))
        wait.until(lambda _: "Alice Smith" in answer.text)
        status = driver.find_element(
            By.CSS_SELECTOR, "#operations-lookup-lookup_post .live-responses-table tbody .response-col_status").text
        assert status.strip() == "200", status
        shown = json.loads(answer.text)
        assert shown == ALICE, shown
        print(f"browser: /docs rendered the lookup; Try it out with {DEMO_NUMBER} answered {shown}")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
