"""Per-test outcome of a Tempest run, compared with the expected-failures list.

usage: results.py --list <ids.txt> --expected <expected-failures.txt> [--partial]
                  [--tsv <out.tsv>] [--write-expected <draft.txt>] < subunit-v2-stream

<ids.txt> is `tempest run --list-tests` of the selection (one test id a line); the subunit stream
is `stestr last --subunit` of the run. Prints the skip reasons, then what breaks the tier:
listed tests that now pass, listed ids that are not in the selection, failures not on the list
(with the start and the end of their tracebacks); last, one `tempest: N passed, N failed,
N skipped` line.
Exit 1 when any of those exists, else 0.

Why the list of ids: when a test class's setUpClass fails or skips (Tempest's skip_checks,
resource_setup), unittest reports one pseudo-test `setUpClass (<module>.<Class>)` and runs none of
the class's tests. Each of those tests gets that outcome here, so the counts are per test and
add up to the selection. A `tearDownClass (...)` failure comes after the tests' own outcomes and
counts as one failure of its own. A listed test with no outcome at all (a worker that died) fails.

Run with /usr/bin/python3 (Debian's python3-subunit and python3-testtools, pulled in by tempest).
"""
import argparse
import collections
import re
import sys

import subunit
import testtools

CLASS_FIXTURE = re.compile(r'^(setUpClass|tearDownClass|setUpModule|tearDownModule) \((.+)\)$')


def key(test_id):
    """A test id without Tempest's attribute suffix `[id-…,negative]`: the list matches on this."""
    return test_id.split('[', 1)[0].strip()


def details_text(details, name):
    c = details.get(name)
    if c is None:
        return ''
    try:
        return ''.join(c.iter_text())
    except Exception:
        return b''.join(c.iter_bytes()).decode('utf-8', 'replace')


def read_stream(stream):
    """{test id: (status, text)} from a subunit v2 stream; text is the traceback or skip reason."""
    out = {}

    def on_test(t):
        if t['status'] in ('exists', 'inprogress', None):
            return
        text = details_text(t['details'], 'traceback') or details_text(t['details'], 'reason')
        out[t['id']] = (t['status'], text.strip())

    case = subunit.ByteStreamToStreamResult(stream, non_subunit_name='stdout')
    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    try:
        case.run(result)
    finally:
        result.stopTestRun()
    return out


def read_expected(path):
    """{key: (full id as written, reason)} from lines `<test id>  # <reason>`; # lines are comments."""
    expected = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n')
            if not line.strip() or line.lstrip().startswith('#'):
                continue
            test_id, _, reason = line.partition('#')
            test_id = test_id.strip()
            if not reason.strip():
                sys.exit('%s:%d: no reason given (`<test id>  # <reason>`)' % (path, n))
            expected[key(test_id)] = (test_id, reason.strip())
    return expected


def excerpt(text, head=4, tail=6):
    lines = [l for l in text.splitlines() if l.strip()]
    if len(lines) <= head + tail + 1:
        return lines
    return lines[:head] + ['    ... (%d lines)' % (len(lines) - head - tail)] + lines[-tail:]


def last_line(text):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    return lines[-1] if lines else ''


def per_test(selection, raw):
    """{test id: (status, text)} for every test of the selection, class-level outcomes spread."""
    # Class-level outcomes, by the class's dotted path.
    class_outcome = {}
    extra = {}  # pseudo-tests that count on their own (tearDownClass failures and the like)
    for test_id, (status, text) in raw.items():
        m = CLASS_FIXTURE.match(test_id)
        if not m:
            continue
        if m.group(1) == 'setUpClass' and status in ('fail', 'skip'):
            class_outcome[m.group(2)] = (status, text)
        elif status == 'fail':
            extra[test_id] = (status, text)

    outcome = collections.OrderedDict()
    for test_id in selection:
        if test_id in raw:
            outcome[test_id] = raw[test_id]
            continue
        cls = key(test_id).rsplit('.', 1)[0]
        if cls in class_outcome:
            status, text = class_outcome[cls]
            outcome[test_id] = (status, ('setUpClass: ' if status == 'skip' else '') + text)
        else:
            outcome[test_id] = ('fail', 'no result: the test never reported (a worker that died?)')
    # Outcomes of ids not in the list (a test added by a plugin at run time): counted too.
    for test_id, value in raw.items():
        if test_id not in outcome and not CLASS_FIXTURE.match(test_id):
            outcome[test_id] = value
    outcome.update(extra)
    return outcome


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--list', required=True)
    ap.add_argument('--expected', required=True)
    ap.add_argument('--tsv')
    ap.add_argument('--write-expected')
    ap.add_argument('--partial', action='store_true',
                    help='a chosen subset ran: listed ids outside it are not reported')
    args = ap.parse_args()

    with open(args.list) as f:
        selection = [l.strip() for l in f if l.strip() and not l.startswith(' ')]
    outcome = per_test(selection, read_stream(sys.stdin.buffer))
    expected = read_expected(args.expected)

    passed = [t for t, (s, _) in outcome.items() if s in ('success', 'xfail')]
    failed = [t for t, (s, _) in outcome.items() if s in ('fail', 'uxsuccess')]
    skipped = [t for t, (s, _) in outcome.items() if s == 'skip']

    if args.tsv:
        with open(args.tsv, 'w') as f:
            for t, (s, text) in outcome.items():
                f.write('%s\t%s\t%s\n' % (t, s, last_line(text).replace('\t', ' ')))
    if args.write_expected:
        # A draft for the maintainer: every failure with the last line of its traceback as a
        # placeholder reason, to be replaced by a short human reason.
        with open(args.write_expected, 'w') as f:
            for t in failed:
                f.write('%s  # %s\n' % (t, last_line(outcome[t][1])[:160]))

    reasons = collections.Counter(last_line(outcome[t][1]) for t in skipped)
    if reasons:
        print('skip reasons (Tempest\'s own):')
        for reason, n in reasons.most_common():
            print('  %3d  %s' % (n, reason[:150]))

    unexpected = [t for t in failed if key(t) not in expected]
    now_passing = [t for t in passed if key(t) in expected]
    known = {key(t) for t in outcome}
    stale = [] if args.partial else [v[0] for k, v in expected.items() if k not in known]
    listed_skipped = [t for t in skipped if key(t) in expected]

    print('expected failures (listed): %d failed as expected' % sum(1 for t in failed if key(t) in expected))
    for t in listed_skipped:
        print('note: listed but skipped this run: %s' % t)
    for t in now_passing:
        print('NOW PASSES: remove it from the list: %s' % t)
    for t in stale:
        print('NOT IN THE SELECTION: remove it from the list: %s' % t)
    if unexpected:
        print('NEW FAILURES (%d), not in %s:' % (len(unexpected), args.expected))
        for t in unexpected:
            print('- %s' % t)
            for line in excerpt(outcome[t][1]):
                print('    ' + line)
    # The one summary line (scripts/test.sh adds it to its total), last.
    print('tempest: %d passed, %d failed, %d skipped' % (len(passed), len(failed), len(skipped)))
    return 1 if (unexpected or now_passing or stale) else 0


if __name__ == '__main__':
    sys.exit(main())
