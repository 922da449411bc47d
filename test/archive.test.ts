// gzip and zstd archives (osquery's own rotation writes .N.zst, logrotate .gz): told by
// their magic bytes, decoded as they are read, damage reported with what came before kept.
// The zstd archives are made by the zstd CLI, as osquery's are by libzstd (.ci/run installs it).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import t from 'tap';
import { ArchiveError, compressionOf, decompressed } from '../lib/input/archive.js';
import { fileInput, type InputItem } from '../lib/input/files.js';
import { spawnSync } from 'node:child_process';
import { CORPUS, cli, peakRss, scratch } from './helpers.js';

const dir = scratch('archive');
const hasZstd = spawnSync('zstd', ['--version']).status === 0;

/** `file` compressed by the zstd CLI at osquery's level (1). */
function zstd(file: string, out = file + '.zst'): string {
  const r = spawnSync('zstd', ['-q', '-f', '-1', file, '-o', out]);
  if (r.status !== 0) throw new Error(`zstd: ${r.stderr}`);
  return out;
}

/** A results log of `n` distinct lines, big enough to span many zstd blocks and gzip reads. */
function results(n: number): string {
  const path = join(dir, `results-${n}.log`);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({ name: `pack_q_${i % 7}`, hostIdentifier: 'h', calendarTime: 'Mon Nov 30 10:00:00 2026 UTC', unixTime: 1796032800 + i, epoch: 0, counter: i, numerics: false, columns: { pid: String(i * 7919), path: `/usr/bin/p${(i * 31) % 1000}`, note: 'é✓' }, action: 'added' }));
  }
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** A results log of `n` lines, and the same as zstd (by the CLI) and as gzip. */
function archives(n: number): { text: Buffer; forms: Array<readonly ['zstd' | 'gzip', Buffer]> } {
  const plain = results(n);
  const text = readFileSync(plain);
  return { text, forms: [['zstd', readFileSync(zstd(plain))], ['gzip', gzipSync(text)]] };
}

async function collect(gen: AsyncIterable<Buffer>): Promise<{ bytes: Buffer; error: unknown }> {
  const parts: Buffer[] = [];
  try {
    for await (const b of gen) parts.push(b);
    return { bytes: Buffer.concat(parts), error: null };
  } catch (error) {
    return { bytes: Buffer.concat(parts), error };
  }
}

async function* chunked(b: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

t.test('magic bytes, never names: a prefix of a magic number waits for more', async (t) => {
  t.equal(compressionOf(Buffer.from([0x1f, 0x8b, 8])), 'gzip');
  t.equal(compressionOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0])), 'zstd');
  t.equal(compressionOf(Buffer.from([0x28, 0xb5])), null);
  t.equal(compressionOf(Buffer.from([0x1f])), null);
  t.equal(compressionOf(Buffer.from('{"a"')), 'none');
  t.equal(compressionOf(Buffer.from([0x28, 0x41])), 'none', '"(A" is text');
  t.equal(compressionOf(Buffer.alloc(0)), null);
});

t.test('gzip and zstd, whole or byte by byte, concatenated members and frames', { skip: !hasZstd && 'the zstd CLI is not installed' }, async (t) => {
  const { text, forms } = archives(3000);
  for (const [name, bytes] of forms) {
    for (const size of [1, 7, 4096, bytes.length]) {
      if (size === 1 && name === 'gzip') continue; // zlib's stream per byte takes seconds; 7 covers the split magic
      const got = await collect(decompressed(chunked(bytes, size)));
      t.equal(got.error, null, `${name} by ${size}`);
      t.ok(got.bytes.equals(text), `${name} by ${size}: the same bytes`);
    }
    const twice = await collect(decompressed(chunked(Buffer.concat([bytes, bytes]), 65536)));
    t.ok(twice.bytes.equals(Buffer.concat([text, text])), `${name}: two archives end to end are both read`);
  }
});

t.test('damage: everything before it, then an ArchiveError naming the format', { skip: !hasZstd && 'the zstd CLI is not installed' }, async (t) => {
  const { text, forms } = archives(20000);
  for (const [name, bytes] of forms) {
    const cut = await collect(decompressed(chunked(bytes.subarray(0, Math.floor(bytes.length * 0.6)), 65536)));
    t.ok(cut.error instanceof ArchiveError, `${name} cut: ${String(cut.error)}`);
    t.match(String(cut.error), new RegExp(`truncated ${name} archive`));
    t.ok(cut.bytes.length > text.length * 0.3 && text.subarray(0, cut.bytes.length).equals(cut.bytes), `${name} cut: ${cut.bytes.length} bytes before the damage, exact`);
    // What a crash leaves: a block cut short, then zeros where the rest should be.
    const tail = Buffer.concat([bytes.subarray(0, Math.floor(bytes.length / 2)), Buffer.alloc(4096)]);
    const broken = await collect(decompressed(chunked(tail, 65536)));
    t.ok(broken.error instanceof ArchiveError, `${name} zero-filled: ${String(broken.error)}`);
    t.ok(broken.bytes.length > text.length * 0.3, `${name} zero-filled: ${broken.bytes.length} bytes before the damage`);
  }
});

t.test('a live pipe is not held back for a magic number it cannot start', async (t) => {
  const stdin = new PassThrough();
  const input = fileInput({ files: ['-'], stdin, onError: () => t.fail('no error') });
  const seen: string[] = [];
  const got = new Promise<void>((resolve) =>
    input.on('data', (i: InputItem) => {
      if (i.type === 'data') {
        seen.push(i.data.toString());
        resolve();
      }
    }),
  );
  stdin.write('{}\n'); // and nothing more for now
  await got;
  t.same(seen, ['{}\n']);
  input.stop();
});

t.test('oqfwd: .zst and .gz convert like the plain file; names do not decide', { skip: !hasZstd && 'the zstd CLI is not installed' }, async (t) => {
  const src = join(CORPUS, 'beats-filebeat-osquery-test.log');
  const plain = join(dir, 'osqueryd.results.log');
  writeFileSync(plain, readFileSync(src));
  const want = await cli(['--host', 'h', plain]);
  t.equal(want.code, 0, want.stderr);
  t.ok(want.stdout.length > 0);
  const gz = join(dir, 'osqueryd.results.log.3.gz');
  writeFileSync(gz, gzipSync(readFileSync(plain)));
  const zst = zstd(plain, join(dir, 'osqueryd.results.log.2.zst'));
  const misnamed = join(dir, 'plain-text.zst');
  writeFileSync(misnamed, readFileSync(plain));
  const hidden = join(dir, 'compressed.log');
  writeFileSync(hidden, readFileSync(zst));
  for (const f of [gz, zst, misnamed, hidden]) {
    const r = await cli(['--host', 'h', f]);
    t.equal(r.code, 0, `${f}: ${r.stderr}`);
    t.equal(r.stdout, want.stdout, `${f}: the same events`);
  }
  const viaStdin = await cli(['--host', 'h'], readFileSync(zst));
  t.equal(viaStdin.stdout, want.stdout, 'zstd on stdin too');
});

t.test('oqfwd: a truncated archive is reported by name, its lines before the damage kept, exit 1', { skip: !hasZstd && 'the zstd CLI is not installed' }, async (t) => {
  const plain = results(20000);
  const z = readFileSync(zstd(plain));
  const cut = join(dir, 'osqueryd.results.log.4.zst');
  writeFileSync(cut, z.subarray(0, Math.floor(z.length / 2)));
  const r = await cli(['--stats', cut]);
  t.equal(r.code, 1);
  t.match(r.stderr, `${cut}: truncated zstd archive`);
  const events = Number(/stats: events +(\d+)/.exec(r.stderr)?.[1]);
  t.ok(events > 5000 && events < 20000, `${events} events before the damage`);
  t.equal(r.stdout.split('\n').filter((l) => l.includes('"kind":"result"')).length, events - (r.stdout.includes('"kind":"unparsed"') ? 1 : 0), 'each a whole result, but for the line cut in two');
});

t.test('oqfwd: memory stays flat for an archive that expands 500-fold', { skip: !hasZstd && 'the zstd CLI is not installed' }, async (t) => {
  // 1.5 million identical lines, about 150 MB of text in well under 1 MB of zstd.
  const line = '{"name":"q","hostIdentifier":"h","unixTime":1,"epoch":0,"counter":0,"columns":{"a":"1"},"action":"added"}\n';
  const zst = join(dir, 'repetitive.zst');
  const r = spawnSync('sh', ['-c', `yes '${line.trimEnd()}' | head -n 1500000 | zstd -q -1 -o '${zst}'`]);
  t.equal(r.status, 0, String(r.stderr));
  const { code, lines, peakKiB: peak } = await peakRss([zst]);
  t.equal(code, 0);
  t.equal(lines, 1_500_000);
  // Measured: 155 MiB, and the same for four times as many lines (the decoder's garbage is
  // collected later than fs reads' are: 87 MiB for the same text uncompressed).
  t.ok(peak > 0 && peak / 1024 < 220, `peak RSS ${Math.round(peak / 1024)} MiB`);
});
