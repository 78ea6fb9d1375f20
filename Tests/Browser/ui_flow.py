#!/usr/bin/env python3
"""Ferry's web UI in headless Chromium (Debian's chromium and chromium-driver, driven by
Selenium): the guide's whole flow as a tenant's admin does it, then the security and
accessibility checks. Run by Tests/FerryServerTests/WebUIBrowserTests.swift, which starts
the AWS emulator (IAM enforcement on), the bucket and `ferry serve`, and passes them in
the environment. Prints one line per check; exits non-zero at the first failure.

Screenshots of every page go to FERRY_SCREENSHOTS (git-ignored). Accessibility is checked
with axe-core (axe-selenium-python) on every page: WCAG 2 A and AA rules, contrast among
them."""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

URL = os.environ["FERRY_URL"].rstrip("/")
TOKEN = os.environ["FERRY_TOKEN"]
BUCKET = os.environ["FERRY_BUCKET"]
PREFIX = os.environ["FERRY_PREFIX"]
WORD = os.environ["FERRY_WORD"]           # a word every event of the bucket has
EVENTS = int(os.environ["FERRY_EVENTS"])  # how many events the bucket holds
OBJECTS = int(os.environ["FERRY_OBJECTS"])
HOSTILE_LINE_WORD = os.environ["FERRY_HOSTILE_WORD"]  # the word of the hostile log line
PLATFORM_ACCOUNT = os.environ["FERRY_PLATFORM_ACCOUNT"]
CUSTOMER_ACCOUNT = os.environ["FERRY_CUSTOMER_ACCOUNT"]
SHOTS = os.environ["FERRY_SCREENSHOTS"]
CUSTOMER_ENV = json.loads(os.environ["FERRY_CUSTOMER_ENV"])
PLATFORM_PRINCIPAL = os.environ["FERRY_PLATFORM_PRINCIPAL"]
os.makedirs(SHOTS, exist_ok=True)

# What a hostile value would do if it ran: set this global.
XSS = '<img src=x onerror="window.__ferryXSS=1"><script>window.__ferryXSS=1</script>'
HOSTILE_NAME = 'Evil <img src=x onerror="window.__ferryXSS=1">'


def check(condition, what):
    if not condition:
        print(f"FAIL: {what}", flush=True)
        raise SystemExit(1)
    print(f"ok: {what}", flush=True)


def api(path, token=TOKEN, body=None, method=None):
    request = urllib.request.Request(URL + path, method=method or ("POST" if body is not None else "GET"))
    request.add_header("Authorization", "Bearer " + token)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, data) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def make_driver():
    options = Options()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--disable-gpu", "--lang=en-US"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    origin = urllib.parse.urlsplit(URL)
    driver.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": f"{origin.scheme}://{origin.netloc}",
        "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
    })
    return driver


driver = make_driver()
wait = WebDriverWait(driver, 30)
axe_source = None


def shot(name, max_height=3200):
    """The whole page, not only the window (through Chromium's DevTools protocol)."""
    import base64
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], max_height), "scale": 1}
    data = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True, "clip": clip})
    with open(os.path.join(SHOTS, name + ".png"), "wb") as f:
        f.write(base64.b64decode(data["data"]))


def shot_of(name, element_id):
    """The window, scrolled to one element."""
    driver.execute_script("document.getElementById(arguments[0]).scrollIntoView({block: 'start'})", element_id)
    driver.save_screenshot(os.path.join(SHOTS, name + ".png"))


def no_script_ran(where):
    ran = driver.execute_script("return window.__ferryXSS === 1")
    try:
        driver.switch_to.alert
        alert = True
    except NoAlertPresentException:
        alert = False
    check(not ran and not alert, f"no injected script ran on {where}")


def accessible(where):
    """axe-core's WCAG 2 A and AA rules on the page as it is."""
    global axe_source
    if axe_source is None:
        import axe_selenium_python
        path = os.path.join(os.path.dirname(axe_selenium_python.__file__),
                            "node_modules", "axe-core", "axe.min.js")
        with open(path) as f:
            axe_source = f.read()
    driver.execute_script(axe_source)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
        ".then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' @ ' +"
        " v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))), e => done(['axe failed: ' + e]));")
    check(result == [], f"axe finds no WCAG 2 A/AA violation on {where}" + ("" if not result else f": {result}"))


def go(path):
    driver.get(URL + path)


def text():
    return driver.find_element(By.TAG_NAME, "body").text


def shows(words):
    """For waits: whether the page shows `words` (False while it is being replaced)."""
    try:
        return words in text()
    except Exception:
        return False


def clipboard():
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, e => done('clipboard unreadable: ' + e));")


def csrf_of_page():
    return driver.find_element(By.CSS_SELECTOR, "form[action='/sign-out'] input[name=csrf]").get_attribute("value")


def post_form(path, fields, with_cookie=True):
    """A form post from outside the page, with the browser's session cookie."""
    request = urllib.request.Request(URL + path, data=urllib.parse.urlencode(fields).encode(), method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    if with_cookie:
        cookie = driver.get_cookie("ferry_session")
        request.add_header("Cookie", f"ferry_session={cookie['value']}")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def sign_in(token, keyboard=False):
    go("/sign-in")
    field = driver.find_element(By.ID, "token")
    if keyboard:
        # Keyboard only: Tab from the top of the page to the token field, type, Enter.
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys(Keys.TAB)
        for _ in range(6):
            if driver.switch_to.active_element.get_attribute("id") == "token":
                break
            driver.switch_to.active_element.send_keys(Keys.TAB)
        active = driver.switch_to.active_element
        check(active.get_attribute("id") == "token", "Tab reaches the token field")
        outline = driver.execute_script(
            "const s = getComputedStyle(document.activeElement); return s.outlineStyle + ' ' + s.outlineWidth;")
        check(not outline.startswith("none"), f"the focused field shows a focus ring ({outline})")
        active.send_keys(token)
        active.send_keys(Keys.ENTER)
    else:
        field.send_keys(token)
        field.submit()


try:
    # 1. Sign in: a wrong token is refused with the reason; the right one, by keyboard only.
    go("/")
    wait.until(EC.url_contains("/sign-in"))
    check("Sign in to Ferry" in text(), "an anonymous visitor is sent to sign in")
    shot("01-sign-in")
    accessible("the sign-in page")
    field = driver.find_element(By.ID, "token")
    field.send_keys("fry_" + "x" * 40)
    field.submit()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".problem")))
    check("Ferry does not know that token" in text(), "a wrong token is refused with what to do")
    sign_in(TOKEN, keyboard=True)
    wait.until(EC.url_contains("/buckets"))
    check("No bucket is connected yet" in text(), "the empty Buckets page says what to do next")
    shot("02-buckets-empty")
    accessible("the empty Buckets page")
    session = driver.get_cookie("ferry_session")
    check(session is not None and session.get("httpOnly") and session.get("sameSite") == "Strict",
          "the session cookie is HttpOnly and SameSite=Strict")

    # 2. Connection info, with copy buttons.
    driver.find_element(By.LINK_TEXT, "Connection info").click()
    wait.until(EC.presence_of_element_located((By.ID, "external-id")))
    status, info = api("/api/v1/connection-info")
    external_id = info["externalId"]
    check(driver.find_element(By.ID, "aws-account-id").text == PLATFORM_ACCOUNT, "the Account ID is Ferry's AWS account")
    check(driver.find_element(By.ID, "external-id").text == external_id, "the External ID is the account's")
    driver.find_element(By.CSS_SELECTOR, "button[data-copy=external-id]").click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "button[data-copy=external-id]").text == "Copied")
    check(clipboard() == external_id, "Copy puts the External ID on the clipboard")
    shot("03-connection-info")
    accessible("Connection info")

    # 3. Add a bucket: the details, then the policies and scripts.
    driver.find_element(By.LINK_TEXT, "+ Add a bucket").click()
    wait.until(EC.presence_of_element_located((By.ID, "bucket")))
    driver.find_element(By.ID, "bucket").send_keys(BUCKET)
    driver.find_element(By.ID, "prefix").send_keys(PREFIX)
    driver.find_element(By.ID, "name").send_keys("app-logs")
    driver.find_element(By.CSS_SELECTOR, "#logType option[value=json]").click()
    accessible("Add a bucket (step 1)")
    driver.find_element(By.CSS_SELECTOR, "#bucket-form button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.ID, "file-script")))
    check("q=" not in driver.current_url and "bucket=" + BUCKET in driver.current_url, "the form's values are in the URL")
    permissions = json.loads(driver.find_element(By.ID, "file-permissions").text)
    actions = {a for s in permissions["Statement"] for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    check("s3:GetObject" in actions and "s3:ListBucket" in actions, "the permissions policy grants list and read")
    shot("04-add-bucket-policies", max_height=1500)
    accessible("Add a bucket (policies)")
    for details in driver.find_elements(By.CSS_SELECTOR, "details.file"):
        if details.get_attribute("open") is None:
            details.find_element(By.TAG_NAME, "summary").click()
    script = driver.find_element(By.ID, "file-script").text
    check(external_id in script, "the AWS CLI script carries the External ID")
    driver.find_element(By.CSS_SELECTOR, "button[data-copy=file-script]").click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "button[data-copy=file-script]").text == "Copied")
    copied = clipboard()
    check(copied.strip() == script.strip(), "Copy puts the AWS CLI script on the clipboard")
    link = driver.find_element(By.CSS_SELECTOR, "a[download='create-ferry-role.sh']").get_attribute("href")
    request = urllib.request.Request(link)
    request.add_header("Cookie", f"ferry_session={driver.get_cookie('ferry_session')['value']}")
    with urllib.request.urlopen(request) as response:
        downloaded = response.read().decode()
        disposition = response.headers.get("Content-Disposition", "")
    check("attachment" in disposition and downloaded.strip() == script.strip(), "Download gives the same script as a file")

    # 4. Create the role in AWS with the copied script, as the customer.
    script_path = os.path.join(SHOTS, "create-ferry-role.sh")
    with open(script_path, "w") as f:
        f.write(copied)
    env = dict(os.environ)
    env.update(CUSTOMER_ENV)
    env["ROLE_NAME"] = "ferry-ui-fetcher"
    ran = subprocess.run(["bash", script_path], env=env, capture_output=True, text=True, timeout=120)
    check(ran.returncode == 0, "the copied AWS CLI script creates the role" + ("" if ran.returncode == 0 else ": " + ran.stderr[-2000:]))
    role_arn = f"arn:aws:iam::{CUSTOMER_ACCOUNT}:role/ferry-ui-fetcher"

    # 5. Paste the role ARN, Save: each step shows as it runs, then success.
    driver.find_element(By.ID, "roleArn").send_keys(role_arn)
    # Count the steps shown live, before the final result replaces them.
    driver.execute_script("""
        window.__liveSteps = 0;
        new MutationObserver(() => {
          window.__liveSteps = Math.max(window.__liveSteps, document.querySelectorAll('#check-live li').length);
        }).observe(document.getElementById('check-live'), {childList: true, subtree: true});""")
    driver.find_element(By.CSS_SELECTOR, "#save-form button[type=submit]").click()
    WebDriverWait(driver, 90).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#check-result h2")))
    result = driver.find_element(By.ID, "check-result").text
    check("Every check passed" in result, "Save checks the role and every step passes")
    live = driver.execute_script("return window.__liveSteps")
    # The last step and the result can arrive in one read of the stream, so the observer may
    # see them together: three steps seen before the result already prove the streaming.
    check(live >= 3, f"each step was shown as it finished, before the result ({live} live steps)")
    for title in ["The role ARN is valid", "Ferry can assume the role with your external ID",
                  "The role refuses any other external ID", "Ferry can list the bucket under the prefix",
                  "Ferry can read an object"]:
        check(title in result, f"the step '{title}' is shown")
    check(driver.find_elements(By.CSS_SELECTOR, "#check-result li.step.passed"), "passed steps are marked")
    shot_of("05-add-bucket-saved", "save-title")
    accessible("Add a bucket (saved)")

    # 6. Watch events arrive on the fetcher's page.
    driver.find_element(By.LINK_TEXT, "Watch its objects arrive").click()
    wait.until(EC.url_contains("/fetchers/"))
    fetcher_url = driver.current_url
    fetcher_id = fetcher_url.rsplit("/", 1)[1].split("?")[0]
    deadline = time.time() + 120
    while time.time() < deadline:
        objects = driver.find_element(By.CSS_SELECTOR, "dd.objects").text
        if objects == f"{OBJECTS}/{OBJECTS}":
            break
        time.sleep(2)
        driver.refresh()
    check(driver.find_element(By.CSS_SELECTOR, "dd.objects").text == f"{OBJECTS}/{OBJECTS}",
          f"all {OBJECTS} objects are ingested, shown on the fetcher's page")
    check(driver.find_element(By.CSS_SELECTOR, "dd.events").text.replace(",", "") == str(EVENTS),
          f"the page counts {EVENTS} events")
    rows = driver.find_elements(By.CSS_SELECTOR, "tbody tr")
    check(len(rows) == OBJECTS and all("ingested" in r.text for r in rows), "the ledger lists every object as ingested")
    shot("06-fetcher-objects")
    accessible("a fetcher's objects")

    # Reprocess one object from the ledger.
    driver.find_element(By.CSS_SELECTOR, "tbody tr button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".notice")))
    check("will be read again" in text(), "Reprocess says the object will be read again")

    # 7. Buckets: the connection and the fetcher with its progress.
    go("/buckets")
    check("app-logs" in text() and "ok" in text(), "Buckets lists the connection and its fetcher")
    shot("07-buckets")
    accessible("Buckets")

    # 8. Search one word; results expand to fields; the histogram counts them all.
    driver.find_element(By.LINK_TEXT, "Search").click()
    box = wait.until(EC.presence_of_element_located((By.ID, "q")))
    box.clear()
    box.send_keys(WORD)
    box.send_keys(Keys.ENTER)
    wait.until(EC.url_contains("q=" + WORD))
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "ol.events li")))
    # The reprocessed object may still be in flight; the count settles at EVENTS.
    deadline = time.time() + 60
    while time.time() < deadline:
        total = driver.find_element(By.CSS_SELECTOR, ".histogram .total").text.replace(",", "")
        if total == str(EVENTS):
            break
        time.sleep(2)
        driver.refresh()
    check(total == str(EVENTS), f"the histogram counts {EVENTS} matching events (got {total})")
    bars = driver.find_elements(By.CSS_SELECTOR, ".histogram rect")
    check(len(bars) >= 1, "the histogram draws bars")
    keys = [k.text for k in driver.find_elements(By.CSS_SELECTOR, ".histogram-key")]
    check(keys[:2] == ["info", "warn"] and len(driver.find_elements(By.CSS_SELECTOR, ".histogram > svg rect.lvl-1")) == 1,
          f"the bars are stacked by level: info, then the one warn ({keys})")
    first = driver.find_element(By.CSS_SELECTOR, "ol.events li details")
    first.find_element(By.TAG_NAME, "summary").click()
    fields = first.find_element(By.CSS_SELECTOR, "table.fields").text
    check("level" in fields, "an event expands to its parsed fields")
    keys = first.find_elements(By.CSS_SELECTOR, "pre.json .j-k")
    check(keys and keys[0].text.startswith('"'), "a JSON event is shown indented, its keys coloured")
    shot("08-search", max_height=1150)
    accessible("Search")
    # Facets: the fields of the matches with their top values; clicking one gives the same
    # events as typing its query, and its count is theirs; the minus leaves them out.
    facet = driver.find_element(By.CSS_SELECTOR, ".facets .facet")
    field = facet.find_element(By.TAG_NAME, "code").text
    first_value = facet.find_element(By.CSS_SELECTOR, "li")
    value = first_value.find_element(By.CSS_SELECTOR, ".facet-value").text
    count = int(first_value.find_element(By.CSS_SELECTOR, ".count").text.replace(",", ""))
    first_value.find_element(By.CSS_SELECTOR, ".facet-value").click()
    wait.until(EC.url_contains("q="))
    typed = driver.find_element(By.ID, "q").get_attribute("value")
    check(typed == f'{WORD} {field}:"{value}"', f"a facet value adds {field}:\"{value}\" to the query ({typed!r})")
    clicked_total = int(driver.find_element(By.CSS_SELECTOR, ".histogram .total").text.replace(",", ""))
    check(clicked_total == count, f"the facet's count is what its filter finds ({count} vs {clicked_total})")
    go("/search")
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys(typed)
    box.send_keys(Keys.ENTER)
    wait.until(EC.url_contains("q="))
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".histogram .total")))
    typed_total = int(driver.find_element(By.CSS_SELECTOR, ".histogram .total").text.replace(",", ""))
    check(typed_total == clicked_total,
          f"the typed query finds the same events as the click ({typed_total} vs {clicked_total}, {driver.current_url})")
    go("/search?q=" + WORD)
    driver.find_element(By.CSS_SELECTOR, ".facets .facet li .facet-exclude").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".histogram .total")))
    left = int(driver.find_element(By.CSS_SELECTOR, ".histogram .total").text.replace(",", ""))
    check(left == EVENTS - count, f"excluding the value leaves the others ({left} of {EVENTS})")
    # Columns: level by default for JSON logs; a field's "as a column" adds it, kept in the
    # URL and carried by the page's links (a preset keeps it).
    go("/search?q=" + WORD)
    head = driver.find_element(By.CSS_SELECTOR, ".events-head").get_attribute("textContent")
    check("level" in head, f"JSON logs show level as a column by default ({head!r})")
    def level_toggle():
        for section in driver.find_elements(By.CSS_SELECTOR, ".facets .facet"):
            if section.find_element(By.TAG_NAME, "code").text == "level":
                return section.find_element(By.CSS_SELECTOR, ".column-toggle")
        return None
    toggle = level_toggle()
    check(toggle is not None and toggle.text == "hide column", "a shown column can be hidden from its field")
    toggle.click()
    wait.until(EC.url_contains("cols="))
    head = driver.find_element(By.CSS_SELECTOR, ".events-head").get_attribute("textContent")
    check("level" not in head, f"hidden, level is no column ({head!r})")
    toggle = level_toggle()
    check(toggle.text == "as a column", "and offers to become one again")
    toggle.click()
    wait.until(EC.url_contains("cols=level"))
    column = "level"
    head = driver.find_element(By.CSS_SELECTOR, ".events-head").get_attribute("textContent")
    check(column in head, f"the chosen field {column} is a column ({head!r})")
    cells = driver.find_elements(By.CSS_SELECTOR, f"ol.events li summary .cell[title='{column}']")
    check(len(cells) >= 1 and cells[0].text.split(":")[-1].strip() in ("info", "warn"), f"each event shows its value in that column ({[c.text for c in cells[:2]]})")
    driver.find_element(By.LINK_TEXT, "1 hour").click()
    check("cols=" in driver.current_url and column in driver.find_element(By.CSS_SELECTOR, ".events-head").get_attribute("textContent"),
          "a preset keeps the columns")
    accessible("Search with columns")
    # An event's field filters on its value.
    go("/search?q=" + WORD)
    first = driver.find_element(By.CSS_SELECTOR, "ol.events li details")
    first.find_element(By.TAG_NAME, "summary").click()
    first.find_element(By.CSS_SELECTOR, "table.fields a.filter-link").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".histogram .total")))
    check(":\"" in driver.find_element(By.ID, "q").get_attribute("value"), "a field's filter link adds field:\"value\"")
    go("/search?q=" + WORD)
    shared = driver.current_url
    go("/buckets")
    driver.get(shared)
    check(driver.find_element(By.ID, "q").get_attribute("value") == WORD, "the URL holds the query, so it can be shared")
    driver.find_element(By.CSS_SELECTOR, "#query-help summary").click()
    check("field status is 500" in text(), "the query language's help is one click away")

    # A malformed query: what was wrong and how to fix it, the query kept.
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys("status:")
    box.send_keys(Keys.ENTER)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".problem")))
    check("column" in text() and driver.find_element(By.ID, "q").get_attribute("value") == "status:",
          "a malformed query says where it is wrong and keeps the query")
    problem = driver.find_element(By.CSS_SELECTOR, ".problem").text
    check("q:" not in problem and "docs/" not in problem and "Query language help" in problem,
          "the query's problem is in the user's words, with a link to the help (%r)" % problem)
    # Quick ranges reach the account's retention (30 days by default).
    presets = driver.find_element(By.CSS_SELECTOR, "nav.presets").text
    check("15 minutes" in presets and "30 days" in presets, "quick ranges from 15 minutes to 30 days")

    # An empty range says where the matching events are, and one click shows them; a
    # relative time as Grafana writes it (now-2d) is accepted.
    go("/search?q=" + WORD + "&from=now-3d&to=now-2d")
    hint = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".empty"))).text
    check("No events match between" in hint and "The newest matching event is at" in hint,
          "an empty range names the newest matching event (%r)" % hint)
    driver.find_element(By.LINK_TEXT, "Show it").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "ol.events li")))
    check(len(driver.find_elements(By.CSS_SELECTOR, ".empty")) == 0, "Show it opens a range with the event")
    accessible("Search (around the newest match)")
    go("/search?q=nosuchwordanywhere" + WORD + "&from=1h")
    check("None matches in the last 30 days" in text(), "a query matching nothing kept says so")

    # 9. The hostile log line is shown as text.
    go("/search?q=" + HOSTILE_LINE_WORD + "&from=7d")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "ol.events li")))
    check("<img src=x onerror=" in text() and "<script>window.__ferryXSS=1</script>" in text(),
          "a hostile log line is shown as text")
    no_script_ran("search results with a hostile log line")

    # 10. A broken role and its diagnosis: the role of bucket A used for another bucket.
    go("/buckets/new?purpose=fetcher&bucket=" + BUCKET + "-deny&prefix=" + PREFIX + "&region=us-east-1")
    driver.find_element(By.ID, "roleArn").send_keys(role_arn)
    driver.find_element(By.CSS_SELECTOR, "#save-form button[type=submit]").click()
    WebDriverWait(driver, 90).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#check-result h2")))
    result = driver.find_element(By.ID, "check-result").text
    check("Ferry cannot use the role yet" in result, "a broken role fails the check")
    check("What went wrong" in result and "Cause:" in result and "Fix:" in result, "the diagnosis names the step, cause and fix")
    check(driver.find_elements(By.ID, "statement-to-add") and "s3:ListBucket" in driver.find_element(By.ID, "statement-to-add").text,
          "the diagnosis gives the statement to add")
    check(driver.find_element(By.ID, "roleArn").get_attribute("value") == role_arn, "the role ARN stays in the form to try again")
    shot_of("09-diagnosis", "save-title")
    accessible("a failed check's diagnosis")

    # 11. Hostile prefix and role ARN are shown escaped.
    go("/buckets/new?purpose=fetcher&bucket=" + BUCKET + "&prefix=" + urllib.parse.quote(XSS) + "&region=us-east-1")
    no_script_ran("Add a bucket with a hostile prefix")
    page = driver.page_source
    check("<script>window.__ferryXSS" not in page, "the hostile prefix is escaped in the page")
    go("/buckets/new?purpose=fetcher&bucket=" + BUCKET + "&prefix=" + PREFIX + "&region=us-east-1")
    driver.find_element(By.ID, "roleArn").send_keys("arn:aws:iam::123456789012:role/" + XSS)
    driver.find_element(By.CSS_SELECTOR, "#save-form button[type=submit]").click()
    WebDriverWait(driver, 60).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#check-result .problem, #check-result h2")))
    no_script_ran("a hostile role ARN's error")
    shown = driver.find_element(By.ID, "check-result").text
    check('"script>" is not a valid IAM role name' in shown, "the hostile role ARN's error quotes it as text: " + shown[:400].replace("\n", " "))

    # 12. A form posted without the CSRF token, or with a wrong one, is refused.
    status, body = post_form(f"/fetchers/{fetcher_id}/pause", {})
    check(status == 403, f"a form without the CSRF token is refused ({status})")
    status, body = post_form(f"/fetchers/{fetcher_id}/pause", {"csrf": "0" * 40})
    check(status == 403, f"a form with a wrong CSRF token is refused ({status})")
    status, fetcher = api(f"/api/v1/fetchers/{fetcher_id}")
    check(fetcher["enabled"] is True, "the refused forms changed nothing")
    go("/buckets")
    status, body = post_form(f"/fetchers/{fetcher_id}/pause", {"csrf": csrf_of_page()})
    check(status == 303, "the same form with the session's token is accepted")
    status, fetcher = api(f"/api/v1/fetchers/{fetcher_id}")
    check(fetcher["enabled"] is False, "and it paused the fetcher")
    go("/buckets")
    driver.find_element(By.CSS_SELECTOR, f"tr[data-fetcher='{fetcher_id}'] form[action$='/resume'] button").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".notice")))
    check("Resumed fetcher app-logs" in text(), "Resume from the page works and says so")
    # The fetcher's own page has its controls: Pause, then Resume, and Re-check, each back
    # on that page.
    go("/fetchers/" + fetcher_id)
    driver.find_element(By.CSS_SELECTOR, "form[action$='/pause'] button").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".notice")))
    check(driver.current_url.endswith("/fetchers/" + fetcher_id) and "Paused fetcher app-logs" in text()
          and "paused" in driver.find_element(By.CSS_SELECTOR, "h1 + p .badge").text,
          "Pause on the fetcher's page pauses it and stays there")
    driver.find_element(By.CSS_SELECTOR, "form[action$='/resume'] button").click()
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".notice"), "Resumed"))
    check(driver.current_url.endswith("/fetchers/" + fetcher_id), "Resume there too")
    driver.find_element(By.CSS_SELECTOR, "form[action$='/check'] button").click()
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".notice"), "check"))
    check(driver.current_url.endswith("/fetchers/" + fetcher_id), "Re-check from the fetcher's page comes back to it")
    accessible("a fetcher's page with its controls")

    # 12b. Metrics: create a delivery key on Ship metrics, deliver CloudWatch's JSON format
    # with it (the body built here: base64 and gzip by Python), chart it on Metrics.
    driver.find_element(By.LINK_TEXT, "Metrics").click()
    check("No metric has arrived yet" in text(), "the Metrics page says nothing arrived yet")
    accessible("Metrics (empty)")
    go("/cloud-metrics/ship")
    accessible("Ship metrics")
    driver.find_element(By.ID, "key-name").send_keys("firehose-prod")
    driver.find_element(By.CSS_SELECTOR, "form[action='/cloud-metrics/keys'] button").click()
    delivery_key = wait.until(EC.presence_of_element_located((By.ID, "issued-key"))).text
    check(delivery_key.startswith("frm_"), "a new delivery key is shown once")
    shot("10b-ship-metrics")
    import base64
    import gzip
    now_ms = int(time.time() // 60 * 60 * 1000)
    lines = []
    for minute in range(30):
        for instance in ("i-0abc", XSS):
            lines.append(json.dumps({
                "metric_stream_name": "ferry-metrics-prod", "account_id": "123456789012",
                "region": "us-east-1", "namespace": "AWS/EC2", "metric_name": "CPUUtilization",
                "dimensions": {"InstanceId": instance}, "timestamp": now_ms - (30 - minute) * 60000,
                "value": {"count": 5.0, "sum": 100.0 + minute * 10, "max": 40.0, "min": 5.0},
                "unit": "Percent"}))
    record = base64.b64encode("\n".join(lines).encode()).decode()
    body = gzip.compress(json.dumps({"requestId": "ui-1", "timestamp": now_ms, "records": [{"data": record}]}).encode())
    request = urllib.request.Request(URL + "/api/v1/firehose/metrics", data=body, method="POST")
    for name, value in (("Content-Type", "application/json"), ("Content-Encoding", "gzip"),
                        ("X-Amz-Firehose-Request-Id", "ui-1"), ("X-Amz-Firehose-Access-Key", delivery_key)):
        request.add_header(name, value)
    with urllib.request.urlopen(request) as response:
        answer = json.loads(response.read())
        check(response.status == 200 and answer["requestId"] == "ui-1", "Firehose's delivery is accepted")
    go("/cloud-metrics?metric=AWS/EC2%20CPUUtilization&statistic=avg&from=1h")
    lines_drawn = driver.find_elements(By.CSS_SELECTOR, ".metric-chart polyline")
    check(len(lines_drawn) == 2, "the chart draws a line per series")
    check("InstanceId=i-0abc" in text() and "ferry-metrics-prod" in text(), "the legend and the deliveries list them")
    # A chart per statistic: tick max beside avg, type a percentile the stream does not send.
    driver.find_element(By.CSS_SELECTOR, "input[name=statistic][value=max]").click()
    driver.find_element(By.CSS_SELECTOR, "form.search-form button[type=submit]").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "figure.metric-chart")) == 2)
    captions = [f.text for f in driver.find_elements(By.CSS_SELECTOR, "figure.metric-chart figcaption")]
    check(any("avg" in c for c in captions) and any("max" in c for c in captions), "a chart for avg and one for max")
    cells = [c.text for c in driver.find_elements(By.CSS_SELECTOR, ".scroll[aria-label='Metric streams'] tbody tr:first-child td")]
    # One record of 60 points in the last ten minutes: 0.1 records and 6 points a minute.
    check(len(cells) == 7 and cells[0].startswith("ferry-metrics-prod") and cells[2] == "0.1" and cells[3] == "6",
          "the stream's status: records and points a minute (%s)" % cells)
    no_script_ran("the Metrics page with a hostile dimension value")
    accessible("Metrics")
    shot("10c-metrics")

    # 13. Tokens & users: issue a member token (shown once), audit log.
    driver.find_element(By.LINK_TEXT, "Tokens & users").click()
    driver.find_element(By.ID, "token-name").send_keys("viewer")
    driver.find_element(By.CSS_SELECTOR, "#token-role option[value=member]").click()
    driver.find_element(By.CSS_SELECTOR, "form[action='/access/tokens'] button").click()
    member_token = wait.until(EC.presence_of_element_located((By.ID, "issued-secret"))).text
    check(member_token.startswith("fry_"), "a new token is shown once")
    shot("10-tokens")
    accessible("Tokens & users")
    # Add a user: Ferry shows a one-time invitation link for choosing a password.
    driver.find_element(By.ID, "user-email").send_keys("carol@example.com")
    driver.find_element(By.CSS_SELECTOR, "form[action='/access/users'] button").click()
    invitation = wait.until(EC.presence_of_element_located((By.ID, "invitation-link"))).text
    check("/welcome?invitation=fri_" in invitation, "adding a user shows an invitation link")
    check("carol@example.com" in text(), "the user is listed")
    # Disable and enable the user from the page (each change is audited).
    go("/access")
    driver.find_element(By.CSS_SELECTOR, "button[aria-label='Disable carol@example.com']").click()
    wait.until(lambda d: shows("Disabled carol@example.com"))
    check("(disabled)" in text(), "a disabled user is marked on the page")
    driver.find_element(By.CSS_SELECTOR, "button[aria-label='Enable carol@example.com']").click()
    wait.until(lambda d: shows("Enabled carol@example.com"))
    check("(disabled)" not in text(), "the user is enabled again")
    driver.find_element(By.LINK_TEXT, "Audit log").click()
    audit = text()
    check("connection.add" in audit and "fetcher.add" in audit and "token.issue" in audit,
          "the audit log lists the connection, fetcher and token")
    actions = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "td[data-label=Action]")]
    check("session.start" not in actions and "sign-ins are folded away" in audit,
          "sign-ins are folded away by default")
    driver.find_element(By.LINK_TEXT, "Show them").click()
    actions = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "td[data-label=Action]")]
    check("session.start" in actions, "and shown on demand")
    # Filter by action: only token issues, each opening to what it recorded.
    go("/audit")
    driver.find_element(By.CSS_SELECTOR, "#audit-action option[value='token.issue']").click()
    driver.find_element(By.CSS_SELECTOR, "form[action='/audit'] button").click()
    wait.until(EC.url_contains("action=token.issue"))
    actions = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "td[data-label=Action]")]
    check(actions and set(actions) == {"token.issue"}, f"the action filter keeps token issues only ({actions})")
    entry = driver.find_element(By.CSS_SELECTOR, "details.change")
    entry.find_element(By.TAG_NAME, "summary").click()
    check("After" in entry.text and '"role"' in entry.text, "an entry opens to what it recorded, indented")
    check("fry_" not in driver.find_element(By.TAG_NAME, "main").text, "no token secret in the audit log")
    go("/audit?actor=nobody-at-all")
    check("No entry matches" in text(), "an actor filter matching nothing says so")
    go("/audit")
    shot("11-audit")
    accessible("the audit log")

    # 13b. Archives and restores: the page and its forms; a restore asked of an archive that
    # does not exist is refused with the reason, the hostile query shown back as text.
    driver.find_element(By.LINK_TEXT, "Archives").click()
    wait.until(EC.url_contains("/archives"))
    check("No archive yet" in text() and "No restore yet" in text(), "the archives page starts empty")
    check(driver.find_elements(By.CSS_SELECTOR, "form[action='/archives']"), "an admin sees the add-an-archive form")
    check(driver.find_elements(By.CSS_SELECTOR, "form[action='/restores'] button[value=estimate]"),
          "an admin sees the restore form with its estimate button")
    accessible("the archives page")
    status, body = post_form("/restores", {"csrf": csrf_of_page(), "archiveId": "arc_missing", "from": "1d",
                                           "to": "now", "query": XSS, "action": "estimate"})
    check(status == 400 and "there is no archive arc_missing" in body, f"an unknown archive is refused ({status})")
    check("&lt;img" in body and XSS not in body, "the hostile query is shown back escaped")
    status, body = post_form("/restores/rst_missing/pause", {"csrf": csrf_of_page()})
    check(status == 404, f"another account's or a missing restore is not found ({status})")
    shot("11b-archives")

    # 13c. Migration: a legacy configuration (imported by the operator, on a role that trusts
    # Ferry with an ID the customer chose) planned, refused before the transition policy,
    # switched after it, and the status that says the final policy is still to do.
    def customer_aws(*args):
        env = dict(os.environ)
        env.update(CUSTOMER_ENV)
        ran = subprocess.run(["aws", *args], env=env, capture_output=True, text=True, timeout=120)
        check(ran.returncode == 0, f"aws {args[0]} {args[1]} ({ran.stderr[-300:]})")
    legacy_id = "ui-chosen-2019"
    customer_aws("iam", "create-role", "--role-name", "ui-legacy", "--assume-role-policy-document", json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                               "Principal": {"AWS": PLATFORM_PRINCIPAL},
                                               "Condition": {"StringEquals": {"sts:ExternalId": legacy_id}}}]}))
    customer_aws("iam", "put-role-policy", "--role-name", "ui-legacy", "--policy-name", "read", "--policy-document",
                 json.dumps({"Version": "2012-10-17", "Statement": [
                     {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"},
                     {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))
    legacy_role = f"arn:aws:iam::{CUSTOMER_ACCOUNT}:role/ui-legacy"
    status, me = api("/api/v1/me")
    status, imported = api(f"/api/v1/accounts/{me['account']['id']}/legacy-connections", body={
        "purpose": "fetcher", "bucket": BUCKET, "region": "us-east-1", "prefix": PREFIX, "roleArn": legacy_role,
        "externalId": legacy_id})
    check(status == 201 and imported["legacyExternalId"] is True, f"the operator imports a legacy connection ({status})")
    driver.find_element(By.LINK_TEXT, "Migration").click()
    wait.until(EC.url_contains("/migration"))
    page = text()
    check(legacy_role in page and legacy_id in page, "the migration page lists the role and its legacy external ID")
    check("same-role" in page and "Let the role accept both external IDs" in page and "Remove the legacy external ID" in page,
          "the plan is the same-role procedure with its steps")
    accessible("the migration page")
    shot("15-migration-plan")
    driver.find_element(By.CSS_SELECTOR, "form[action='/migration/apply'] button").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#apply-problem")))
    check("Check with the generated external ID failed" in text() and "transition trust policy" in text(),
          "a switch before the transition policy is refused with the fix")
    status, plans = api("/api/v1/migration/plan")
    script = plans["plans"][0]["steps"][0]["awsCli"]
    folder = os.path.join(SHOTS, "migration-step")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "step.sh"), "w") as f:
        f.write(script)
    env = dict(os.environ)
    env.update(CUSTOMER_ENV)
    ran = subprocess.run(["bash", "step.sh"], cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    check(ran.returncode == 0, f"the customer applies the transition trust policy with the plan's script ({ran.stderr[-300:]})")
    driver.find_element(By.CSS_SELECTOR, "form[action='/migration/apply'] button").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#applied")))
    check("Switched 1 configuration(s)" in text(), "the switch goes through once the role accepts both IDs")
    check("Nothing to migrate" in text(), "no plan is left")
    driver.find_element(By.CSS_SELECTOR, "form[action='/migration/status'] button").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#status")))
    check("still accepts the legacy external ID" in text(), "the status says the final trust policy is still to do")
    accessible("the migration status")
    shot("16-migration-status")
    status, connection = api(f"/api/v1/connections/{imported['id']}")
    check(connection["legacyExternalId"] is False and connection["externalId"] == me["account"]["externalId"],
          "the connection now uses the account's generated external ID")

    # 14. A member's session: read-only pages, no admin controls, and refused anyway.
    driver.find_element(By.CSS_SELECTOR, "form[action='/sign-out'] button").click()
    wait.until(EC.url_contains("/sign-in"))
    go("/buckets")
    check("/sign-in" in driver.current_url, "after signing out the session no longer works")
    sign_in(member_token)
    wait.until(EC.url_contains("/buckets"))
    page = text()
    check("app-logs" in page, "a member sees the buckets")
    check(not driver.find_elements(By.LINK_TEXT, "+ Add a bucket") and not driver.find_elements(By.CSS_SELECTOR, "form[action$='/pause']")
          and not driver.find_elements(By.LINK_TEXT, "Audit log") and "Delete" not in page,
          "a member's pages have no admin controls")
    token = csrf_of_page()
    go("/archives")
    check(not driver.find_elements(By.CSS_SELECTOR, "form[action='/restores']"), "a member sees no restore form")
    for path in [f"/fetchers/{fetcher_id}/pause", f"/fetchers/{fetcher_id}/delete", "/access/tokens", "/restores",
                 "/archives", "/migration/apply", "/migration/status"]:
        status, body = post_form(path, {"csrf": token, "name": "x"})
        check(status == 403, f"a member's session cannot POST {path} ({status})")
    go("/audit")
    check("Not allowed" in text(), "a member's session cannot open the audit log")
    go("/migration")
    check("Not allowed" in text(), "a member's session cannot open the migration page")
    go("/buckets/new")
    check("Not allowed" in text(), "a member's session cannot open Add a bucket")
    status, fetcher = api(f"/api/v1/fetchers/{fetcher_id}")
    check(fetcher["enabled"] is True and fetcher["name"] == "app-logs", "the member changed nothing")
    shot("12-member-buckets")

    # 14b. The invited user chooses a password, and signs in with email and password.
    driver.find_element(By.CSS_SELECTOR, "form[action='/sign-out'] button").click()
    wait.until(EC.url_contains("/sign-in"))
    driver.get(invitation)
    driver.find_element(By.ID, "password").send_keys("short")
    driver.find_element(By.ID, "confirm").send_keys("short")
    driver.find_element(By.CSS_SELECTOR, "form[action='/welcome'] button").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".problem")))
    check("12 to 256 characters" in text(), "a short password is refused with the rule")
    shot("14-choose-password")
    accessible("Choose your password")
    password = "a ferry across the river"
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "confirm").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form[action='/welcome'] button").click()
    wait.until(EC.url_contains("/buckets"))
    check("carol@example.com (member)" in driver.find_element(By.CSS_SELECTOR, ".who").text,
          "the user is signed in, as a member")
    check(not driver.find_elements(By.LINK_TEXT, "+ Add a bucket"), "the user's member pages have no admin controls")
    status, body = post_form(f"/fetchers/{fetcher_id}/pause", {"csrf": csrf_of_page()})
    check(status == 403, f"the member user's session cannot pause a fetcher ({status})")
    driver.find_element(By.CSS_SELECTOR, "form[action='/sign-out'] button").click()
    wait.until(EC.url_contains("/sign-in"))
    driver.get(invitation)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "confirm").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form[action='/welcome'] button").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".problem")))
    check("cannot be used" in text(), "an invitation works only once")
    go("/sign-in")
    driver.find_element(By.ID, "email").send_keys("carol@example.com")
    driver.find_element(By.ID, "password").send_keys(password + "x")
    driver.find_element(By.CSS_SELECTOR, "form[action='/sign-in/user'] button").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".problem")))
    check("The email or the password is wrong" in text(), "a wrong password is refused")
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form[action='/sign-in/user'] button").click()
    wait.until(EC.url_contains("/buckets"))
    check("carol@example.com" in driver.find_element(By.CSS_SELECTOR, ".who").text, "the user signs in with email and password")

    # 15. A hostile account name, shown escaped in the header.
    status, account = api("/api/v1/accounts", body={"name": HOSTILE_NAME})
    check(status == 201, f"an operator creates an account with a hostile name ({status}: {account})")
    driver.find_element(By.CSS_SELECTOR, "form[action='/sign-out'] button").click()
    sign_in(account["adminToken"])
    wait.until(EC.url_contains("/buckets"))
    check("Evil <img" in driver.find_element(By.CSS_SELECTOR, ".who").text, "the hostile account name is shown as text")
    no_script_ran("a page of an account with a hostile name")
    check("app-logs" not in text(), "another account sees none of the first account's buckets")

    # 16. Every page at 360, 768 and 1280 px: nothing wider than the screen, and no word,
    # number or badge broken across lines (a hyphen or a slash may break; code may wrap).
    # Tables turn into cards below 700 px. As the first admin, whose pages have data.
    driver.find_element(By.CSS_SELECTOR, "form[action='/sign-out'] button").click()
    sign_in(TOKEN)
    wait.until(EC.url_contains("/buckets"))
    broken_words = """
      const out = [];
      const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
      let node;
      while ((node = walker.nextNode())) {
        const parent = node.parentElement;
        if (!parent || parent.closest('code, pre, svg, thead, textarea, option, .message')) continue;
        if (!parent.getClientRects().length) continue;
        // Tokens between spaces of at most 24 characters (longer ones, keys and ARNs,
        // may wrap), each piece between hyphens and slashes on one line.
        const tokens = /\S+/g;
        let t;
        while ((t = tokens.exec(node.textContent))) {
          if (t[0].length > 24) continue;
          const pieces = /[^\-\/]+/g;
          let m;
          while ((m = pieces.exec(t[0]))) {
            if (m[0].length < 2) continue;
            const r = document.createRange();
            r.setStart(node, t.index + m.index);
            r.setEnd(node, t.index + m.index + m[0].length);
            const tops = new Set(Array.from(r.getClientRects()).filter(x => x.width > 0).map(x => Math.round(x.top)));
            if (tops.size > 1) out.push(m[0]);
          }
        }
      }
      return out.slice(0, 8);
    """
    pages = ["/buckets", "/fetchers/" + fetcher_id, "/search?q=" + WORD, "/connect",
             "/buckets/new?bucket=" + BUCKET, "/archives", "/migration",
             "/cloud-metrics?metric=AWS/EC2%20CPUUtilization&from=1h", "/cloud-metrics/ship",
             "/access", "/audit"]
    for width in (360, 768, 1280):
        driver.set_window_size(width, 900)
        inner = driver.execute_script("return window.innerWidth")
        for path in pages:
            go(path)
            page_width = driver.execute_script("return document.documentElement.scrollWidth")
            check(page_width <= inner, f"{path} fits a {width} px screen (page is {page_width} px wide, window {inner})")
            broken = driver.execute_script(broken_words)
            check(not broken, f"{path} at {width} px breaks no word: {broken}")
        if width == 360:
            go("/buckets")
            cards = driver.execute_script(
                "const r = document.querySelector('.scroll tbody tr'); return r ? getComputedStyle(r).display : ''")
            check(cards == "block", f"below 700 px a table's rows are cards ({cards})")
            shot("13-narrow-buckets")
            go("/archives")
            shot("13-narrow-archives")
    driver.set_window_size(1280, 900)
    print("all browser checks passed", flush=True)
except TimeoutException as error:
    shot("zz-timeout")
    print(f"FAIL: timed out waiting on {driver.current_url}: {error.msg}\n{text()[:3000]}", flush=True)
    raise SystemExit(1)
finally:
    driver.quit()
