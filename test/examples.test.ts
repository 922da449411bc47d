// The man page's EXAMPLES are real commands: each is run here by sh, as written, in a copy
// of the bundled samples laid out as /var/log/osquery, with its receiver (TCP, TLS, RELP) on
// 127.0.0.1. The README's gallery must show the same commands.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import t from 'tap';
import { BIN, relpServer, ROOT, scratch, server, tracked, waitFor } from './helpers.js';

/** The commands of the man page's EXAMPLES, roff escapes undone, continuation lines joined. */
function manExamples(): string[] {
  const man = readFileSync(join(ROOT, 'man/oqfwd.1'), 'utf8');
  const section = man.slice(man.indexOf('.SH EXAMPLES\n'), man.indexOf('.SH SEE ALSO\n'));
  return [...section.matchAll(/^\.nf\n([\s\S]*?)\n\.fi$/gm)].map((m) => m[1]!.replace(/\\-/g, '-').replace(/\\e/g, '\\').replace(/ *\\\n\s*/g, ' '));
}

const examples = manExamples();
const SAMPLES = join(ROOT, 'samples');
const INFO = 'osqueryd.INFO.20261124-231502.1184';

/** A host's /var/log/osquery made of the samples, with a rotated results log and the INFO symlink. */
function host(): string {
  const root = scratch('examples');
  const logs = join(root, 'var/log/osquery');
  mkdirSync(logs, { recursive: true });
  mkdirSync(join(root, 'var/lib/oqfwd'), { recursive: true });
  for (const f of ['osqueryd.results.log', 'osqueryd.snapshots.log', INFO]) copyFileSync(join(SAMPLES, f), join(logs, f));
  copyFileSync(join(SAMPLES, 'osqueryd.results.log'), join(logs, 'osqueryd.results.log.1'));
  symlinkSync(INFO, join(logs, 'osqueryd.INFO'));
  return root;
}

/** `oqfwd` on PATH is the built one. */
const shim = scratch('examples-bin');
symlinkSync(BIN, join(shim, 'oqfwd'));

const hasOpenssl = spawnSync('openssl', ['version']).error === undefined;
const certs = scratch('examples-tls');
if (hasOpenssl) {
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'rx.key', '-out', 'rx.crt', '-days', '2', '-subj', '/CN=rx', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: certs });
  if (r.status !== 0) throw new Error(String(r.stderr));
}

/** A receiver on 127.0.0.1 for `scheme`; how many lines (or RELP messages) it has. */
async function receiverFor(scheme: string): Promise<{ port: number; lines: () => number }> {
  if (scheme === 'relp') {
    const rx = await relpServer(() => 'ack');
    return { port: rx.port, lines: () => rx.sessions.reduce((n, s) => n + s.messages.length, 0) };
  }
  let text = '';
  const take = (s: NodeJS.ReadableStream & { end(): void }): void => {
    s.on('data', (d: Buffer) => (text += d.toString('utf8')));
    s.on('end', () => s.end());
  };
  if (scheme === 'tls') {
    const srv = createTlsServer({ key: readFileSync(join(certs, 'rx.key')), cert: readFileSync(join(certs, 'rx.crt')), allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      take(s);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    t.teardown(() => srv.close());
    const port = (srv.address() as { port: number }).port;
    return { port, lines: () => text.split('\n').length - 1 };
  }
  const rx = await server((s) => take(s));
  return { port: rx.port, lines: () => text.split('\n').length - 1 };
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` by sh in `root`; a follower is sent SIGTERM once `ready()` holds (20 s at most). */
async function run(command: string, root: string, ready: () => boolean): Promise<Ran> {
  const follows = / (?:-F|--follow) /.test(command);
  // exec: a lone oqfwd is the process the signal goes to, not a shell around it.
  const child = tracked(
    spawn('sh', ['-c', (command.includes('|') ? '' : 'exec ') + command], {
      cwd: root,
      env: { PATH: `${shim}:${process.env.PATH}`, TZ: 'UTC', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const kill = setTimeout(() => child.kill('SIGKILL'), 30000);
  if (follows) {
    await waitFor(() => ready() || stdout.includes('\n'), 20000);
    child.kill('SIGTERM');
  }
  const code = await closed;
  clearTimeout(kill);
  return { code, stdout, stderr };
}

t.test('the man page has examples, and the README shows the same commands', async (t) => {
  t.ok(examples.length >= 8, `${examples.length} examples`);
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const gallery = /## Examples\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
  const shown = [...gallery.matchAll(/^```\n([\s\S]*?)\n```$/gm)].map((m) => m[1]!.replace(/ *\\\n\s*/g, ' ')).filter((c) => c.startsWith('oqfwd '));
  t.same(shown, examples);
});

for (const example of examples) {
  const scheme = /\b(tcp|tls|relp):\/\/logs\.example\.net:\d+/.exec(example)?.[1] ?? null;
  const skip = scheme === 'tls' && !hasOpenssl ? 'openssl is not installed here' : false;
  t.test(example, { skip }, async (t) => {
    const root = host();
    const rx = scheme === null ? null : await receiverFor(scheme);
    const command = example
      .replace(/\/var\/(log\/osquery|lib\/oqfwd)/g, (_, p: string) => join(root, 'var', p))
      .replace('/etc/ssl/ca.pem', join(certs, 'rx.crt'))
      .replace(/logs\.example\.net:\d+/, `127.0.0.1:${rx?.port}`)
      .replace('less -R', 'cat'); // what less does when its output is no terminal
    const follows = / (?:-F|--follow) /.test(example);
    const r = await run(command, root, () => (rx?.lines() ?? 0) > 0);
    t.equal(r.code, follows ? 143 : 0, `exit status (stderr: ${r.stderr})`);
    const redirected = /> (\S+)$/.exec(example)?.[1];
    const out = redirected !== undefined ? readFileSync(join(root, redirected), 'utf8') : r.stdout;
    const events = rx !== null ? rx.lines() : out.split('\n').filter((l) => l !== '').length;
    t.ok(events > 0, `${events} events arrived`);
    if (/--stats/.test(example)) t.match(r.stderr, /oqfwd: stats: events +\d+/);
    if (/--state/.test(example)) {
      t.ok(existsSync(join(root, 'var/lib/oqfwd/state.json')), 'the state was saved');
      const before = rx!.lines();
      const again = await run(command, root, () => false);
      t.equal(again.code, 0, again.stderr);
      t.equal(rx!.lines(), before, 'the next run sends nothing it sent before');
    }
    if (/--pretty/.test(example)) {
      t.notMatch(out, /^\{/m, 'lines for people, not JSON');
      t.match(out, /\u001b\[33mWARNING/, '--color: coloured through the pipe');
      t.notMatch(out, / INFO /, 'only warnings and above');
    }
    if (/--event-id/.test(example)) {
      for (const e of out.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)) {
        t.match(e, { '@timestamp': /Z$/, event_id: /^[0-9a-f]{32}$/, env: 'prod', name: /^pack_incident-response_/ });
      }
    }
  });
}
