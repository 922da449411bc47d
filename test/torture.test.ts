// Torture: any chunking, split UTF-8, CRLF, no final newline, huge lines.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { CORPUS, cli, convert, parseLines, rng, ROOT } from './helpers.js';
import { LINES } from './fixtures.js';

const mixed = Buffer.from(
  [
    ...Object.values(LINES),
    '{"name":"ünï€ødé 😀","columns":{"path":"C:\\\\Windows\\\\System32\\\\smss.exe","note":"日本語"},"action":"added"}',
    'junk ✓ line',
    '',
  ].join('\r\n') + readFileSync(CORPUS + 'beats-filebeat-osquery-darwin.excerpt.log', 'utf8') + '{"name":"last","columns":{},"action":"added"}',
);


t.test('byte-at-a-time input gives the same output as one chunk', async (t) => {
  const whole = convert(mixed);
  const bytes = convert([...mixed].map((b) => Buffer.from([b])));
  t.equal(bytes.out, whole.out);
  t.same(bytes.stats, whole.stats);
  t.equal(whole.events.at(-1)!.name, 'last', 'the last line without newline is converted');
  t.equal(whole.stats.linesUnparsed, 1);
});

t.test('random chunkings give the same output', async (t) => {
  const whole = convert(mixed).out;
  const next = rng(42);
  for (let round = 0; round < 50; round++) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < mixed.length; ) {
      const n = 1 + Math.floor(next() * 200);
      chunks.push(mixed.subarray(i, i + n));
      i += n;
    }
    if (convert(chunks).out !== whole) {
      t.fail(`round ${round} differs`);
      return;
    }
  }
  t.pass('50 random chunkings agree');
});

t.test('a snapshot line of many megabytes through the binary, flattened', async (t) => {
  const rows = 200000;
  const row = (i: number): string => `{"name":"package-${i}","version":"1.${i}.0-ubuntu","arch":"amd64","source":"ünï"}`;
  const parts: string[] = [];
  for (let i = 0; i < rows; i++) parts.push(row(i));
  const line = `{"snapshot":[${parts.join(',')}],"action":"snapshot","name":"deb_packages","hostIdentifier":"h","calendarTime":"c","unixTime":1,"epoch":0,"counter":0,"numerics":false}\n`;
  t.ok(line.length > 15e6, `${(line.length / 1e6).toFixed(1)} MB line`);
  const r = await cli(['--flatten', '--stats'], line);
  t.equal(r.code, 0);
  const evs = r.stdout.trimEnd().split('\n');
  t.equal(evs.length, rows);
  const last = JSON.parse(evs.at(-1)!) as Record<string, unknown>;
  t.same([last.rowIndex, last.rowCount, (last.columns as { name: string }).name], [rows - 1, rows, `package-${rows - 1}`]);
  t.match(r.stderr, /events_rows +200000$/m);
});

t.test('a line of many megabytes over --max-line is skipped with bounded memory', async (t) => {
  const huge = '{"snapshot":["' + 'x'.repeat(40e6) + '"]}\n';
  const r = await cli(['--max-line', '1M', '--stats'], huge + LINES.event + '\n');
  t.equal(r.code, 0);
  t.equal(parseLines(r.stdout).length, 1);
  t.match(r.stderr, /<stdin>:1: line of 40000017 bytes longer than --max-line 1048576, skipped/);
  t.match(r.stderr, /lines_skipped +1$/m);
});

t.test('CRLF files convert like LF files', async (t) => {
  const lf = readFileSync(ROOT + 'samples/osqueryd.results.log', 'utf8');
  t.equal(convert(lf.replace(/\n/g, '\r\n')).out, convert(lf).out);
});

t.test('nothing from the input reaches the terminal raw: file names and quoted input are escaped on stderr', async (t) => {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { cli, scratch } = await import('./helpers.js');
  const dir = scratch('escape');
  // A name that sets the terminal title and forges a second report line; lines whose
  // invalid JSON JSON.parse quotes back: ESC, C1 CSI (U+009B), a bidi override.
  const name = join(dir, 'n\u001b]0;pwned\u0007\nx.log: fake report');
  writeFileSync(name, '{"a":"\u001b[2J\u009b31m\u202e" oops\nnot osquery \u001b[5m\n');
  const r = await cli(['--unparsed', 'drop', name]);
  t.equal(r.code, 0);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 2, 'one report per problem: the newline in the name forged nothing');
  t.notMatch(r.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/, 'no control character or bidi override');
  t.match(lines[0], /n\\x1b\]0;pwned\\x07\\x0ax\.log: fake report:1: invalid JSON/, 'the name, escaped');
  const bad = await cli([`--unparsed=\u001b[31m`]);
  t.equal(bad.code, 2);
  t.notMatch(bad.stderr, /\u001b/, 'a usage error quoting argv is escaped too');
});

t.test('a line of three million glued objects: converted a piece at a time, memory flat', async (t) => {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { peakRss, scratch } = await import('./helpers.js');
  const path = join(scratch('glued'), 'glued.log');
  writeFileSync(path, '{}'.repeat(3_000_000) + '\n');
  const r = await peakRss(['-q', path]);
  t.equal(r.code, 0);
  t.equal(r.lines, 3_000_000, 'one unparsed event per object');
  // Before, every event of the line was held at once: 1 GB for this 6 MB line.
  t.ok(r.peakKiB < 200 * 1024, `peak RSS ${Math.round(r.peakKiB / 1024)} MiB, under 200`);
});

t.test('a 31 MiB snapshot line with one character to escape is escaped on the way out, not copied', async (t) => {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { peakRss, scratch } = await import('./helpers.js');
  const row = JSON.stringify({ path: '/usr/lib/x/' + 'a'.repeat(200), name: 'é✓ thing', size: '12345' });
  const rows = Math.floor((31 * 1024 * 1024) / (row.length + 1));
  const body = Array.from({ length: rows }, () => row).join(',').replace('é✓', 'é\u007f');
  const path = join(scratch('escape-long'), 'snap.log');
  writeFileSync(path, `{"name":"pack_x","hostIdentifier":"h","calendarTime":"x","unixTime":1,"epoch":0,"counter":0,"numerics":false,"snapshot":[${body}],"action":"snapshot"}\n`);
  const r = await peakRss([path]);
  t.equal(r.code, 0);
  t.equal(r.lines, 1);
  // Decoded, escaped and encoded again, it peaked at 436 MiB; in one copy, 299 MiB; escaped
  // on the way out from the pieces it was read in, 91 MiB.
  t.ok(r.peakKiB < (64 + 62) * 1024, `peak RSS ${Math.round(r.peakKiB / 1024)} MiB, under twice the line + 64 MiB`);
});

t.test('a file name that is not UTF-8: said how to read it (Node gives argv as UTF-8), and read on stdin it converts', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const { writeFileSync } = await import('node:fs');
  const { BIN, scratch } = await import('./helpers.js');
  const dir = scratch('latin1-name');
  const raw = Buffer.concat([Buffer.from(dir + '/r'), Buffer.from([0xe9]), Buffer.from('sults.log')]); // "résults" in Latin-1
  writeFileSync(raw, '{"name":"q","hostIdentifier":"h","unixTime":1,"epoch":0,"counter":0,"columns":{"a":"1"},"action":"added"}\n');
  // Through sh: a child's argv from Node is a string, and so UTF-8; printf makes the raw byte.
  const run = (redirect: string): { code: number | null; out: string; err: string } => {
    const r = spawnSync('sh', ['-c', `exec "$0" "$1" ${redirect}`, process.execPath, BIN, `${dir}/r`], { encoding: 'utf8' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const byName = run('"$2$(printf \'\\351\')sults.log"');
  t.equal(byName.code, 1);
  t.match(byName.err, /r\uFFFDsults\.log: No such file or directory \(if the name is not valid UTF-8: .*oqfwd < FILE\)\n$/);
  const onStdin = run('< "$2$(printf \'\\351\')sults.log"');
  t.equal(onStdin.code, 0, onStdin.err);
  t.match(onStdin.out, /^\{"kind":"result","name":"q"/);
});
