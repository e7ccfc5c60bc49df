#!/usr/bin/python3
"""The page in headless Chromium, driven by Selenium, against a running stemd.

Usage: page_browser.py --api http://127.0.0.1:PORT --token-file FILE --artifacts DIR

Signs in, submits through the form, watches jobs complete without a reload,
plays a stem, checks the waveforms (four stems at once), retries a failed job,
lives through a restart of stemd (asked for through --control, see
page_browser_test.cpp), signs out, signs in again with a one-time code, and
writes screenshots to DIR (their paths are printed).
Exit 0 when every check holds, 1 when one fails, 77 when Chromium, chromedriver
or Selenium is missing (the caller's SKIP_RETURN_CODE).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
import wave

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
except ImportError as e:
    print(f"SKIP: python3-selenium is missing ({e}); install it (.ci/install-deps)", file=sys.stderr)
    sys.exit(77)

for tool in (CHROMIUM, CHROMEDRIVER):
    if not os.access(tool, os.X_OK):
        print(f"SKIP: {tool} is missing; install chromium and chromium-driver (.ci/install-deps)",
              file=sys.stderr)
        sys.exit(77)


class Failed(Exception):
    pass


def wait(what, check, timeout=20.0):
    """Polls check() every 100 ms until it returns something true; fails naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as e:  # an element replaced mid-read: look again
            last = e
        time.sleep(0.1)
    raise Failed(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def expect(condition, what):
    if not condition:
        raise Failed(what)


class Page:
    def __init__(self, api, token, artifacts):
        self.api = api.rstrip("/")
        self.token = token
        self.artifacts = artifacts
        self.profile = tempfile.mkdtemp(prefix="stemd-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-proxy-server", "--no-first-run", "--mute-audio",
                    "--autoplay-policy=no-user-gesture-required", "--window-size=1280,900",
                    f"--user-data-dir={self.profile}"):
            opts.add_argument(arg)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        self.d.set_script_timeout(15)

    def close(self):
        try:
            self.d.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def one(self, css):
        return self.d.find_element(By.CSS_SELECTOR, css)

    def visible(self, css):
        found = self.d.find_elements(By.CSS_SELECTOR, css)
        return found[0] if found and found[0].is_displayed() else None

    def shot(self, name):
        path = os.path.join(self.artifacts, name + ".png")
        self.d.save_screenshot(path)
        print(f"screenshot: {path}")

    def console_errors(self):
        try:
            # Refusals the page expects (401 before signing in) are logged
            # as failed loads; script errors are what count.
            return [e["message"] for e in self.d.get_log("browser")
                    if e["level"] == "SEVERE" and "Failed to load resource" not in e["message"]]
        except Exception:
            return []

    # The API itself, with the token: what another client does meanwhile.
    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.api + path, data=data, method=method, headers={
            "Authorization": "Bearer " + self.token, "Content-Type": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=10) as res:
            return json.loads(res.read())

    # A request carrying a session cookie and nothing else; its status.
    def status_with_cookie(self, path, cookie):
        req = urllib.request.Request(self.api + path, headers={"Cookie": "stemd_session=" + cookie})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=10) as res:
                return res.status
        except urllib.error.HTTPError as e:
            return e.code

    def live_text(self):
        live = self.visible("#live")
        return live.text if live else None

    def job_status(self):
        badge = self.visible("#job-status .status")
        return badge.text if badge else None


def sign_in(p):
    p.d.get(p.api + "/")
    token_input = wait("the sign-in form", lambda: p.visible("#token"))
    token_input.send_keys("not-the-token")
    p.one("#signin-button").click()
    error = wait("the refusal of a wrong token", lambda: p.visible("#signin-error"))
    expect("token" in error.text, f"a wrong token's refusal should say why, got {error.text!r}")
    token_input.clear()
    token_input.send_keys(p.token)
    p.one("#signin-button").click()
    wait("the jobs table after signing in", lambda: p.visible("#jobs"))
    expect(p.visible("#nav"), "the navigation shows once signed in")
    # A reload would lose this: checked at the end.
    p.js("window.__stemd_no_reload = 'kept';")


def submit_by_keyboard(p, url, untick=()):
    p.one("#nav-submit").click()
    field = wait("the submit form", lambda: p.visible("#audio-url"))
    for stem in untick:
        box = p.one(f'input[name="stems"][value="{stem}"]')
        if box.is_selected():
            box.click()
    field.clear()
    field.send_keys(url)
    # Keyboard only from here: Tab reaches the submit button, Enter presses it.
    for _ in range(60):
        if p.js("return document.activeElement.id") == "submit-button":
            break
        p.d.switch_to.active_element.send_keys(Keys.TAB)
    expect(p.js("return document.activeElement.id") == "submit-button",
           "Tab never reached the submit button")
    outline = p.js("return getComputedStyle(document.activeElement).outlineStyle")
    expect(outline not in ("", "none"), f"the focused submit button shows no focus ring ({outline})")
    p.d.switch_to.active_element.send_keys(Keys.ENTER)
    hash_ = wait("the job page after submitting",
                 lambda: (lambda h: h if h.startswith("#/jobs/") else None)(p.js("return location.hash")))
    return hash_[len("#/jobs/"):]


def submit_upload(p):
    """A file from this machine, sent as multipart/form-data with upload progress."""
    song = os.path.join(p.artifacts, "upload-song.wav")
    with wave.open(song, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(16000))
    p.one("#nav-submit").click()
    wait("the submit form", lambda: p.visible("#source-file")).click()
    wait("the file field", lambda: p.visible("#audio-file")).send_keys(song)
    p.js("window.__stemd_upload_seen = 0;"
         "new MutationObserver(() => { const b = document.querySelector('#upload-progress progress');"
         " if (b && b.value > window.__stemd_upload_seen) window.__stemd_upload_seen = b.value; })"
         ".observe(document.getElementById('main'), {subtree: true, attributes: true, childList: true});")
    p.one("#submit-button").click()
    wait("the job page of the upload", lambda: p.js("return location.hash").startswith("#/jobs/"))
    source = wait("the uploaded file's name on the job page", lambda: p.js(
        "const d = [...document.querySelectorAll('#job-facts dd')];"
        "return d.length && d[0].textContent"))
    expect(source == "upload-song.wav", f"source {source!r}")
    seen = p.js("return window.__stemd_upload_seen")
    expect(seen == 1, f"the upload's progress bar reached {seen}, not 1")
    print(f"uploaded through the form: {p.js('return location.hash')}")


def check_errors_as_worded(p):
    p.one("#nav-submit").click()
    field = wait("the submit form", lambda: p.visible("#audio-url"))
    field.send_keys("ftp://songs.example/a.mp3")
    p.one("#submit-button").click()
    error = wait("the API's refusal on the form", lambda: p.visible("#submit-error"))
    expect("http(s)" in error.text, f"the form should show the API's words, got {error.text!r}")
    p.shot("submit-form")


def watch_completed_live(p):
    """A job submitted elsewhere while the table is open appears at the top and completes."""
    p.one("#nav-jobs").click()
    wait("the jobs table", lambda: p.visible("#jobs-body"))
    job = p.call("POST", "/v1/jobs", {"audio_url": "https://songs.example/live.mp3",
                                      "stems": ["vocals", "drums"]})
    row = f'#jobs-body tr[data-job="{job["id"]}"]'
    first = wait("the new job at the top of the table",
                 lambda: p.js("const r = document.querySelector('#jobs-body tr');"
                              "return r && r.dataset.job") == job["id"])
    expect(first, "new job not first")
    seen = set()

    def completed():
        s = p.one(row).get_attribute("data-status")
        seen.add(s)
        return s == "completed"
    wait(f"job {job['id']} to reach completed in the table", completed, 30)
    # Seen before it completed (the result comes 1.5 s after submission):
    # the row changed in place, live.
    expect(len(seen) > 1, f"the row was only ever seen as {seen}")
    count = wait("the completed count", lambda: p.one('#filters [data-count="completed"]').text)
    expect(int(count) >= 1, f"completed count {count}")
    print(f"table statuses seen for {job['id']}: {sorted(seen)}")
    return job["id"]


def check_waveform(p):
    canvas = wait("a drawn waveform", lambda: p.visible('canvas.waveform[data-drawn="true"]'), 20)
    lit = p.js("""
        const c = arguments[0], x = c.getContext('2d');
        const d = x.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;""", canvas)
    expect(lit > 100, f"the waveform canvas is blank ({lit} painted pixels)")
    print(f"waveform: {lit} painted pixels")


def play_stem(p):
    audio = wait("an audio player", lambda: p.visible("audio"))
    src = audio.get_attribute("src")
    expect("/v1/jobs/" in src and "/files/" in src, f"audio src {src!r} is not a file href")
    result = p.d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "arguments[0].play().then(() => done('playing'), e => done(String(e)));", audio)
    expect(result == "playing", f"play() failed: {result}")
    t = wait("currentTime to advance", lambda: (lambda v: v if v > 0.3 else None)(
        p.js("return arguments[0].currentTime", audio)), 15)
    print(f"audio: currentTime {t:.2f} s")
    p.js("arguments[0].pause()", audio)


def job_page(p, job_id):
    wait(f"job {job_id} completed on its page", lambda: p.job_status() == "completed", 30)
    files = wait("two finished stems", lambda: (lambda f: f if len(f) == 2 else None)(
        p.d.find_elements(By.CSS_SELECTOR, '.file[data-status="done"]')), 15)
    for f in files:
        expect("SHA-256 " in f.find_element(By.CSS_SELECTOR, ".sha").text, "a stem shows its SHA-256")
        expect(f.find_element(By.CSS_SELECTOR, ".size").text.endswith("KiB"), "a stem shows its size")
    check_waveform(p)
    play_stem(p)
    kinds = wait("the job's events", lambda: [e.get_attribute("data-kind") for e in
                                              p.d.find_elements(By.CSS_SELECTOR, "#events tbody tr")]
                 if p.d.find_elements(By.CSS_SELECTOR, '#events tr[data-kind="completed"]') else None)
    expect("submitted" in kinds, f"events {kinds}")
    p.shot("job-page")


def retry_failed(p, url):
    job_id = submit_by_keyboard(p, url, untick=("instrumental",))
    wait(f"job {job_id} to fail", lambda: p.job_status() == "failed", 30)
    button = wait("the Retry button", lambda: p.visible("#retry"))
    p.shot("job-failed")
    button.click()
    wait("the retried job to move on from failed",
         lambda: p.js("return !!document.querySelector('#events tr[data-kind=\"retry\"]')"), 15)
    wait(f"retried job {job_id} to complete", lambda: p.job_status() == "completed", 30)
    expect(not p.visible("#retry"), "Retry still shown on a completed job")
    print(f"retried job {job_id}: completed")


def four_stem_waveforms(p):
    """All four stems of a finished job ask for their waveforms at once; stemd
    computes two at a time and answers 503 to the others, which the page asks
    again: every stem ends up drawn."""
    stems = ["piano", "guitar", "strings", "keys"]
    job = p.call("POST", "/v1/jobs", {"audio_url": "https://songs.example/four.mp3", "stems": stems})
    wait(f"job {job['id']} to complete", lambda: p.call("GET", "/v1/jobs/" + job["id"])["status"]
         == "completed", 30)
    p.js("location.hash = arguments[0]", "#/jobs/" + job["id"])
    wait("four finished stems", lambda: len(p.d.find_elements(
        By.CSS_SELECTOR, '.file[data-status="done"]')) == 4, 15)

    def settled():
        drawn = len(p.d.find_elements(By.CSS_SELECTOR, 'canvas.waveform[data-drawn="true"]'))
        missing = len(p.d.find_elements(By.CSS_SELECTOR, ".nowave"))
        return (drawn, missing) if drawn + missing == 4 else None
    drawn, missing = wait("every stem's waveform drawn or given up", settled, 20)
    expect(missing == 0, f"{missing} of 4 stems show no waveform (a 503 taken as final?)")
    print(f"four-stem job {job['id']}: {drawn} waveforms drawn")


def restart_with_page_open(p, control):
    """stemd restarts (its sessions with it) while the page is open: the page
    asks to sign in again by itself, and once signed in it is live again."""
    p.one("#nav-jobs").click()
    wait("the jobs table", lambda: p.visible("#jobs-body"))
    wait("the live indicator", lambda: p.live_text() == "live")
    with open(os.path.join(control, "restart-request"), "w"):
        pass
    wait("stemd to restart", lambda: os.path.exists(os.path.join(control, "restart-done")), 40)
    error = wait("the sign-in form after the restart (no reload)", lambda: p.visible("#signin-error"),
                 20)
    expect("sign in again" in error.text, f"the sign-in form says {error.text!r}")
    expect(p.js("return window.__stemd_no_reload") == "kept", "the page was reloaded")
    p.one("#token").send_keys(p.token)
    p.one("#signin-button").click()
    wait("the jobs table after signing in again", lambda: p.visible("#jobs-body"))
    wait("the live indicator after signing in again", lambda: p.live_text() == "live")
    job = p.call("POST", "/v1/jobs", {"audio_url": "https://songs.example/after.mp3",
                                      "stems": ["bass"]})
    row = f'#jobs-body tr[data-job="{job["id"]}"]'
    wait("a job submitted after the restart in the table", lambda: p.visible(row))
    wait(f"job {job['id']} completed in the table, live",
         lambda: p.one(row).get_attribute("data-status") == "completed", 30)
    print(f"after the restart: signed in again, job {job['id']} seen to complete")


def sign_out(p):
    """Sign out: the sign-in form, the stream closed, and the old cookie refused."""
    cookie = p.d.get_cookie("stemd_session")
    expect(cookie and cookie.get("httpOnly"), f"no HttpOnly session cookie: {cookie!r}")
    expect(p.status_with_cookie("/v1/jobs?limit=1", cookie["value"]) == 200,
           "the session cookie works before signing out")
    p.one("#signout").click()
    error = wait("the sign-in form after signing out", lambda: p.visible("#signin-error"))
    expect("Signed out" in error.text, f"the sign-in form says {error.text!r}")
    expect(not p.visible("#nav"), "the navigation still shows after signing out")
    expect(p.js("return app.events === null"), "the page kept its event stream open")
    for path in ("/v1/jobs?limit=1", "/v1/session", "/v1/events"):
        status = p.status_with_cookie(path, cookie["value"])
        expect(status == 401, f"GET {path} with the signed-out cookie: {status}, not 401")
    print("signed out: the old cookie is refused")


def screenshots(p, job_id):
    p.one("#nav-jobs").click()
    wait("the jobs table", lambda: p.visible("#jobs-body tr[data-job]"))
    # A failed job and one mid-download, so the table shows each kind of row.
    failed = p.call("POST", "/v1/jobs", {"audio_url": "https://songs.example/broken.mp3?sim-fail",
                                         "stems": ["drums"]})
    wait("a failed row", lambda: p.js("return !!document.querySelector("
                                      "'#jobs-body tr[data-status=\"failed\"]')"), 20)
    stalled = p.call("POST", "/v1/jobs", {"audio_url": "https://songs.example/slow.mp3?sim-fault=stall-3",
                                          "stems": ["bass"]})
    bar = f'#jobs-body tr[data-job="{stalled["id"]}"] progress'
    wait("a progress bar moving in the table", lambda: p.js(
        "const b = document.querySelector(arguments[0]); return b && b.value > 0", bar), 20)
    print(f"jobs table: failed {failed['id']}, downloading {stalled['id']}")
    p.shot("jobs")
    p.d.set_window_size(390, 844)
    wait("cards on a phone", lambda: p.js(
        "return getComputedStyle(document.querySelector('table.jobs thead')).display") == "none")
    p.shot("jobs-phone")
    p.d.set_window_size(1280, 900)
    light = p.js("return getComputedStyle(document.body).backgroundColor")
    p.d.execute_cdp_cmd("Emulation.setEmulatedMedia",
                        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    dark = wait("dark colours", lambda: (lambda c: c if c != light else None)(
        p.js("return getComputedStyle(document.body).backgroundColor")))
    print(f"background: light {light}, dark {dark}")
    p.shot("jobs-dark")
    p.js("location.hash = arguments[0]", "#/jobs/" + job_id)
    wait("the job page", lambda: p.visible('canvas.waveform[data-drawn="true"]'))
    p.shot("job-page-dark")
    p.d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def sign_in_with_code(p):
    """What `stemd open` prints: the page takes the code and drops it from the address bar."""
    p.d.delete_all_cookies()
    code = p.call("POST", "/v1/session/code")["code"]
    p.d.get(p.api + "/#code=" + code)
    wait("the jobs table after a code sign-in", lambda: p.visible("#jobs"))
    expect("code=" not in p.d.current_url, f"the code stayed in the address bar: {p.d.current_url}")
    p.d.delete_all_cookies()
    p.d.get(p.api + "/#code=" + code)
    wait("the refusal of a used code", lambda: p.visible("#signin-error"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--api", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--control", required=True,
                    help="directory where restart-request asks for a restart of stemd")
    ap.add_argument("--fail-url", default="https://songs.example/flaky.mp3?sim-fault=503-once")
    a = ap.parse_args()
    os.makedirs(a.artifacts, exist_ok=True)
    with open(a.token_file) as f:
        token = f.read().strip()
    p = Page(a.api, token, a.artifacts)
    started = time.monotonic()
    try:
        sign_in(p)
        check_errors_as_worded(p)
        submit_upload(p)
        job_id = submit_by_keyboard(p, "https://songs.example/song.mp3")
        print(f"submitted through the form: {job_id}")
        job_page(p, job_id)
        watch_completed_live(p)
        retry_failed(p, a.fail_url)
        four_stem_waveforms(p)
        screenshots(p, job_id)
        expect(p.js("return window.__stemd_no_reload") == "kept", "the page was reloaded")
        errors = p.console_errors()
        expect(not errors, f"console errors: {errors}")
        restart_with_page_open(p, a.control)
        sign_out(p)
        sign_in_with_code(p)
    except Failed as e:
        try:
            p.shot("failure")
        except Exception:
            pass
        print(f"FAILED: {e}", file=sys.stderr)
        for line in p.console_errors():
            print(f"console: {line}", file=sys.stderr)
        return 1
    finally:
        p.close()
    print(f"browser test passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
