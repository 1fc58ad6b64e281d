#!/usr/bin/env python3
"""The runs page of `nngraph ui` updates a running training's row in place.

  ui_live.py CHROMIUM URL RUN_ID PROFILE_DIR

Drives headless Chromium over the DevTools protocol on a pipe
(--remote-debugging-pipe: JSON messages ended by a NUL byte, ours on the
browser's fd 3, its own on fd 4), so it needs no package beyond Python.
It loads URL (the runs page), reads run RUN_ID's status, epochs and loss
cells, marks the document (a property on window), then watches the cells
for up to WATCH_S seconds. It passes when the epochs and loss change while
the mark is still there (the same document: the row was updated without a
reload) and nothing was logged to the console as an error.

Exit status: 0 passed, 1 failed, 77 Chromium could not start.
"""
import fcntl
import json
import os
import select
import subprocess
import sys
import time

WATCH_S = 30   # the page refreshes every 3 s; the training logs an epoch every ~0.3 s
CALL_S = 20    # the longest one DevTools call may take


class NoBrowser(Exception):
    pass


class Browser:
    def __init__(self, exe, profile):
        to_browser, from_us = os.pipe()
        to_us, from_browser = os.pipe()
        # above 4, so that putting them on 3 and 4 cannot clobber one another
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_browser, from_browser)]
        for fd in (to_browser, from_browser):
            os.close(fd)

        def on_3_and_4():
            os.dup2(ends[0], 3)
            os.dup2(ends[1], 4)

        self.log = open(os.path.join(profile, 'chromium.log'), 'wb')
        self.proc = subprocess.Popen(
            [exe, '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-proxy-server',
             '--no-first-run', '--user-data-dir=' + profile, '--remote-debugging-pipe', 'about:blank'],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, preexec_fn=on_3_and_4, close_fds=False)
        for fd in ends:
            os.close(fd)
        self.out, self.inp = from_us, to_us
        self.buf = b''
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {'id': self.next_id, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        try:
            os.write(self.out, json.dumps(msg).encode() + b'\0')
        except BrokenPipeError:
            raise NoBrowser('the browser closed its end of the pipe')
        return self.next_id

    def message(self, deadline):
        while b'\0' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.inp], [], [], left)[0]:
                raise TimeoutError('no answer from the browser')
            chunk = os.read(self.inp, 65536)
            if not chunk:
                raise NoBrowser('the browser exited')
            self.buf += chunk
        text, self.buf = self.buf.split(b'\0', 1)
        return json.loads(text)

    def call(self, method, params=None, session=None):
        want = self.send(method, params, session)
        deadline = time.monotonic() + CALL_S
        while True:
            m = self.message(deadline)
            if m.get('id') == want:
                if 'error' in m:
                    raise RuntimeError(f'{method}: {m["error"]}')
                return m.get('result', {})
            if 'method' in m:
                self.events.append(m)

    def close(self):
        try:
            self.send('Browser.close')
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


# The row of run ID: its status, epochs and loss cells found by their
# headings, with the document's mark and its count of navigations.
ROW_JS = """(function (id) {
  var t = document.getElementById('runs');
  if (!t) return {missing: 'no #runs table'};
  var heads = [].map.call(t.tHead.rows[0].cells, function (c) { return c.textContent; });
  var rows = t.tBodies[0].rows;
  for (var i = 0; i < rows.length; i++) {
    var c = rows[i].cells;
    if (c[1].textContent !== String(id)) continue;
    return {status: c[heads.indexOf('status')].textContent, epochs: c[heads.indexOf('epochs')].textContent,
            loss: c[heads.indexOf('loss')].textContent, mark: window.nnLiveMark || null,
            navigations: performance.getEntriesByType('navigation').length};
  }
  return {missing: 'no row for run ' + id};
})(%d)"""


def evaluate(b, session, expr):
    r = b.call('Runtime.evaluate', {'expression': expr, 'returnByValue': True}, session)
    if 'exceptionDetails' in r:
        raise RuntimeError(f'script error: {r["exceptionDetails"]}')
    return r['result'].get('value')


def console_errors(events):
    out = []
    for e in events:
        p = e.get('params', {})
        if e['method'] == 'Runtime.exceptionThrown':
            out.append(p.get('exceptionDetails', {}).get('text', 'an exception'))
        elif e['method'] == 'Runtime.consoleAPICalled' and p.get('type') in ('error', 'assert'):
            out.append(' '.join(str(a.get('value', a.get('description', ''))) for a in p.get('args', [])))
        elif e['method'] == 'Log.entryAdded' and p.get('entry', {}).get('level') == 'error':
            out.append(p['entry'].get('text', '') + (' (' + p['entry']['url'] + ')' if p['entry'].get('url') else ''))
    return out


def watch(b, url, run_id):
    target = b.call('Target.createTarget', {'url': 'about:blank'})['targetId']
    session = b.call('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
    for domain in ('Runtime', 'Log', 'Page'):
        b.call(domain + '.enable', session=session)
    b.call('Page.navigate', {'url': url}, session)
    deadline = time.monotonic() + CALL_S
    while evaluate(b, session, 'document.readyState') != 'complete':
        if time.monotonic() > deadline:
            return f'{url} did not finish loading in {CALL_S} s'
        time.sleep(0.1)
    first = evaluate(b, session, ROW_JS % run_id)
    if 'missing' in first:
        return f'{url}: {first["missing"]}'
    if first['status'] != 'running':
        return f'run {run_id} reads {first["status"]!r} on load; the test wants it running'
    evaluate(b, session, "window.nnLiveMark = 'same document'")
    print(f'on load: run {run_id} {first["status"]}, epoch {first["epochs"]}, loss {first["loss"]}')
    start = time.monotonic()
    now = first
    while time.monotonic() - start < WATCH_S:
        time.sleep(0.5)
        now = evaluate(b, session, ROW_JS % run_id)
        if 'missing' in now:
            return f'the row of run {run_id} went away: {now["missing"]}'
        if now['mark'] != 'same document' or now['navigations'] != first['navigations']:
            return 'the page was reloaded (its mark is gone); the row must update in place'
        if now['epochs'] != first['epochs'] and now['loss'] != first['loss']:
            break
    else:
        return (f'in {WATCH_S} s the row of run {run_id} still reads epoch {now["epochs"]}, loss {now["loss"]} '
                f'(on load: epoch {first["epochs"]}, loss {first["loss"]})')
    print(f'after {time.monotonic() - start:.1f} s, in place: epoch {now["epochs"]}, loss {now["loss"]}')
    if not int(now['epochs']) > int(first['epochs']):
        return f'the epoch went from {first["epochs"]} to {now["epochs"]}'
    errors = console_errors(b.events)
    if errors:
        return 'the console logged errors: ' + '; '.join(errors)
    return None


def main(argv):
    if len(argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    exe, url, run_id, profile = argv[1], argv[2], int(argv[3]), argv[4]
    os.makedirs(profile, exist_ok=True)
    try:
        b = Browser(exe, profile)
    except OSError as e:
        print(f'SKIP live browser test: chromium cannot start: {e}')
        return 77
    try:
        try:
            b.call('Browser.getVersion')
        except (NoBrowser, TimeoutError) as e:
            print(f'SKIP live browser test: chromium cannot start: {e}')
            return 77
        problem = watch(b, url, run_id)
    finally:
        b.close()
    if problem:
        print('FAIL: live row: ' + problem, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
