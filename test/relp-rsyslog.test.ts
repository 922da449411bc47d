// RELP into the real rsyslog (imrelp from Debian's rsyslog-relp, unpacked by
// test/peers/fetch.sh), configured to acknowledge only what it has written: a direct main
// queue and omfile flushing at the end of each transaction. rsyslog is SIGKILLed and started
// again while oqfwd sends: nothing may be missing, and duplicates are bounded by the window.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { arrivedIn, exited, freePort, numbered, oqfwd, ROOT, scratch, sleep, tracked, waitFor } from './helpers.js';

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
  const a = arrivedIn(readFileSync(out, 'utf8'), n);
  t.equal(a.missing, 0, 'nothing missing');
  t.equal(a.bad, 0, 'every event intact');
  t.ok(a.dups <= kills * window, `${a.dups} duplicates, at most the window per kill`);
  t.equal(Number(/stats: confirmed_events +(\d+)/.exec(r.stderr)?.[1]), n, 'every event acknowledged');
});
