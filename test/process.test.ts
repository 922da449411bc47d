// Child-process fault tests: the built binary under a closed pipe, signals, a stalled reader.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { BIN, peakRss, ROOT, scratch } from './helpers.js';
import { LINES } from './fixtures.js';

function start(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH, NO_COLOR: '1' } });
}

function exited(child: ChildProcessWithoutNullStreams, timeoutMs = 20000): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

function collect(stream: NodeJS.ReadableStream): { text: string } {
  const box = { text: '' };
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => (box.text += d));
  return box;
}

/** Feeds result lines to stdin without end, as `tail -F` would, until stopped. */
function endlessInput(child: ChildProcessWithoutNullStreams): { stop: () => void; written: () => number } {
  const block = Buffer.from((LINES.event + '\n').repeat(1000));
  let written = 0;
  let stopped = false;
  const pump = (): void => {
    while (!stopped) {
      written += block.length;
      if (!child.stdin.write(block)) {
        child.stdin.once('drain', pump);
        return;
      }
    }
  };
  child.stdin.on('error', () => (stopped = true));
  setImmediate(pump);
  return {
    stop: () => {
      stopped = true;
      child.stdin.destroy();
    },
    written: () => written,
  };
}

t.test('oqfwd | head -1: stops reading and exits quietly with 0', async (t) => {
  const child = start([]);
  const input = endlessInput(child);
  const err = collect(child.stderr);
  const done = exited(child);
  let first = '';
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      first += d.toString('utf8');
      if (first.includes('\n')) {
        child.stdout.destroy(); // what head does after one line
        resolve();
      }
    });
  });
  const { code, signal } = await done;
  input.stop();
  t.equal(code, 0);
  t.equal(signal, null);
  t.equal(err.text, '', 'nothing on stderr');
  t.match(first, /^\{"kind":"result"/);
});

t.test('a stdout closed before the start is a quiet exit too', async (t) => {
  const child = start(['samples/osqueryd.results.log']);
  child.stdout.destroy();
  const err = collect(child.stderr);
  const { code } = await exited(child);
  t.equal(code, 0);
  t.equal(err.text, '');
});

t.test('a stdout closed at the start (>&-) or full is exit 4 with a message, not silent success; > /dev/null is fine', async (t) => {
  const sh = (redirect: string): ChildProcessWithoutNullStreams =>
    spawn('sh', ['-c', `exec "$0" "$1" --stats samples/osqueryd.results.log ${redirect}`, process.execPath, BIN], { cwd: ROOT, env: { PATH: process.env.PATH, NO_COLOR: '1' } });
  const closed = sh('>&-');
  const err = collect(closed.stderr);
  t.equal((await exited(closed)).code, 4);
  t.match(err.text, /^oqfwd: cannot write output: standard output is closed .*> \/dev\/null\n/);
  t.match(err.text, /stats: events +0$/m, 'nothing claimed written');
  const discarded = sh('> /dev/null');
  const err2 = collect(discarded.stderr);
  t.equal((await exited(discarded)).code, 0);
  t.notMatch(err2.text, /closed/);
  t.match(err2.text, /stats: events +[1-9]/m);
  const full = sh('> /dev/full');
  const err3 = collect(full.stderr);
  t.equal((await exited(full)).code, 4, 'a full disk under stdout is exit 4');
  t.match(err3.text, /^oqfwd: cannot write output: ENOSPC/);
});

for (const [signal, status] of [
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const) {
  t.test(`${signal}: flushes every line read, then exits ${status}`, async (t) => {
    const child = start(['--stats']);
    const out = collect(child.stdout);
    const err = collect(child.stderr);
    const done = exited(child);
    child.stdin.write(`${LINES.event}\n${LINES.batch}\n`);
    // Wait until both events are out: they were read; the pipe stays open like tail -F.
    while (out.text.split('\n').length < 3) await new Promise((r) => setTimeout(r, 20));
    child.stdin.write(LINES.snapshot.slice(0, 40)); // a line cut short by the signal
    await new Promise((r) => setTimeout(r, 100));
    child.kill(signal);
    const { code } = await done;
    t.equal(code, status);
    const kinds = out.text.trimEnd().split('\n').map((l) => (JSON.parse(l) as { kind: string }).kind);
    t.same(kinds, ['result', 'batch', 'unparsed'], 'the cut line is accounted for, not lost');
    t.match(err.text, /stats: lines +3$/m);
  });
}

t.test('a reader that stops reading stops oqfwd reading: bounded memory, end-to-end backpressure', async (t) => {
  const child = start([]);
  child.stdout.pause(); // nobody reads oqfwd's output
  const input = endlessInput(child);
  const done = exited(child);
  let last = -1;
  // Wait until the producer is stalled: its count stops growing.
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (input.written() === last) break;
    last = input.written();
  }
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
  t.equal(input.written(), last, 'the producer is held back');
  t.ok(last < 64 * 1024 * 1024, `oqfwd took ${last} bytes before pushing back`);
  t.ok(rssKiB < 150 * 1024, `RSS ${rssKiB} KiB`);
  input.stop();
  child.stdout.resume();
  const { code } = await done;
  t.equal(code, 0);
});

t.test('on stdin, a held status record is written after the idle timeout, not at the end', async (t) => {
  const child = start(['--host', 'h']);
  const out = collect(child.stdout);
  const done = exited(child);
  const sent = Date.now();
  child.stdin.write('I1124 23:16:02.457120  1203 distributed.cpp:155] SELECT name\nFROM processes\n');
  while (out.text === '' && Date.now() - sent < 10000) await new Promise((r) => setTimeout(r, 20));
  const waited = Date.now() - sent;
  t.match(out.text, /"message":"SELECT name\\nFROM processes"/);
  t.ok(waited >= 900, `held for the idle timeout first (${waited} ms)`);
  child.stdin.end();
  const { code } = await done;
  t.equal(code, 0);
});

t.test('one huge line: memory is at most about twice the line + 64 MiB, in both modes and every shape, and every row arrives', async (t) => {
  const dir = scratch('huge');
  const rows = 400_000;
  const parts: string[] = [];
  for (let i = 0; i < rows; i++) parts.push(`{"name":"pkg${i}","version":"1.2.${i}","arch":"amd64","source":"src-${i}"}`);
  const env = '"name":"deb_packages","hostIdentifier":"h","calendarTime":"c","unixTime":1,"epoch":0,"counter":0,"numerics":false';
  const half = parts.slice(0, rows / 2).join(',');
  const lines = {
    snapshot: `{"snapshot":[${parts.join(',')}],"action":"snapshot",${env}}\n`,
    // One DEL to escape, osquery 3.1's strings for numbers (the line is taken apart).
    escaped: `{"snapshot":[${parts.join(',').replace('pkg5', 'pkg\u007f5')}],"action":"snapshot",${env.replace('"unixTime":1', '"unixTime":"1"')}}\n`,
    batch: `{"diffResults":{"removed":[${half}],"added":[${half}]},${env}}\n`,
    column: `{${env},"columns":{"v":"${'x'.repeat(31 * 2 ** 20)}"},"action":"added"}\n`,
  };
  for (const [name, line] of Object.entries(lines)) {
    const file = join(dir, `${name}.log`);
    writeFileSync(file, line);
    const mib = Buffer.byteLength(line) / 2 ** 20;
    const flat = name === 'column' ? [[[], 1]] : [[[], 1], [['--flatten'], name === 'batch' ? rows / 2 * 2 : rows]];
    for (const [args, events] of flat as Array<[string[], number]>) {
      const { code, lines: count, peakKiB: peak } = await peakRss([...args, file]);
      const what = `${name}${args.length > 0 ? ' ' + args.join(' ') : ''}`;
      t.equal(code, 0, what);
      t.equal(count, events, `${what}: ${events} events`);
      // Measured for these 31 MiB lines, run alone: 88-91 MiB whole, 106-108 flattened; before
      // long lines were converted from the pieces they were read in, 150-180 MiB, and 299
      // with one DEL to escape.
      t.ok(peak > 0 && peak / 1024 < 64 + 2 * mib, `${what}: peak RSS ${Math.round(peak / 1024)} MiB for a ${Math.round(mib)} MiB line, under ${Math.round(64 + 2 * mib)}`);
    }
  }
});

t.test('standard error closed by its reader or full never stops the events: what it cannot take is counted', async (t) => {
  const dir = scratch('stderr');
  const bad = join(dir, 'bad.txt');
  writeFileSync(bad, Array.from({ length: 50000 }, (_, i) => `not osquery ${i}\n`).join(''));
  for (const how of ['closed', 'full'] as const) {
    const { openSync, closeSync } = await import('node:fs');
    const err = how === 'full' ? openSync('/dev/full', 'w') : 'pipe';
    const child = spawn(process.execPath, [BIN, '--unparsed', 'forward', bad], { cwd: ROOT, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', err] });
    if (typeof err === 'number') closeSync(err);
    // `2>&1 | head -1`: the reader takes one line and goes away.
    if (how === 'closed') child.stderr!.once('data', () => child.stderr!.destroy());
    let lines = 0;
    child.stdout!.on('data', (d: Buffer) => {
      for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) lines++;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    t.equal(code, 0, `stderr ${how}: exit 0`);
    t.equal(lines, 50000, `stderr ${how}: every event written`);
  }
});

t.test('SIGTERM while nobody reads the events: every line taken from the pipe is written; what is left is still in the pipe', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { constants, openSync, readSync, writeSync, closeSync } = await import('node:fs');
  const dir = scratch('sigterm-pipe');
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  // The test holds the FIFO's write end, so that after oqfwd is gone it can read what oqfwd
  // left in it: lines written = lines out + lines left, exactly, when nothing was lost.
  const input = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const child = spawn(process.execPath, [BIN], { cwd: ROOT, env: { PATH: process.env.PATH }, stdio: [input, 'pipe', 'pipe'] }) as unknown as ChildProcessWithoutNullStreams;
  closeSync(input);
  const w = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  const line = (n: number): string => `{"name":"q","hostIdentifier":"h","unixTime":1,"columns":{"seq":"${String(n).padStart(8, '0')}"},"action":"added"}\n`;
  // Nobody reads the events until the signal: oqfwd fills its buffers and stops reading.
  let out = '';
  child.stdout.pause();
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  let written = 0;
  const pump = setInterval(() => {
    try {
      for (let k = 0; k < 500; k++) {
        writeSync(w, line(written)); // at most PIPE_BUF: all of it or EAGAIN
        written++;
      }
    } catch {
      // the pipe is full: oqfwd is held back by its reader
    }
  }, 1);
  await new Promise((r) => setTimeout(r, 1500));
  clearInterval(pump);
  child.kill('SIGTERM');
  child.stdout.resume();
  const { code } = await exited(child);
  const r = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  let left = 0;
  const b = Buffer.alloc(65536);
  for (;;) {
    try {
      const n = readSync(r, b);
      if (n === 0) break;
      left += n;
    } catch {
      break; // EAGAIN: empty
    }
  }
  closeSync(r);
  closeSync(w);
  const got = out.split('\n').filter((l) => l !== '').length;
  t.equal(code, 143);
  // Nobody read stdout before the signal, so at most its pipe's 64 KiB (under 700 of these
  // events) had left oqfwd then: the rest of what it took was inside it, and must come out.
  t.ok(written - left / line(0).length > 1500, `oqfwd had taken ${written - left / line(0).length} lines when the signal came`);
  t.equal(left % line(0).length, 0, 'whole lines left in the pipe');
  t.equal(got + left / line(0).length, written, `every line is out or still in the pipe (${got} out, ${left / line(0).length} left)`);
});
