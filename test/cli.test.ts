import t from 'tap';
import { DEFAULT_MAX_LINE, parseArgs } from '../lib/cli.js';
import { parseSize } from '../lib/size.js';

function parse(args: string[]) {
  let out = '';
  let err = '';
  const r = parseArgs(args, (s) => (out += s), (s) => (err += s));
  return { r, out, err };
}

t.test('defaults', async (t) => {
  const { r } = parse([]);
  t.equal(r.kind, 'run');
  if (r.kind !== 'run') return;
  t.match(r.options, { files: ['-'], flatten: false, unparsed: 'forward', maxLine: DEFAULT_MAX_LINE, quiet: false, stats: false });
  t.type(r.options.host, 'string');
  t.equal(r.options.zone.name, 'local');
});

t.test('every option parsed', async (t) => {
  const { r } = parse(['-f', '--unparsed', 'drop', '--max-line', '2M', '--tz', '+02:00', '--host', 'h1', '-q', '--stats', 'a.log', '-', 'b.log']);
  if (r.kind !== 'run') return t.fail('not a run');
  t.match(r.options, { files: ['a.log', '-', 'b.log'], flatten: true, unparsed: 'drop', maxLine: 2 * 1024 * 1024, quiet: true, stats: true, host: 'h1' });
  t.equal(r.options.zone.toUtc(Date.UTC(2026, 0, 1, 12)), Date.UTC(2026, 0, 1, 10));
});

t.test('usage errors exit 2 with one clear line and a hint', async (t) => {
  for (const args of [['--nope'], ['--unparsed', 'x'], ['--max-line', '0'], ['--tz', 'Nowhere/Land']]) {
    const { r, err } = parse(args);
    t.same(r, { kind: 'exit', code: 2 }, args.join(' '));
    t.match(err, /^oqfwd: .+\n\(run 'oqfwd --help' for usage\)\n$/, args.join(' '));
  }
  t.match(parse(['--tz', 'Nowhere/Land']).err, /unknown time zone: Nowhere\/Land/);
});

t.test('--stats=json and --stats=text; a bare --stats never takes the next argument', async (t) => {
  const json = parse(['--stats=json', 'a.log']);
  t.match(json.r, { kind: 'run', options: { stats: true, statsFormat: 'json', files: ['a.log'] } });
  t.match(parse(['--stats', 'json']).r, { kind: 'run', options: { stats: true, statsFormat: 'text', files: ['json'] } }, 'a file named json');
  t.match(parse(['--stats=text']).r, { kind: 'run', options: { statsFormat: 'text' } });
  t.match(parse(['--', '--stats=json']).r, { kind: 'run', options: { stats: false, files: ['--stats=json'] } }, 'after --, a file');
  const bad = parse(['--stats=xml']);
  t.same(bad.r, { kind: 'exit', code: 2 });
  t.equal(bad.err, "oqfwd: option '--stats[=FORMAT]': FORMAT is text or json\n(run 'oqfwd --help' for usage)\n");
});

t.test('--help and --version print on stdout and exit 0', async (t) => {
  const h = parse(['--help']);
  t.same(h.r, { kind: 'exit', code: 0 });
  t.match(h.out, /^Usage: oqfwd \[options\] \[FILE\.\.\.\]/);
  const v = parse(['--version']);
  t.same(v.r, { kind: 'exit', code: 0 });
  t.match(v.out, /^\d+\.\d+\.\d+\n$/);
});

t.test('sizes', async (t) => {
  t.equal(parseSize('65536'), 65536);
  t.equal(parseSize('64K'), 65536);
  t.equal(parseSize('64k'), 65536);
  t.equal(parseSize('64M'), 64 * 1024 * 1024);
  t.equal(parseSize('1G'), 1024 ** 3);
  t.equal(parseSize('2MiB'), 2 * 1024 * 1024);
  t.ok(Number.isNaN(parseSize('lots')));
  t.ok(Number.isNaN(parseSize('-1')));
});

t.test('--max-line refuses what a Node string cannot hold, naming the limit', async (t) => {
  const { r, err } = parse(['--max-line', '600M']);
  t.same(r, { kind: 'exit', code: 2 });
  t.match(err, /--max-line.*at most 536870888 bytes \(511M\)/);
  const ok = parse(['--max-line', '511M']);
  t.equal(ok.r.kind, 'run', 'the limit itself is taken');
});
