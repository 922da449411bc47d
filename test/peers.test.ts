// Real receivers: rsyslog (imtcp with default settings, so a line starting with a digit would
// switch it to octet-counted framing and lose lines) and syslog-ng (network() + json-parser()),
// from Debian's packages, unpacked by test/peers/fetch.sh and run in the foreground on
// loopback. Absent, the tests say so and skip.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { BIN, freePort, ROOT, scratch, sleep, tracked } from './helpers.js';

const PEERS = join(ROOT, '.peers');
const RSYSLOG = join(PEERS, 'rsyslog');
const SYSLOG_NG = join(PEERS, 'syslog-ng');
const dir = scratch('peers');
const N = 100_000;

/** 100,000 events whose values start with digits, and one line of 1 MiB (only for syslog-ng). */
function input(big: boolean): string {
  const path = join(dir, big ? 'big.log' : 'small.log');
  const parts: string[] = [];
  for (let i = 0; i < N; i++) parts.push(`{"name":"q","hostIdentifier":"h","unixTime":"1795597900","columns":{"seq":"${i}","pid":"${i % 70000}","v":"9 starts with a digit"},"action":"added"}\n`);
  if (big) parts.push(`{"name":"big","columns":{"seq":"${N}","blob":"${'y'.repeat(1024 * 1024)}"},"action":"added"}\n`);
  writeFileSync(path, parts.join(''));
  return path;
}



async function listening(port: number, ms = 10000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await sleep(100);
  }
  return false;
}

/** Lines in `file` once it stops growing and holds at least `want`, or after `ms`. */
async function settled(file: string, want: number, ms = 60000): Promise<string[]> {
  const until = Date.now() + ms;
  let lines: string[] = [];
  while (Date.now() < until) {
    lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
    if (lines.length >= want) return lines;
    await sleep(200);
  }
  return lines;
}

/** What oqfwd writes for `file` on stdout: the events the receiver must hold. */
function expected(file: string): string[] {
  const r = spawnSync(process.execPath, [BIN, file], { maxBuffer: 2 ** 30, encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l !== '');
}

function oqfwd(port: number, file: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, '--connect-timeout', '10', '-o', `tcp://127.0.0.1:${port}`, file], { stdio: 'inherit' });
    child.on('close', (code) => resolve(code));
  });
}

function daemon(argv: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return tracked(spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] }));
}

const rsyslogd = join(RSYSLOG, 'usr/sbin/rsyslogd');
t.test('rsyslog (imtcp, default settings) receives 100,000 events intact, once', { skip: existsSync(rsyslogd) ? false : `no rsyslog in ${RSYSLOG}: run test/peers/fetch.sh` }, async (t) => {
  const port = await freePort();
  const work = mkdtempSync(join(dir, 'rsyslog-'));
  const out = join(work, 'out.log');
  writeFileSync(
    join(work, 'rsyslog.conf'),
    `global(workDirectory="${work}")
module(load="imtcp")
input(type="imtcp" port="${port}" address="127.0.0.1")
template(name="raw" type="string" string="%rawmsg%\\n")
action(type="omfile" file="${out}" template="raw")
`,
  );
  const lib = join(RSYSLOG, 'usr/lib/x86_64-linux-gnu');
  const rs = daemon([rsyslogd, '-n', '-f', join(work, 'rsyslog.conf'), '-i', join(work, 'rsyslog.pid'), '-M', join(lib, 'rsyslog')], { LD_LIBRARY_PATH: lib });
  try {
    t.ok(await listening(port), 'rsyslog listens');
    const file = input(false);
    t.equal(await oqfwd(port, file), 0);
    const want = expected(file);
    const got = await settled(out, want.length);
    t.equal(got.length, want.length, `${got.length} lines arrived`);
    t.ok(got.every((l, i) => l === want[i]), 'every event intact, in order, once');
  } finally {
    rs.kill('SIGTERM');
  }
});

const syslogNg = join(SYSLOG_NG, 'usr/sbin/syslog-ng');
t.test('syslog-ng (network + json-parser, 2 MiB messages) receives 100,000 events and one of 1 MiB intact, once', { skip: existsSync(syslogNg) ? false : `no syslog-ng in ${SYSLOG_NG}: run test/peers/fetch.sh` }, async (t) => {
  const port = await freePort();
  const work = mkdtempSync(join(dir, 'syslog-ng-'));
  const out = join(work, 'out.log');
  writeFileSync(
    join(work, 'syslog-ng.conf'),
    `@version: 3.38
options { log-msg-size(2097152); stats_freq(0); };
source s_oqfwd { network(ip("127.0.0.1") port(${port}) transport("tcp") flags(no-parse) log-msg-size(2097152)); };
parser p_json { json-parser(prefix(".j.")); };
destination d_out { file("${out}" template("\${.j.kind} \${.j.columns.seq} $MSG\\n")); };
log { source(s_oqfwd); parser(p_json); destination(d_out); };
`,
  );
  const lib = [join(SYSLOG_NG, 'lib/x86_64-linux-gnu'), join(SYSLOG_NG, 'usr/lib/x86_64-linux-gnu'), join(SYSLOG_NG, 'usr/lib/syslog-ng')].join(':');
  const ng = daemon(
    [syslogNg, '-F', '--no-caps', `--module-path=${join(SYSLOG_NG, 'usr/lib/syslog-ng/3.38')}`, '-f', join(work, 'syslog-ng.conf'), '-R', join(work, 'persist'), '-p', join(work, 'pid'), '-c', join(work, 'ctl')],
    { LD_LIBRARY_PATH: lib },
  );
  try {
    t.ok(await listening(port), 'syslog-ng listens');
    const file = input(true);
    t.equal(await oqfwd(port, file), 0);
    const want = expected(file);
    const got = await settled(out, want.length);
    t.equal(got.length, want.length, `${got.length} lines arrived`);
    let intact = 0;
    for (let i = 0; i < Math.min(got.length, want.length); i++) {
      // json-parser read each event: its kind and seq come first, then the event as sent.
      const seq = /"seq":"(\d+)"/.exec(want[i]!)![1];
      if (got[i] === `result ${seq} ${want[i]}`) intact++;
    }
    t.equal(intact, want.length, 'every event parsed by json-parser and intact, in order, once');
    t.ok(got.at(-1)!.length > 1024 * 1024, 'the 1 MiB event arrived whole');
  } finally {
    ng.kill('SIGTERM');
  }
});
