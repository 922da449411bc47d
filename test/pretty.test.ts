// --pretty, colour flags, --progress and the bare-oqfwd hint: unit tests of the renderer,
// then the built binary, on a pipe and through a pseudo-terminal (util-linux script(1)).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { TERMINAL_HINT } from '../lib/cli.js';
import { PLAIN } from '../lib/colour.js';
import { prettyEvent, PrettyRenderer, PRETTY_WIDTH } from '../lib/output/pretty.js';
import { progressLine } from '../lib/progress.js';
import { BIN, cli, ROOT, scratch } from './helpers.js';

const bin = (s: string): string => Buffer.from(s).toString('latin1');
const pretty = (event: string): string => prettyEvent(bin(event));
const ESC = /\u001b/;

t.test('each kind on one line: time, host, kind, query or place, action, then columns or message', async (t) => {
  t.equal(
    pretty('{"kind":"result","name":"q","hostIdentifier":"h","unixTime":1795597900,"columns":{"path":"","n":18446744073709551615,"cmd":"a b","k":"x=y"},"action":"added"}'),
    '2026-11-25T09:11:40Z h result q added path="" n=18446744073709551615 cmd="a b" k="x=y"\n',
    'values exact (a 20-digit number too), quoted where they would be ambiguous',
  );
  t.equal(
    pretty('{"kind":"status","hostIdentifier":"h","calendarTime":"x","unixTime":1,"severity":2,"filename":"t.cpp","line":97,"message":"no table","time":"1970-01-01T00:00:01.000012Z"}'),
    '1970-01-01T00:00:01.000012Z h status ERROR t.cpp:97 no table\n',
  );
  t.equal(pretty('{"kind":"batch","diffResults":{"removed":[{"p":"1"}],"added":[{"p":"2"},{"p":"3"}]},"name":"procs","unixTime":"5"}'), '1970-01-01T00:00:05Z - batch procs -1 +2 [p=1] [p=2] [p=3]\n');
  t.equal(pretty('{"kind":"snapshot","snapshot":[{"x":"1"}],"action":"snapshot","name":"s","hostIdentifier":"h"}'), '- h snapshot s snapshot 1 rows [x=1]\n');
  t.equal(pretty('{"kind":"snapshot","name":"s","hostIdentifier":"h","action":"snapshot","rowCount":0}'), '- h snapshot s snapshot (no rows)\n');
  t.equal(pretty('{"kind":"unparsed","file":"in.log","line":3,"reason":"not an osquery line","raw":"junk"}'), 'unparsed in.log:3: not an osquery line: junk\n');
});

t.test('nothing from the input can drive the terminal or make a second line', async (t) => {
  const hostile = '\\u001b]0;pwned\\u0007\\n\\r\\u009b31m\\u202e\\u0000';
  for (const event of [
    `{"kind":"result","name":"${hostile}","hostIdentifier":"${hostile}","columns":{"${hostile}":"${hostile}"},"action":"${hostile}"}`,
    `{"kind":"status","hostIdentifier":"h","severity":"${hostile}","filename":"${hostile}","line":1,"message":"${hostile}","time":"${hostile}"}`,
    `{"kind":"unparsed","file":"${hostile}","line":1,"reason":"r","raw":"${hostile}"}`,
    `{"kind":"snapshot","snapshot":[{"a":"${hostile}"}],"name":"${hostile}"}`,
  ]) {
    const out = pretty(event);
    t.notMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/, 'no control character, no bidi override');
    t.equal(out.indexOf('\n'), out.length - 1, 'one line');
    t.match(out, /\\x1b\]0;pwned\\x07/, 'shown escaped');
  }
});

t.test('a long value is cut and says so; a huge snapshot shows some rows and how many more', async (t) => {
  const long = pretty(`{"kind":"status","hostIdentifier":"h","severity":0,"filename":"f","line":1,"message":"${'x'.repeat(100000)}"}`);
  t.ok(long.length < PRETTY_WIDTH + 200, `${long.length} characters`);
  t.match(long, /\.\.\.\(95904 more\)\n$/);
  const rows = Array.from({ length: 10000 }, (_, i) => `{"i":"${i}"}`).join(',');
  const snap = pretty(`{"kind":"snapshot","snapshot":[${rows}],"name":"s"}`);
  t.ok(snap.length < PRETTY_WIDTH + 200);
  t.match(snap, /^- - snapshot s snapshot 10000 rows \[i=0\] \[i=1\] .* \.\.\. \d+ more\n$/);
});

t.test('the renderer takes chunks that end anywhere, UTF-8 split too', async (t) => {
  const events = Buffer.from('{"kind":"result","name":"é","columns":{"a":"ü"},"action":"added"}\n'.repeat(3));
  const whole = new PrettyRenderer(PLAIN).render(events);
  const r = new PrettyRenderer(PLAIN);
  let bytewise = '';
  for (let i = 0; i < events.length; i++) bytewise += r.render(events.subarray(i, i + 1));
  t.equal(bytewise, whole);
  t.equal(whole, '- - result é added a=ü\n'.repeat(3));
});

t.test('--pretty on a pipe: no colour, unless --color or FORCE_COLOR; --no-color and NO_COLOR win otherwise', async (t) => {
  const args = ['--pretty', '--tz', 'UTC', 'samples/osqueryd.INFO.20261124-231502.1184'];
  const plain = await cli(args);
  t.equal(plain.code, 0);
  t.notMatch(plain.stdout, ESC);
  t.match(plain.stdout, /^2026-11-24T23:15:03\.004512Z web-01\.example\.net status WARNING scheduler\.cpp:102 /m);
  const forced = await cli(['--color', ...args]);
  t.match(forced.stdout, /\u001b\[33mWARNING\u001b\[39m/, 'warnings yellow');
  t.match(forced.stdout, /\u001b\[31mERROR\u001b\[39m/, 'errors red');
  t.equal(forced.stdout.replace(/\u001b\[\d+m/g, ''), plain.stdout, 'the same text under the colour');
  t.match((await cli(args, '', { FORCE_COLOR: '1', NO_COLOR: '' })).stdout, ESC, 'FORCE_COLOR');
  t.notMatch((await cli(['--no-color', ...args], '', { FORCE_COLOR: '1', NO_COLOR: '' })).stdout, ESC, '--no-color beats FORCE_COLOR');
  t.notMatch((await cli(args, '', { NO_COLOR: '1' })).stdout, ESC, 'NO_COLOR');
  const json = await cli(['--color', '--tz', 'UTC', 'samples/osqueryd.results.log']);
  t.notMatch(json.stdout, ESC, 'NDJSON is never coloured');
});

/** `argv` run by the built binary on a pseudo-terminal (stdout to /dev/null with `stdoutNull`); what the terminal showed. */
function onTerminal(argv: string[], env: NodeJS.ProcessEnv = {}, stdoutNull = false): { status: number | null; out: string } {
  const cmd = ['node', BIN, ...argv].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ') + (stdoutNull ? ' >/dev/null' : '') + '; echo "[status=$?]"';
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, TZ: 'UTC', TERM: 'xterm', ...env }, timeout: 30000 });
  const m = /\[status=(\d+)\]/.exec(r.stdout);
  return { status: m === null ? null : Number(m[1]), out: r.stdout.replace(/\r\n/g, '\n') };
}

const hasScript = spawnSync('script', ['-qec', 'true', '/dev/null'], { stdio: 'ignore' }).status === 0;
const noPty = hasScript ? false : 'script(1) cannot run a pseudo-terminal here';

t.test('on a terminal: --pretty is coloured by default, not with NO_COLOR', { skip: noPty }, async (t) => {
  const coloured = onTerminal(['--pretty', '--tz', 'UTC', 'samples/osqueryd.results.log']);
  t.equal(coloured.status, 0);
  t.match(coloured.out, /\u001b\[32madded\u001b\[39m/);
  const plain = onTerminal(['--pretty', '--tz', 'UTC', 'samples/osqueryd.results.log'], { NO_COLOR: '1' });
  t.notMatch(plain.out, ESC);
  t.match(plain.out, / added /);
});

t.test('bare oqfwd on a terminal says what it reads and exits 2; on a pipe it reads stdin', { skip: noPty }, async (t) => {
  const r = onTerminal([]);
  t.equal(r.status, 2);
  t.equal(r.out.replace(/\[status=\d+\]\n?$/, ''), TERMINAL_HINT);
  const piped = await cli([], '{"name":"q","columns":{},"action":"added"}\n');
  t.equal(piped.code, 0);
  t.notMatch(piped.stderr, /reads osquery/);
  t.equal(piped.stdout, '{"kind":"result","name":"q","columns":{},"action":"added"}\n');
});

t.test('--progress: a live line on a terminal, erased at the end; plain lines when forced elsewhere', { skip: noPty }, async (t) => {
  const dir = scratch('progress');
  const file = join(dir, 'results.log');
  const line = '{"name":"q","hostIdentifier":"h","unixTime":1,"columns":{"a":"1"},"action":"added"}\n';
  writeFileSync(file, line.repeat(20000)); // 1.6 MiB; the line is drawn at the start whatever the speed
  const tty = onTerminal([file], {}, true);
  t.equal(tty.status, 0);
  t.match(tty.out, /^\r\u001b\[Koqfwd: [\d.]+ (?:B|KiB|MiB) of 1\.6 MiB \(\d+%\).*events\/s/, 'drawn over itself, with the total');
  t.match(tty.out, /events\/s\r\u001b\[K\[status=0\]/, 'erased at the end');
  t.notMatch(onTerminal(['--no-progress', file], {}, true).out, /events\/s/, '--no-progress');
  t.notMatch(onTerminal(['-q', file], {}, true).out, /events\/s/, 'not by default with --quiet');
  t.notMatch(onTerminal([file]).out.slice(0, 2000), /events\/s/, 'not by default when the events go to the terminal too');
  const piped = await cli(['--progress', file]);
  t.equal(piped.code, 0);
  t.match(piped.stderr, /^oqfwd: [\d.]+ (?:B|KiB|MiB) of 1\.6 MiB \(\d+%\).*events\/s\n/m, 'forced on a pipe: plain lines');
  t.notMatch(piped.stderr, /\r|\u001b/);
  const stdin = await cli([], line);
  t.equal(stdin.stderr, '', 'never by default where stderr is no terminal');
});

t.test('the progress line', async (t) => {
  t.equal(progressLine(512, null, 10, 2), 'oqfwd: 512 B, 5 events/s');
  t.equal(progressLine(50 * 1048576, 100 * 1048576, 123456, 1), 'oqfwd: 50.0 MiB of 100.0 MiB (50%), 0:01 left, 123,456 events/s');
  t.equal(progressLine(100, 100, 1, 1), 'oqfwd: 100 B of 100 B (100%), 1 events/s', 'no time left at the end');
  t.equal(progressLine(1, 3600 * 2, 0, 1), 'oqfwd: 1 B of 7.0 KiB (0%), 1:59:59 left, 0 events/s');
});
