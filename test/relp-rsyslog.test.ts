// RELP into the real rsyslog (imrelp from Debian's rsyslog-relp, unpacked by
// test/peers/fetch.sh), configured to acknowledge only what it has written: a direct main
// queue and omfile flushing at the end of each transaction. rsyslog is SIGKILLed and started
// again while oqfwd sends: nothing may be missing, and duplicates are bounded by the window.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { exited, freePort, numbered, oqfwd, ROOT, scratch, sleep, tracked, waitFor } from './helpers.js';

const RSYSLOG = join(ROOT, '.peers', 'rsyslog');
const rsyslogd = join(RSYSLOG, 'usr/sbin/rsyslogd');
const lib = join(RSYSLOG, 'usr/lib/x86_64-linux-gnu');
const hasRelp = existsSync(rsyslogd) && existsSync(join(lib, 'rsyslog/imrelp.so'));
const dir = scratch('relp-rsyslog');

/** The recipe the README gives, on a loopback port, writing to `out`. */
function config(port: number, out: string, work: string): string {
  return `global(workDirectory="${work}" maxMessageSize="64m")
main_queue(queue.type="Direct")
module(load="imrelp")
input(type="imrelp" port="${port}" address="127.0.0.1" maxDataSize="64m")
template(name="event" type="string" string="%msg%\\n")
action(type="omfile" file="${out}" template="event" flushOnTXEnd="on" asyncWriting="off")
`;
}

function start(conf: string, work: string): ChildProcess {
  return tracked(spawn(rsyslogd, ['-n', '-f', conf, '-i', join(work, 'pid'), '-M', join(lib, 'rsyslog')], { env: { ...process.env, LD_LIBRARY_PATH: lib }, stdio: ['ignore', 'ignore', 'inherit'] }));
}

/** Events 0..n-1 in rsyslog's output: each whole JSON event counted, torn pieces apart. */
function events(text: string, n: number): { missing: number; dups: number; torn: number } {
  const seen = new Uint32Array(n);
  let torn = 0;
  for (const line of text.split('\n')) {
    for (const part of line.split(/(?=\{"kind":)/)) {
      if (part === '') continue;
      try {
        seen[Number((JSON.parse(part) as { columns: { seq: string } }).columns.seq)]!++;
      } catch {
        torn++;
      }
    }
  }
  let missing = 0;
  let dups = 0;
  for (const c of seen) {
    if (c === 0) missing++;
    else dups += c - 1;
  }
  return { missing, dups, torn };
}

const size = (f: string): number => (existsSync(f) ? readFileSync(f).length : 0);

t.test('300,000 events over RELP while rsyslog is SIGKILLed and restarted 4 times: nothing missing, exit 0', { skip: hasRelp ? false : `no rsyslog with imrelp in ${RSYSLOG}: run test/peers/fetch.sh` }, async (t) => {
  const n = 300_000;
  const window = 500;
  const port = await freePort();
  const out = join(dir, 'out.log');
  const conf = join(dir, 'rsyslog.conf');
  writeFileSync(conf, config(port, out, dir));
  let rs = start(conf, dir);
  await sleep(300);
  const run = oqfwd(['--stats', '--relp-window', String(window), '--connect-timeout', '30', '-o', `relp://127.0.0.1:${port}`, numbered(dir, n)]);
  t.ok(await waitFor(() => size(out) > 1e6, 30000), 'events flow');
  let kills = 0;
  for (; kills < 4 && run.child.exitCode === null; kills++) {
    await sleep(400);
    rs.kill('SIGKILL');
    await exited(rs);
    await sleep(300);
    rs = start(conf, dir);
  }
  const r = await run.done;
  rs.kill('SIGTERM');
  await exited(rs);
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stderr, /no progress/, 'each kill noticed at once, not by the stall timeout');
  t.ok(kills >= 2, `${kills} kills while oqfwd ran`);
  const a = events(readFileSync(out, 'utf8'), n);
  t.equal(a.missing, 0, 'nothing missing');
  // rsyslog killed in the middle of writing a line leaves its start, and the next event
  // (sent again, as it was never acknowledged) follows on the same line.
  t.ok(a.torn <= kills, `${a.torn} torn writes, at most one per kill`);
  t.ok(a.dups <= kills * window, `${a.dups} duplicates, at most the window per kill`);
  t.equal(Number(/stats: confirmed_events +(\d+)/.exec(r.stderr)?.[1]), n, 'every event acknowledged');
});
