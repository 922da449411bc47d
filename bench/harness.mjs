// What the bench scripts share (run.mjs, soak.mjs): a free loopback port, a process's CPU
// time, and the rsyslog imrelp receiver of the README's recipe.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** User + system CPU seconds of a running process, from /proc (NaN once it is gone). */
export function cpuOf(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks
  } catch {
    return NaN;
  }
}

/**
 * rsyslog.conf for an imrelp receiver on 127.0.0.1:`port` that acknowledges only what it
 * wrote to `out` (direct queue, omfile flushed per transaction); `extra`: more inputs.
 */
export function imrelpConfig({ work, port, out, extra = '' }) {
  return `global(workDirectory="${work}" maxMessageSize="64m")
main_queue(queue.type="Direct")
module(load="imrelp")
input(type="imrelp" port="${port}" address="127.0.0.1" maxDataSize="64m")
${extra}template(name="event" type="string" string="%msg%\\n")
action(type="omfile" file="${out}" template="event" flushOnTXEnd="on" asyncWriting="off")
`;
}
