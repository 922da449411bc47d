// TLS output: verification on by default, refused with the reason before any event is sent,
// client certificates, --tls-servername, --tls-insecure. Certificates are made here with
// openssl, so they are fresh and the expired one really is.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { BIN, freePort, receiver, ROOT, scratch, tracked } from './helpers.js';

const dir = scratch('tls');
const hasOpenssl = spawnSync('openssl', ['version']).error === undefined;

function openssl(...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function ca(name: string): void {
  openssl('req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`);
}

/** A certificate for `name` with subjectAltName `san`, signed by `by` (or self-signed). */
function cert(name: string, san: string, by: string | null, days = 2): void {
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
  if (by === null) {
    openssl('req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', String(days), '-subj', `/CN=${name}`, '-addext', `subjectAltName=${san}`);
    return;
  }
  openssl('req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${by}.crt`, '-CAkey', `${by}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', String(days), '-extfile', `${name}.ext`);
}

if (hasOpenssl) {
  ca('ca');
  ca('other-ca');
  cert('good', 'IP:127.0.0.1,DNS:localhost', 'ca');
  cert('wrong-name', 'DNS:wrong.example', 'ca');
  cert('self', 'IP:127.0.0.1', null);
  cert('expired', 'IP:127.0.0.1', 'ca', -1);
  cert('unknown-ca', 'IP:127.0.0.1', 'other-ca');
  cert('client', 'DNS:client.example', 'ca');
}

const events = join(dir, 'events.log');
writeFileSync(events, Array.from({ length: 100 }, (_, i) => `{"name":"q","columns":{"seq":"${i}"},"action":"added"}\n`).join(''));


async function withReceiver(server: string, clientCa: boolean, run: (port: number, out: string) => Promise<void>): Promise<void> {
  const port = await freePort();
  const out = join(dir, `${server}-${port}.out`);
  const env = { CERT: join(dir, `${server}.crt`), KEY: join(dir, `${server}.key`), ...(clientCa ? { CA: join(dir, 'ca.crt') } : {}) };
  const rx = await receiver(port, out, env, true);
  try {
    await run(port, out);
  } finally {
    rx.kill('SIGKILL');
  }
}

function oqfwd(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = tracked(spawn(process.execPath, [BIN, '--connect-timeout', '3', ...args, events], { cwd: ROOT, env: { PATH: process.env.PATH, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] }));
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

const lines = (file: string): number => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);
const ca1 = (): string => join(dir, 'ca.crt');
const skip = hasOpenssl ? false : 'openssl is not installed here';

t.test('a good CA and name: delivered', { skip }, async (t) => {
  await withReceiver('good', false, async (port, out) => {
    const r = await oqfwd(['-o', `tls://127.0.0.1:${port}`, '--tls-ca', ca1()]);
    t.equal(r.code, 0);
    t.equal(r.stderr, '');
    t.equal(lines(out), 100);
  });
});

for (const [server, code, args] of [
  ['wrong-name', /ERR_TLS_CERT_ALTNAME_INVALID/, ['--tls-ca']],
  ['self', /DEPTH_ZERO_SELF_SIGNED_CERT/, []],
  ['expired', /CERT_HAS_EXPIRED/, ['--tls-ca']],
  ['unknown-ca', /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/, ['--tls-ca']],
] as const) {
  t.test(`${server} certificate: refused with the reason, nothing sent, exit 5`, { skip }, async (t) => {
    await withReceiver(server, false, async (port, out) => {
      const r = await oqfwd(['-o', `tls://127.0.0.1:${port}`, ...args.flatMap((flag) => [flag, ca1()])]);
      t.equal(r.code, 5);
      t.match(r.stderr, /^oqfwd: tls:\/\/127\.0\.0\.1:\d+: certificate verification failed: /m);
      t.match(r.stderr, code);
      t.equal(r.stderr.trimEnd().split('\n').length, 1, 'one line');
      t.equal(lines(out), 0, 'no event sent');
    });
  });
}

t.test('--tls-servername checks the name an IP destination must carry', { skip }, async (t) => {
  await withReceiver('wrong-name', false, async (port, out) => {
    const r = await oqfwd(['-o', `tls://127.0.0.1:${port}`, '--tls-ca', ca1(), '--tls-servername', 'wrong.example']);
    t.equal(r.code, 0);
    t.equal(lines(out), 100);
  });
});

t.test('client certificate authentication', { skip }, async (t) => {
  await withReceiver('good', true, async (port, out) => {
    const r = await oqfwd(['-o', `tls://127.0.0.1:${port}`, '--tls-ca', ca1(), '--tls-cert', join(dir, 'client.crt'), '--tls-key', join(dir, 'client.key')]);
    t.equal(r.code, 0);
    t.equal(lines(out), 100);
  });
  await withReceiver('good', true, async (port, out) => {
    const r = await oqfwd(['-o', `tls://127.0.0.1:${port}`, '--tls-ca', ca1()]);
    t.equal(r.code, 5, 'without one: refused');
    t.match(r.stderr, /tls:\/\/127\.0\.0\.1:\d+: .*(CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|certificate)/i);
    t.equal(lines(out), 0);
  });
});

t.test('--tls-insecure delivers and warns, even with --quiet', { skip }, async (t) => {
  await withReceiver('self', false, async (port, out) => {
    const r = await oqfwd(['-q', '-o', `tls://127.0.0.1:${port}`, '--tls-insecure']);
    t.equal(r.code, 0);
    t.match(r.stderr, /--tls-insecure: the certificate of tls:\/\/127\.0\.0\.1:\d+ is not verified/);
    t.equal(lines(out), 100);
  });
});

t.test('an unreadable --tls-ca is a usage error', { skip }, async (t) => {
  const r = await oqfwd(['-o', 'tls://127.0.0.1:9', '--tls-ca', join(dir, 'nope.crt')]);
  t.equal(r.code, 2);
  t.match(r.stderr, /--tls-ca .*nope\.crt: No such file or directory/);
});

t.test('TLS files are checked before connecting: each a usage error naming the file', { skip }, async (t) => {
  const notPem = join(dir, 'not.pem');
  writeFileSync(notPem, 'hello\n');
  const cases: Array<[string[], RegExp]> = [
    [['--tls-cert', join(dir, 'client.crt')], /--tls-cert .*client\.crt needs --tls-key/],
    [['--tls-key', join(dir, 'client.key')], /--tls-key .*client\.key needs --tls-cert/],
    [['--tls-cert', join(dir, 'client.crt'), '--tls-key', join(dir, 'good.key')], /--tls-cert .*client\.crt and --tls-key .*good\.key do not go together/],
    [['--tls-cert', notPem, '--tls-key', join(dir, 'client.key')], /--tls-cert .*not\.pem: not a PEM certificate/],
    [['--tls-cert', join(dir, 'client.crt'), '--tls-key', notPem], /--tls-key .*not\.pem: not a PEM private key/],
    [['--tls-ca', notPem], /--tls-ca .*not\.pem: no PEM certificate in it/],
  ];
  for (const [args, message] of cases) {
    const r = await oqfwd(['-o', 'tls://127.0.0.1:9', ...args]);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, message);
    t.equal(r.stderr.trimEnd().split('\n').length, 1, 'one line');
  }
});

t.test('tcp:// to a TLS receiver: not confirmed, exit non-zero, nothing taken as delivered', { skip }, async (t) => {
  await withReceiver('good', false, async (port, out) => {
    const r = await oqfwd(['--connect-timeout', '2', '-o', `tcp://127.0.0.1:${port}`]);
    t.not(r.code, 0, r.stderr);
    t.match(r.stderr, /100 of 100 events may not have arrived/);
    t.equal(lines(out), 0);
  });
});

t.test('relp+tls://: RELP over a verified TLS connection, every event acknowledged', { skip }, async (t) => {
  const { createServer } = await import('node:tls');
  const { FrameReader } = await import('../lib/output/relp-frame.js');
  const got: string[] = [];
  const srv = createServer({ cert: readFileSync(join(dir, 'good.crt')), key: readFileSync(join(dir, 'good.key')) }, (s) => {
    const reader = new FrameReader();
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      for (const f of reader.push(d)) {
        const answer = f.command === 'open' ? '200 OK\nrelp_version=0\ncommands=syslog' : f.command === 'close' ? '' : '200 OK';
        if (f.command === 'syslog') got.push(f.data.toString());
        s.write(`${f.txnr} rsp ${Buffer.byteLength(answer)}${answer === '' ? '' : ' ' + answer}\n`);
        if (f.command === 'close') s.end();
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  try {
    const r = await oqfwd(['--stats', '-o', `relp+tls://127.0.0.1:${port}`, '--tls-ca', ca1()]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stderr, /stats: confirmed_events +100$/m);
    t.equal(got.length, 100);
    t.match(got[99]!, /^<14>1 - \S+ oqfwd - - - \{"kind":"result",.*"seq":"99"/);
    const bad = await oqfwd(['-o', `relp+tls://127.0.0.1:${port}`]);
    t.equal(bad.code, 5, 'and verified: an unknown CA is refused');
    t.match(bad.stderr, /certificate verification failed/);
  } finally {
    srv.close();
  }
});

t.test('a receiver that speaks only TLS 1.1 is refused: nothing sent, exit non-zero', { skip }, async (t) => {
  const { createServer, connect } = await import('node:tls');
  const received: Buffer[] = [];
  // SECLEVEL=0: the OpenSSL in Node 20 offers TLS 1.1 only below its default security level.
  const old = { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as const;
  const srv = createServer({ ...old, cert: readFileSync(join(dir, 'good.crt')), key: readFileSync(join(dir, 'good.key')) }, (s) => {
    s.on('data', (d: Buffer) => received.push(d));
    s.on('error', () => {});
  });
  srv.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  try {
    // First, that this receiver does speak TLS 1.1 to a client that allows it.
    const spoken = await new Promise<string | null>((resolve) => {
      const c = connect({ ...old, port, host: '127.0.0.1', ca: readFileSync(ca1()) }, () => {
        resolve(c.getProtocol());
        c.end();
      });
      c.on('error', () => resolve(null));
    });
    const cannot = spoken === 'TLSv1.1' ? false : `this OpenSSL does not speak TLS 1.1 at all (${spoken}): nothing to refuse`;
    await t.test('oqfwd to it', { skip: cannot }, async (t) => {
      const r = await oqfwd(['-o', `tls://127.0.0.1:${port}`, '--tls-ca', ca1()]);
      t.not(r.code, 0, `exit ${r.code}`);
      t.match(r.stderr, /protocol|version/i, 'the reason names the protocol version');
      t.equal(Buffer.concat(received).length, 0, 'no event sent');
    });
  } finally {
    srv.close();
  }
});
