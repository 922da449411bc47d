// README, --help and the man page must say the same thing.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { program } from '../lib/cli.js';
import { EXIT } from '../lib/exit.js';
import { formatStats, newStats } from '../lib/stats.js';
import { VERSION } from '../lib/version.js';
import { cli, ROOT } from './helpers.js';

const man = readFileSync(ROOT + 'man/oqfwd.1', 'utf8');
const readme = readFileSync(ROOT + 'README.md', 'utf8');

function section(name: string): string {
  const start = man.indexOf(`.SH ${name}\n`);
  const end = man.indexOf('\n.SH ', start + 1);
  return man.slice(start, end === -1 ? undefined : end);
}

const cmd = program();
const options = cmd
  .createHelp()
  .visibleOptions(cmd)
  .map((o) => ({ long: o.long!, short: o.short }));

/** The option each `.TP` item of the man page's OPTIONS section is about. */
function manOptions(): string[] {
  const lines = section('OPTIONS').split('\n');
  const out: string[] = [];
  lines.forEach((l, i) => {
    if (l === '.TP') out.push(/--[a-z-]+/.exec(lines[i + 1]!.replace(/\\-/g, '-'))![0]);
  });
  return out;
}

t.test('every option of --help is in the man page and the README, and no other', async (t) => {
  t.same(manOptions().sort(), options.map((o) => o.long).sort(), 'man OPTIONS');
  const readmeOpts = [...readme.matchAll(/^\| (?:`-\w`, )?`(--[a-z-]+)/gm)].map((m) => m[1]);
  t.same(readmeOpts.sort(), options.map((o) => o.long).sort(), 'README options table');
  for (const o of options) {
    if (o.short) {
      t.match(section('OPTIONS'), o.short.replace(/-/g, '\\-'), `man: ${o.short}`);
      t.match(readme, '`' + o.short + '`', `README: ${o.short}`);
    }
  }
});

t.test('--help is generated from the same program', async (t) => {
  const r = await cli(['--help']);
  t.equal(r.code, 0);
  for (const o of options) t.match(r.stdout, o.long);
});

t.test('every exit status is in the man page and the README, and no other', async (t) => {
  const codes = Object.values(EXIT).map(String).sort();
  const manCodes = [...section('EXIT STATUS').matchAll(/^\.B (\d+)$/gm)].map((m) => m[1]!);
  t.same(manCodes.sort(), codes, 'man EXIT STATUS');
  const readmeCodes = [...readme.slice(readme.indexOf('## Exit status')).matchAll(/^\| (\d+) \|/gm)].map((m) => m[1]!);
  t.same(readmeCodes.sort(), codes, 'README exit status table');
});

t.test('every --stats name is documented', async (t) => {
  const names = formatStats(newStats())
    .trimEnd()
    .split('\n')
    .map((l) => /stats: (\S+)/.exec(l)![1]!);
  const doc = section('OPTIONS').replace(/\\f[BRI]/g, '').replace(/\\-/g, '-');
  for (const n of names) t.match(doc, n.replace(/_/g, '_'), n);
});

t.test('the man page is for this version and has every section', async (t) => {
  t.match(man, `"oqfwd ${VERSION}"`);
  for (const s of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'OUTPUT', 'EXIT STATUS', 'EXAMPLES', 'SEE ALSO']) t.match(man, `\n.SH ${s}\n`, s);
  const r = await cli(['--version']);
  t.equal(r.stdout, `${VERSION}\n`);
});

const groff = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', ROOT + 'man/oqfwd.1'], { encoding: 'utf8' });
t.test('the man page renders without warnings', { skip: groff.error ? 'groff is not installed here' : false }, async (t) => {
  t.equal(groff.status, 0);
  t.equal(groff.stderr, '', 'no groff warnings');
});

t.test('the README example prints what the README says', async (t) => {
  const m = /^\$ echo '(.*)' \| oqfwd --flatten\n([\s\S]*?)\n```/m.exec(readme);
  t.ok(m, 'the example is there');
  const r = await cli(['--flatten'], m![1]! + '\n');
  t.equal(r.stdout, m![2]! + '\n');
});

t.test("the README's map of the code names every module, and only modules that exist", async (t) => {
  const block = /## How it is built\n\n```\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const named = [...block.matchAll(/lib\/((?:[a-z-]+\/)?[a-z-]+)\.ts/g)].map((m) => m[1]!).sort();
  const modules = (readdirSync(ROOT + 'lib', { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
  t.same(named, modules);
});

t.test('--stats=json has the names and values of --stats, as one JSON object', async (t) => {
  const args = ['--tz', 'UTC', '--host', 'h', ROOT + 'samples/osqueryd.results.log', ROOT + 'samples/osqueryd.snapshots.log'];
  const text = await cli(['--stats', ...args]);
  const json = await cli(['--stats=json', ...args]);
  const pairs = [...text.stderr.matchAll(/^oqfwd: stats: (\S+) +(\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]);
  const lines = json.stderr.trimEnd().split('\n');
  t.equal(lines.length, 1, 'one line');
  t.same(Object.entries(JSON.parse(lines[0]!)), pairs, 'the same names, order and values');
  t.equal(json.stdout, text.stdout);
});

t.test("the README's --pretty example prints what the README shows", async (t) => {
  const m = /^\$ oqfwd (--pretty [^\n]*)\n([\s\S]*?)\n```/m.exec(readme);
  t.ok(m, 'the example is there');
  const r = await cli(m![1]!.split(' '));
  t.equal(r.code, 0);
  t.equal(r.stdout, m![2]! + '\n');
});

t.test('--help shows the options in groups: input, shaping, output, delivery, diagnostics', async (t) => {
  const r = await cli(['--help']);
  const headings = [...r.stdout.matchAll(/^([A-Z][^\n]*):$/gm)].map((m) => m[1]);
  t.same(headings, ['Usage: oqfwd [options] [FILE...]', 'Arguments', 'Input', 'Selection and shaping', 'Output', 'Delivery (-o tcp, tls, relp)', 'Diagnostics'].filter((h) => !h.startsWith('Usage')));
});

t.test('SECURITY.md: every test it cites exists, by file and title', async (t) => {
  const security = readFileSync(ROOT + 'SECURITY.md', 'utf8').replace(/\s*\n\s*/g, ' ');
  const files = new Set(readdirSync(ROOT + 'test'));
  let titles = 0;
  // `name.test.ts` ("a title…", "another…"): each quoted title is the start of a test's title there.
  for (const m of security.matchAll(/`([\w-]+\.test\.ts)`(?: \(([^)]*(?:\([^)]*\)[^)]*)*)\))?/g)) {
    const [, file, inside] = m;
    t.ok(files.has(file!), `${file} exists`);
    if (!files.has(file!) || inside === undefined) continue;
    const source = readFileSync(`${ROOT}test/${file}`, 'utf8');
    for (const q of inside.matchAll(/"([^"]+)"/g)) {
      // An ellipsis stands for what is left out (or a template's value): each part must be there.
      const parts = q[1]!.split('…').map((p) => p.trim()).filter((p) => p !== '');
      titles++;
      t.ok(parts.every((p) => source.includes(p)), `${file} has a test "${q[1]}"`);
    }
  }
  t.ok(titles >= 15, `${titles} titles checked`);
});
