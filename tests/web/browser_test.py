#!/usr/bin/python3
"""Browser tests of the hub's web pages (docs/WEB.md), run by ctest.

Sets up a Shanghai hub with the real `carehub` binary (init, gen, ingest, publish, a department
token), starts `carehub serve --http 127.0.0.1:0`, and walks every page in headless Chromium
(Debian's chromium + chromium-driver, python3-selenium):
  rules explorer (a Shanghai level -> Zhuhai 440400), dataset portal (table + chart), console
  sign-in, upload with summary, quarantine with a run's replay, recognition with reasons, records paging, peers, tokens.
Fails on any JavaScript console message of level SEVERE, any failed or >= 400 request, any request
to a host other than the hub, a token or ID number in a URL, an accessibility problem (a11y.js)
or horizontal overflow at phone width. Screenshots go to --artifacts.
"""
import argparse
import csv
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

HERE = os.path.dirname(os.path.abspath(__file__))
CHROME_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                '--disable-background-networking', '--disable-component-update', '--disable-sync',
                '--disable-dev-shm-usage', '--window-size=1280,1000']
PHONE = (390, 844)
BULK_RELEASES = 150


# The shape issue 13's publish rewrite gives catalog.json (DCAT-AP 3.0 as JSON-LD), trimmed.
JSON_LD_CATALOG = {
    '@context': {'dcat': 'http://www.w3.org/ns/dcat#', 'dct': 'http://purl.org/dc/terms/'},
    '@graph': [
        {'@id': 'http://hub/v1/datasets/r7', '@type': 'dcat:Dataset',
         'dct:title': [{'@value': 'hub 310000, release 7', '@language': 'en'}],
         'dct:publisher': {'@id': 'http://hub/#publisher'},
         'dct:temporal': {'@id': 'http://hub/v1/datasets/r7#temporal'},
         'dcat:distribution': [{'@id': 'http://hub/v1/datasets/r7#tables/counts.csv'}]},
        {'@id': 'http://hub/#publisher', '@type': 'foaf:Agent', 'foaf:name': 'Shanghai civil affairs'},
        {'@id': 'http://hub/v1/datasets/r7#temporal', '@type': 'dct:PeriodOfTime',
         'dcat:startDate': {'@value': '2025-01-01', '@type': 'xsd:date'},
         'dcat:endDate': {'@value': '2025-12-31', '@type': 'xsd:date'}},
        {'@id': 'http://hub/v1/datasets/r7#tables/counts.csv', '@type': 'dcat:Distribution',
         'dct:title': {'@value': 'Counts', '@language': 'en'},
         'dcat:downloadURL': {'@id': 'http://hub/v1/datasets/r7/files/tables/counts.csv'},
         'dcat:mediaType': {'@id': 'https://www.iana.org/assignments/media-types/text/csv'},
         'dct:format': {'@id': 'http://publications.europa.eu/resource/authority/file-type/CSV'},
         'dct:license': {'@id': 'https://creativecommons.org/licenses/by/4.0/'},
         'dcat:byteSize': {'@value': '1234', '@type': 'xsd:nonNegativeInteger'},
         'spdx:checksum': {'@id': 'http://hub/v1/datasets/r7#tables/counts.csv-sha256', '@type': 'spdx:Checksum',
                           'spdx:checksumValue': {'@value': 'ab' * 32, '@type': 'xsd:hexBinary'}}},
    ],
}


class Failure(Exception):
    pass


# Words of the engine's English reason templates (mapping/engine_text.cc ReasonText); data from
# the rule files (rule ids, scale codes, document numbers) may still be Latin.
ENGLISH_REASON = re.compile(r'\b(the|is|of|its own|target|recognised|legal basis|window|within|'
                            r'dated|sanction|using|documented|proposed|identity|valid|no|not)\b', re.I)
CJK = re.compile(r'[\u3400-\u9fff]')


def check_chinese_reasons(page, shown, english):
    """The reasons a Chinese page shows are worded in Chinese, one per reason the API gave."""
    if not shown or len(shown) != len(english):
        raise Failure(f'{page}: {len(shown)} reasons shown for {len(english)} given')
    for text, en in zip(shown, english):
        if text == en or ENGLISH_REASON.search(text) or not CJK.search(text):
            raise Failure(f'{page}: reason not in Chinese: {text!r} (English: {en!r})')


def reason_codes():
    """The reason codes the engine can give (mapping/engine_text.cc ReasonCodeName)."""
    with open(os.path.join(HERE, '..', '..', 'mapping', 'engine_text.cc'), encoding='utf-8') as f:
        source = f.read()
    body = source[source.index('std::string_view ReasonCodeName'):source.index('return "unknown"')]
    return re.findall(r'case ReasonCode::k\w+:\s*return "(\w+)";', body)


def run(*args, **kwargs):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs).stdout


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def keys_of(carehub, directory):
    return json.loads(run(carehub, 'keys', 'show', '--dir', directory, '--json'))


class Hub:
    """A Shanghai hub with records, quarantine rows, a published release and a department token,
    and a Guangdong peer it dials (so the console shows a live link, its cursors and lag)."""

    def __init__(self, carehub, root):
        self.carehub = carehub
        self.dir = os.path.join(root, 'hub')
        run(carehub, 'init', '--dir', self.dir, '--region', 'sh')
        self.peer_dir = os.path.join(root, 'gd')
        self.peer_port = free_port()
        run(carehub, 'init', '--dir', self.peer_dir, '--region', 'gd', '--federation-key',
            os.path.join(self.dir, 'federation.key'))
        gd_native = os.path.join(root, 'gd-assessment.native')
        run(carehub, 'gen', '--region', 'gd', '--kind', 'assessment', '--rows', '200', '--seed', '5',
            '--out', gd_native)
        run(carehub, 'ingest', '--dir', self.peer_dir, '--profile', 'guangdong/assessment', gd_native)
        sh_keys, gd_keys = keys_of(carehub, self.dir), keys_of(carehub, self.peer_dir)
        run(carehub, 'peers', 'add', '--dir', self.dir, '--name', 'gd', '--region', '440000',
            '--curve-key', gd_keys['curve_public'], '--sign-key', gd_keys['sign_public'],
            '--endpoint', f'tcp://127.0.0.1:{self.peer_port}')
        run(carehub, 'peers', 'add', '--dir', self.peer_dir, '--name', 'sh', '--region', '310000',
            '--curve-key', sh_keys['curve_public'], '--sign-key', sh_keys['sign_public'])
        self.ingested = os.path.join(root, 'sh-assessment.csv')
        run(carehub, 'gen', '--region', 'sh', '--kind', 'assessment', '--rows', '600', '--seed', '3',
            '--defect-rate', '0', '--out', self.ingested)
        run(carehub, 'ingest', '--dir', self.dir, self.ingested)
        self.upload = os.path.join(root, 'sh-caregiver.csv')
        # Another kind than the ingested file: generated source ids repeat across seeds, so an
        # assessment upload would replace the people the recognition step looks for.
        run(carehub, 'gen', '--region', 'sh', '--kind', 'caregiver', '--rows', '300', '--seed', '4',
            '--defect-rate', '0.05', '--out', self.upload)
        run(carehub, 'publish', '--dir', self.dir, '--out', os.path.join(root, 'open-data'),
            '--release', 'web-test')
        self.token = run(carehub, 'tokens', 'create', '--dir', self.dir, '--role', 'department',
                         '--region', 'sh').strip()
        # More releases than one page of GET /v1/datasets (100): copies of the real one's row,
        # named to sort before it so that the portal still opens "web-test" (the newest).
        with sqlite3.connect(os.path.join(self.dir, 'carehub.db')) as db:
            db.executemany(
                "INSERT INTO published_releases(release, path, catalog_sha256, published_at, series) "
                "SELECT ?, path, catalog_sha256, published_at, series FROM published_releases "
                "WHERE release = 'web-test'", [(f'bulk-{n:03d}',) for n in range(BULK_RELEASES)])
        db.close()
        self.process = self.peer = None
        self.url = None

    def resident_id(self):
        """An 18-character resident ID of the ingested file (GBK CSV), to ask a recognition for."""
        with open(self.ingested, encoding='gbk', newline='') as f:
            for row in csv.reader(f):
                for cell in row:
                    if re.fullmatch(r'\d{17}[\dX]', cell):
                        return cell
        raise Failure('no resident ID in ' + self.ingested)

    def start(self):
        self.peer = subprocess.Popen(
            [self.carehub, 'serve', '--dir', self.peer_dir, '--zmq', f'tcp://127.0.0.1:{self.peer_port}'],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.process = subprocess.Popen(
            [self.carehub, 'serve', '--dir', self.dir, '--zmq', 'tcp://127.0.0.1:*', '--http', '127.0.0.1:0'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            if line.startswith('http: '):
                self.url = line.split(' ', 1)[1].strip().rstrip('/')
                return
        raise Failure('carehub serve printed no http: line; stderr: ' + self.process.stderr.read())

    def stop(self):
        for process in (self.process, self.peer):
            if not process:
                continue
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


class Browser:
    def __init__(self, root, artifacts):
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which('chromium') or '/usr/bin/chromium'
        for flag in CHROME_FLAGS + ['--user-data-dir=' + os.path.join(root, 'chrome')]:
            options.add_argument(flag)
        options.set_capability('goog:loggingPrefs', {'browser': 'ALL', 'performance': 'ALL'})
        service = Service(shutil.which('chromedriver') or '/usr/bin/chromedriver')
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(30)
        self.artifacts = artifacts
        self.requests = []
        with open(os.path.join(HERE, 'a11y.js'), encoding='utf-8') as f:
            self.a11y_script = f.read()
        # Chromium's own start page (chrome://new-tab-page) is not ours: drop its log entries.
        self.driver.get('about:blank')
        self.driver.get_log('browser')
        self.driver.get_log('performance')

    def wait(self, condition, timeout=15):
        # Tables are re-rendered as data arrives: an element found a moment ago may be gone.
        return WebDriverWait(self.driver, timeout,
                             ignored_exceptions=[StaleElementReferenceException]).until(condition)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def visible(self, css, timeout=15):
        return self.wait(EC.visibility_of_element_located((By.CSS_SELECTOR, css)), timeout)

    def screenshot(self, name):
        self.driver.save_screenshot(os.path.join(self.artifacts, name + '.png'))

    def check_logs(self, hub_url, page):
        """Console errors, failed requests and requests that leave the hub since the last call."""
        problems = []
        for entry in self.driver.get_log('browser'):
            if entry['level'] == 'SEVERE':
                problems.append('console: ' + entry['message'])
        for entry in self.driver.get_log('performance'):
            message = json.loads(entry['message'])['message']
            method, params = message['method'], message.get('params', {})
            if method == 'Network.requestWillBeSent':
                url = params['request']['url']
                self.requests.append(url)
                if not (url.startswith(hub_url + '/') or url.startswith('data:') or url == hub_url):
                    problems.append('request outside the hub: ' + url)
            elif method == 'Network.responseReceived':
                status = params['response']['status']
                if status >= 400:
                    problems.append(f'HTTP {status}: ' + params['response']['url'])
            elif method == 'Network.loadingFailed' and not params.get('canceled'):
                problems.append('request failed: ' + params.get('errorText', ''))
        if problems:
            raise Failure(f'{page}: ' + '; '.join(problems))

    def check_a11y(self, page):
        problems = self.driver.execute_script(self.a11y_script)
        if problems:
            raise Failure(f'{page}: accessibility: ' + '; '.join(problems[:10]))

    def check_phone_width(self, page):
        self.driver.set_window_size(*PHONE)
        # Charts resize on their own (a ResizeObserver callback after the window's resize):
        # wait for the layout to settle before measuring, then name what sticks out.
        measure = ('return document.documentElement.scrollWidth - '
                   'document.documentElement.clientWidth')
        try:
            WebDriverWait(self.driver, 5).until(lambda d: d.execute_script(measure) <= 0)
        except TimeoutException:
            pass
        overflow = self.driver.execute_script(measure)
        widest = self.driver.execute_script(
            'const w = document.documentElement.clientWidth; return [...document.querySelectorAll("body *")]'
            '.filter((e) => e.getBoundingClientRect().right > w + 1).slice(-3)'
            '.map((e) => e.tagName + (e.id ? "#" + e.id : "") + "." + e.className).join(", ")')
        self.screenshot(page + '-phone')
        self.driver.set_window_size(1280, 1000)
        if overflow > 0:
            raise Failure(f'{page}: {overflow}px wider than a {PHONE[0]}px phone screen ({widest})')


def step(name):
    print(f'[{time.monotonic() - START:6.1f}s] {name}', flush=True)


def test_home(b, hub):
    step('home page')
    b.driver.get(hub.url + '/')
    b.wait(lambda d: d.find_element(By.ID, 'hub-region').text == '310000')
    links = [a.get_attribute('href') for a in b.driver.find_elements(By.CSS_SELECTOR, '.cards a')]
    if [urllib.parse.urlparse(l).path for l in links] != ['/rules.html', '/datasets.html', '/console.html']:
        raise Failure('home: links ' + repr(links))
    b.check_a11y('home')
    b.check_phone_width('home')
    b.screenshot('home')
    b.check_logs(hub.url, 'home')


def test_rules(b, hub):
    step('rules explorer: Shanghai level 4 -> Zhuhai 440400')
    b.driver.get(hub.url + '/rules.html')
    b.wait(lambda d: len(Select(d.find_element(By.ID, 'r-level')).options) > 0)
    Select(b.find('#r-kind')).select_by_value('assessment')
    Select(b.find('#r-origin')).select_by_value('310000')
    scale = Select(b.find('#r-scale')).first_selected_option.get_attribute('value')
    if scale != 'SH_CARE_NEEDS':
        raise Failure('rules: Shanghai assessments should default to SH_CARE_NEEDS, got ' + scale)
    Select(b.find('#r-level')).select_by_value('4')
    Select(b.find('#r-target')).select_by_value('440400')
    b.find('#rules-form button[type=submit]').click()
    b.visible('#rules-result')
    outcome = b.find('#res-outcome').text
    reasons = b.driver.find_elements(By.CSS_SELECTOR, '#res-reasons li')
    basis = b.find('#res-basis').text
    window = b.find('#res-window').text
    if not outcome or len(reasons) < 2 or not basis.strip() or basis == '—':
        raise Failure(f'rules: answer incomplete: outcome={outcome!r} reasons={len(reasons)} basis={basis!r}')
    if '6' not in window:
        raise Failure('rules: Zhuhai validity window (6 months) not shown: ' + window)
    if 'GBT42195' not in b.find('#res-level').text:
        raise Failure('rules: Zhuhai level should be on GB/T 42195: ' + b.find('#res-level').text)
    step('rules explorer: the reasons are worded in Chinese from their codes')
    check_chinese_reasons('rules', [li.text for li in reasons],
                          b.driver.execute_script('return RulesPage.answer.decision.reasons'))
    codes = reason_codes()
    missing = b.driver.execute_script('return arguments[0].filter((c) => !REASON_ZH[c])', codes)
    if len(codes) < 20 or missing:
        raise Failure(f'rules: reason codes without Chinese wording: {missing} (of {len(codes)})')
    b.check_a11y('rules')
    b.screenshot('rules')
    step('rules explorer: a city without rules of its own (Shenzhen 440300) falls back to Guangdong')
    b.find('#r-target-code').send_keys('440300')
    b.find('#rules-form button[type=submit]').click()
    b.wait(lambda d: 'region-440000' in d.find_element(By.ID, 'res-rule').text)
    b.find('#r-target-code').clear()
    step('rules explorer in English')
    b.find('#lang-switch').click()
    b.wait(lambda d: d.find_element(By.TAG_NAME, 'html').get_attribute('lang') == 'en')
    if b.find('h1').text != 'Recognition rules':
        raise Failure('rules: English title not shown: ' + b.find('h1').text)
    b.find('#rules-form button[type=submit]').click()
    b.wait(lambda d: d.find_element(By.ID, 'res-outcome').text.startswith(('Recognised', 'Reassessment', 'Not')))
    # The answer is drawn again when it arrives: compare once the list shows the last one.
    try:
        b.wait(lambda d: [li.text for li in d.find_elements(By.CSS_SELECTOR, '#res-reasons li')]
               == d.execute_script('return RulesPage.answer.decision.reasons'))
    except TimeoutException:
        raise Failure('rules: the English page does not show the English reasons')
    b.screenshot('rules-en')
    b.check_phone_width('rules')
    b.find('#lang-switch').click()  # back to Chinese for the other pages
    b.wait(lambda d: d.find_element(By.TAG_NAME, 'html').get_attribute('lang') == 'zh-CN')
    b.check_logs(hub.url, 'rules')


def test_datasets(b, hub):
    step('dataset portal: table preview and chart')
    b.driver.get(hub.url + '/datasets.html')
    b.visible('#ds-release')
    b.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, '#ds-preview tbody tr')) > 0)
    listed = b.driver.find_elements(By.CSS_SELECTOR, '#ds-releases [data-release]')
    if len(listed) != BULK_RELEASES + 1 or listed[-1].get_attribute('data-release') != 'web-test':
        raise Failure(f'datasets: {len(listed)} releases listed, want {BULK_RELEASES + 1} '
                      'ending with web-test (paged through next_cursor)')
    files = b.driver.find_elements(By.CSS_SELECTOR, '#ds-files tbody tr')
    if not files:
        raise Failure('datasets: no downloads listed')
    first = [td.text for td in files[0].find_elements(By.TAG_NAME, 'td')]
    if not re.search(r'\d', first[2]) or not re.fullmatch(r'[0-9a-f]{64}', first[3]):
        raise Failure('datasets: a download lacks its size or SHA-256: ' + repr(first))
    drawn = b.driver.execute_script(
        'const c = Chart.getChart("ds-chart"); return c ? c.data.datasets.length : 0')
    if not drawn:
        raise Failure('datasets: no chart drawn')
    if not b.driver.find_elements(By.CSS_SELECTOR, '#ds-codebook tbody tr'):
        raise Failure('datasets: empty codebook')
    if 'dcat' not in b.find('#ds-catalog').get_attribute('textContent').lower():
        raise Failure('datasets: DCAT metadata not shown')
    step('dataset portal: a DCAT-AP JSON-LD catalog reads like the plain one')
    got = b.driver.execute_script('return readCatalog(arguments[0], "r7")', JSON_LD_CATALOG)
    want = {'title': 'hub 310000, release 7', 'start': '2025-01-01', 'end': '2025-12-31',
            'publisher': 'Shanghai civil affairs', 'licence': 'https://creativecommons.org/licenses/by/4.0/'}
    if {k: got[k] for k in want} != want:
        raise Failure('datasets: JSON-LD catalog read as ' + repr(got))
    if got['distributions'] != [{'title': 'Counts', 'path': 'tables/counts.csv', 'mediaType': 'text/csv',
                                 'format': 'CSV', 'byteSize': 1234, 'sha256': 'ab' * 32,
                                 'licence': 'https://creativecommons.org/licenses/by/4.0/'}]:
        raise Failure('datasets: JSON-LD distributions read as ' + repr(got['distributions']))
    b.check_a11y('datasets')
    b.screenshot('datasets')
    b.check_phone_width('datasets')
    b.check_logs(hub.url, 'datasets')


def test_console(b, hub):
    step('console: sign in')
    b.driver.get(hub.url + '/console.html')
    b.visible('#token').send_keys(hub.token)
    b.find('#signin-form button').click()
    b.visible('#console')
    b.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, '#ov-records tbody tr')) > 0)
    b.wait(lambda d: d.execute_script('return !!Chart.getChart("ov-lag-chart")'))
    series = b.driver.execute_script(
        'return Chart.getChart("ov-lag-chart").data.datasets.map((d) => d.label)')
    if series != ['gd']:
        raise Failure('console: lag chart series ' + repr(series))
    peer = [td.text for td in b.driver.find_elements(By.CSS_SELECTOR, '#ov-peers tbody tr td')]
    if not peer or peer[0] != 'gd':
        raise Failure('console: peers on the overview ' + repr(peer))
    if b.driver.execute_script('return localStorage.getItem("carehub.token")'):
        raise Failure('console: token in localStorage')
    if b.driver.execute_script('return sessionStorage.getItem("carehub.token")') != hub.token:
        raise Failure('console: token not kept in sessionStorage')
    b.check_a11y('console overview')
    b.screenshot('console-overview')

    step('console: tabs with the keyboard')
    b.find('#tab-overview').send_keys(Keys.ARROW_RIGHT)
    b.wait(lambda d: d.find_element(By.ID, 'tab-ingest').get_attribute('aria-selected') == 'true')
    if b.driver.switch_to.active_element.get_attribute('id') != 'tab-ingest':
        raise Failure('console: arrow key does not move the focus to the next tab')

    step('console: upload a native file')
    b.find('#tab-ingest').click()
    b.visible('#ingest-file').send_keys(hub.upload)
    Select(b.find('#ingest-profile')).select_by_value('shanghai/caregiver')
    b.find('#ingest-form button').click()
    b.visible('#ingest-summary', timeout=60)
    summary = {dd.get_attribute('data-field'): dd.text
               for dd in b.driver.find_elements(By.CSS_SELECTOR, '#ingest-facts dd')}
    if summary.get('read') != '300' or int(summary['accepted']) + int(summary['quarantined']) != 300:
        raise Failure('console: ingest summary ' + repr(summary))
    if b.find('#ingest-progress').get_attribute('value') != '100':
        raise Failure('console: progress bar not full after the upload')
    b.check_a11y('console ingest')
    b.screenshot('console-ingest')

    step('console: quarantine review with a filter')
    b.find('#tab-quarantine').click()
    b.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, '#q-table tbody tr')) > 0)
    all_rows = len(b.driver.find_elements(By.CSS_SELECTOR, '#q-table tbody tr'))
    codes = [o.get_attribute('value') for o in Select(b.find('#q-reason')).options if o.get_attribute('value')]
    if not codes:
        raise Failure('console: no reason codes to filter on')
    Select(b.find('#q-reason')).select_by_value(codes[0])
    b.find('#q-form button').click()
    b.wait(lambda d: all(r.find_elements(By.TAG_NAME, 'td')[4].text.startswith(codes[0])
                         for r in d.find_elements(By.CSS_SELECTOR, '#q-table tbody tr')))
    shown = len(b.driver.find_elements(By.CSS_SELECTOR, '#q-table tbody tr'))
    print(f'    quarantine rows {all_rows}, filtered on {codes[0]!r}: {shown}')
    b.check_a11y('console quarantine')
    b.screenshot('console-quarantine')

    step('console: replay the uploaded run (the upload is kept while rows of it are open)')
    run_field = b.visible('#qr-run')
    run_field.clear()
    run_field.send_keys(summary['run_id'])
    b.find('#qr-submit').click()
    b.visible('#qr-report', timeout=60)
    report = {dd.get_attribute('data-field'): dd.text
              for dd in b.driver.find_elements(By.CSS_SELECTOR, '#qr-facts dd')}
    replayed = b.driver.find_elements(By.CSS_SELECTOR, '#qr-table tbody tr')
    quarantined = int(summary['quarantined'])
    if (report.get('run') != summary['run_id'] or report.get('now_accepted') != '0'
            or int(report.get('unchanged', -1)) != quarantined or len(replayed) != quarantined):
        raise Failure(f'console: replay report {report!r} with {len(replayed)} rows, '
                      f'{quarantined} quarantined')
    b.check_a11y('console replay')
    b.screenshot('console-replay')

    step('console: recognition for a resident, Zhuhai 440400')
    identifier = hub.resident_id()
    b.find('#tab-recognition').click()
    b.visible('#rc-identifier').send_keys(identifier)
    b.find('#rc-target').send_keys('440400')
    b.find('#rc-form button').click()
    b.visible('#rc-result')
    decisions = b.driver.find_elements(By.CSS_SELECTOR, '#rc-decisions article')
    reasons = b.driver.find_elements(By.CSS_SELECTOR, '#rc-decisions ol.reasons li')
    if not decisions or len(reasons) < 2:
        raise Failure(f'console: recognition shows {len(decisions)} decisions, {len(reasons)} reasons')
    check_chinese_reasons('console recognition', [li.text for li in reasons], b.driver.execute_script(
        'return ConsolePage.recognition.records.flatMap((r) => r.decision.reasons)'))
    if b.find('#rc-identifier').get_attribute('value'):
        raise Failure('console: the ID number stays in the form after sending')
    if identifier in b.driver.page_source:
        raise Failure('console: the ID number is shown on the page')
    b.check_a11y('console recognition')
    b.screenshot('console-recognition')
    b.driver.execute_cdp_cmd('Emulation.setEmulatedMedia', {'media': 'print'})
    if b.find('#tabs').is_displayed() or not b.find('#rc-print-head').is_displayed():
        raise Failure('console: print stylesheet does not hide the controls')
    b.screenshot('console-recognition-print')
    b.driver.execute_cdp_cmd('Emulation.setEmulatedMedia', {'media': ''})

    step('console: records browser, filters and paging')
    b.find('#tab-records').click()
    b.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, '#rec-table tbody tr')) == 25)
    first_page = b.wait(lambda d: d.find_element(By.CSS_SELECTOR, '#rec-table tbody tr td').text)
    b.find('#rec-next').click()
    b.wait(lambda d: d.find_element(By.CSS_SELECTOR, '#rec-table tbody tr td').text != first_page)
    b.find('#rec-prev').click()
    b.wait(lambda d: d.find_element(By.CSS_SELECTOR, '#rec-table tbody tr td').text == first_page)
    Select(b.find('#rec-kind')).select_by_value('facility')
    b.find('#rec-form button').click()
    b.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, '#rec-table tbody tr')) == 0)
    b.check_a11y('console records')
    b.screenshot('console-records')

    step('console: peers and tokens')
    b.find('#tab-peers').click()
    b.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, '#peers-table tbody tr')) == 2)
    if '440000' not in b.find('#peers-table').text:
        raise Failure('console: no per-origin cursor of Guangdong in the peers tab')
    b.find('#tab-tokens').click()
    b.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, '#tokens-table tbody tr')) >= 1)
    if hub.token in b.driver.page_source:
        raise Failure('console: the token is shown on the page')
    b.screenshot('console-tokens')
    b.check_phone_width('console')
    b.check_logs(hub.url, 'console')

    step('console: sign out forgets the token and the decisions shown')
    b.find('#signout').click()
    b.visible('#signin')
    if b.driver.execute_script('return sessionStorage.getItem("carehub.token")'):
        raise Failure('console: token kept after signing out')
    if b.driver.find_elements(By.CSS_SELECTOR, '#rc-decisions article'):
        raise Failure('console: decisions still on the page after signing out')
    for url in b.requests:
        if hub.token in url or identifier in url or hub.token.split('_')[-1] in url:
            raise Failure('console: a secret in a URL: ' + url)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--carehub', required=True)
    parser.add_argument('--artifacts', required=True)
    args = parser.parse_args()
    os.makedirs(args.artifacts, exist_ok=True)
    root = tempfile.mkdtemp(prefix='carehub-web-')
    hub = browser = None
    try:
        step('hub setup')
        hub = Hub(args.carehub, root)
        hub.start()
        step('browser start, hub at ' + hub.url)
        browser = Browser(root, args.artifacts)
        for test in (test_home, test_rules, test_datasets, test_console):
            test(browser, hub)
        step('all pages passed; screenshots in ' + args.artifacts)
        return 0
    except (Failure, Exception) as error:
        if browser:
            browser.screenshot('failure')
        print(f'FAIL: {type(error).__name__}: {error}', file=sys.stderr)
        return 1
    finally:
        if browser:
            browser.driver.quit()
        if hub:
            hub.stop()
        shutil.rmtree(root, ignore_errors=True)


START = time.monotonic()
if __name__ == '__main__':
    sys.exit(main())
