"""Peers (a) and (b): the address search as the usual Flask + flask-cors + Selenium setup writes it.

CORS is per path through flask-cors `resources={...}`, as the seed blog post configured it.
PEER_MODE=cached (peer a): answers from an in-process dict before any browser work; a miss scrapes.
PEER_MODE=chrome_per_request (peer b): every search starts a new Chromium, drives the page with
find_element / send_keys / click / WebDriverWait, reads the rows, and quits.

Environment: PEER_MODE, PEER_ORIGINS (space separated), PEER_DEMO_URL (the demo page),
PEER_CACHE_FILE (JSON {cache key: response body}, loaded into the dict at start).
"""
import json
import os
import shutil
import tempfile
import unicodedata

from flask import Flask, Response, jsonify, request
from flask_cors import CORS
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

# The repo's modules are on the path: uWSGI's `pythonpath` (uwsgi.ini), or bench/app_cost.py's harness.
from scraper.browser import CHROMIUM_FLAGS  # the service's flags, so browsers match

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

MODE = os.environ.get("PEER_MODE", "cached")
ORIGINS = os.environ.get("PEER_ORIGINS", "https://blog.example.com http://localhost:4000").split()
DEMO_URL = os.environ.get("PEER_DEMO_URL") or "file://" + os.path.join(REPO, "demo_site", "index.html")
FIELDS = ("road_address", "jibun_address", "english_address", "zip", "building",
          "sido", "sigungu", "eupmyeondong")

app = Flask(__name__)
CORS(app, resources={
    r"/searchaddr1": {"origins": ORIGINS},
    r"/searchaddr2": {"origins": ORIGINS},
}, methods=["GET", "POST"], allow_headers=["Content-Type"], max_age=600)

answers = {}
if MODE == "cached" and os.environ.get("PEER_CACHE_FILE"):
    with open(os.environ["PEER_CACHE_FILE"], encoding="utf-8") as cache_file:
        answers.update(json.load(cache_file))


def bad_request(message, field):
    return jsonify(error={"code": "invalid_param", "message": message, "field": field}), 400


def read_whole(params, name, default, low, high):
    value = params.get(name, default)
    try:
        value = int(value)
    except (TypeError, ValueError):
        return None
    return value if low <= value <= high else None


def new_chrome():
    options = webdriver.ChromeOptions()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="peer-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    return driver, profile


def scrape_search(q, page, per_page):
    driver, profile = new_chrome()
    try:
        driver.get(DEMO_URL)
        form = driver.find_element(By.ID, "search-form")
        box = form.find_element(By.NAME, "q")
        box.send_keys(q)
        for name, value in (("page", page), ("per_page", per_page)):
            field = form.find_element(By.NAME, name)
            field.clear()
            field.send_keys(str(value))
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(driver, 10).until(expected_conditions.presence_of_element_located(
            (By.CSS_SELECTOR, "#results[data-status=ok], #results[data-status=error]")))
        results_box = driver.find_element(By.ID, "results")
        total = int(results_box.get_attribute("data-total") or 0)
        results = []
        for row in results_box.find_elements(By.CSS_SELECTOR, "tr[data-id]"):
            address = {"id": row.get_attribute("data-id")}
            for name in FIELDS:
                address[name] = row.find_element(By.CSS_SELECTOR, f'[data-field="{name}"]').text
            results.append(address)
        return total, results
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@app.route("/searchaddr1", methods=["GET", "POST"])
def searchaddr1():
    params = request.get_json(silent=True) or request.form if request.method == "POST" else request.args
    q = params.get("q")
    if not isinstance(q, str):
        return bad_request("q is required", "q")
    if any(unicodedata.category(ch).startswith("C") for ch in q):
        return bad_request("q must not contain control characters", "q")
    q = unicodedata.normalize("NFC", " ".join(q.split()))
    if not 2 <= len(q) <= 80:
        return bad_request("q must be 2 to 80 characters", "q")
    page = read_whole(params, "page", 1, 1, 100)
    if page is None:
        return bad_request("page must be 1 to 100", "page")
    per_page = read_whole(params, "per_page", 10, 1, 50)
    if per_page is None:
        return bad_request("per_page must be 1 to 50", "per_page")

    key = f"{q.casefold()}|{page}|{per_page}"
    if MODE == "cached" and key in answers:
        return Response(answers[key], mimetype="application/json")
    total, results = scrape_search(q, page, per_page)
    body = json.dumps({"query": q, "page": page, "per_page": per_page, "total": total,
                       "results": results, "source": "demo"}, ensure_ascii=False)
    if MODE == "cached":
        answers[key] = body
    return Response(body, mimetype="application/json")


application = app
