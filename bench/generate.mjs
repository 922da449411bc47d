#!/usr/bin/env node
// Seeded generator of realistic osquery logs for the benchmark. Same seed, same bytes.
//   node bench/generate.mjs KIND MEGABYTES SEED > file
// KIND: results | snapshots | status | mixed. Prints a summary on stderr as JSON:
// {"lines":N,"rows":N} (rows: the row events --flatten makes).

const [kind = 'results', mbArg = '100', seedArg = '1'] = process.argv.slice(2);
const target = Number(mbArg) * 1e6;
let seed = Number(seedArg) >>> 0;

/** mulberry32: small, fast, good enough for test data. */
function rnd() {
  seed = (seed + 0x6d2b79f5) | 0;
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(rnd() * n);
const pick = (a) => a[int(a.length)];

const QUERIES = [
  'pack_incident-response_listening_ports', 'pack_incident-response_process_memory', 'pack_it-compliance_mounts',
  'pack_osquery-monitoring_schedule', 'pack_vuln-management_deb_packages', 'file_events', 'process_events',
  'pack_windows-hardening_services', 'pack_windows-attacks_scheduled_tasks', 'socket_events', 'users', 'crontab',
];
const COLUMNS = [
  'pid', 'name', 'path', 'cmdline', 'cwd', 'uid', 'gid', 'euid', 'parent', 'state', 'on_disk', 'resident_size',
  'user_time', 'system_time', 'start_time', 'port', 'address', 'protocol', 'family', 'fd', 'socket', 'md5', 'sha256',
  'size', 'mtime', 'atime', 'inode', 'mode', 'version', 'arch', 'source', 'description', 'display_name', 'status',
];
const WORDS = ['osqueryd', 'sshd', 'nginx', 'postgres', 'svchost.exe', 'explorer.exe', 'kworker/0:1', 'systemd', 'chrome', 'python3', 'java', 'containerd', 'dockerd', 'kubelet'];
// Some text is not ASCII (user names, documents, package descriptions): about 3% of words.
const FOREIGN = ['Größe', 'bücher', '日本語のテキスト', 'résumé', 'naïve', '😀', 'Ελληνικά', 'Проверка'];
const word = () => (rnd() < 0.03 ? pick(FOREIGN) : pick(WORDS));

function value(col) {
  switch (col) {
    case 'path':
    case 'cwd':
      return rnd() < 0.4
        ? `C:\\Windows\\System32\\${word()}\\${pick(['drivers', 'config', 'wbem'])}\\${word()}.dll`
        : `/usr/${pick(['bin', 'lib', 'sbin', 'share'])}/${word()}/${int(1000)}`;
    case 'cmdline':
      return `${word()} --config /etc/${word()}.conf -v ${int(100)} "${word()} ${word()}"`;
    case 'md5':
      return int(2 ** 32).toString(16).padStart(8, '0').repeat(4);
    case 'sha256':
      return int(2 ** 32).toString(16).padStart(8, '0').repeat(8);
    case 'name':
    case 'description':
    case 'display_name':
    case 'source':
      return `${word()} ${word()}`;
    case 'address':
      return `${int(256)}.${int(256)}.${int(256)}.${int(256)}`;
    case 'inode':
      return rnd() < 0.05 ? '18446744073709551615' : String(int(2 ** 31));
    default:
      return String(int(rnd() < 0.5 ? 100 : 2 ** 31));
  }
}

function row(ncols) {
  const cols = [...COLUMNS].sort(() => rnd() - 0.5).slice(0, ncols).sort();
  const o = {};
  for (const c of cols) o[c] = value(c);
  return o;
}

const HOST = `web-${String(int(100)).padStart(2, '0')}.example.net`;
const decorations = { host_uuid: '6F1D1C7A-1B0B-4A7E-9C56-0D2E5C9B1A10', username: 'deploy', hostname: HOST };
let unix = 1795597900;
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function calendar(t) {
  const d = new Date(t * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()} UTC`;
}

function envelope(name) {
  unix += int(3);
  return { name, hostIdentifier: HOST, calendarTime: calendar(unix), unixTime: unix, epoch: 0, counter: int(500), numerics: false, decorations };
}

let lines = 0;
let rows = 0;

function resultLine() {
  const r = rnd();
  if (r < 0.05) {
    // batch
    const removed = Array.from({ length: int(4) }, () => row(3 + int(6)));
    const added = Array.from({ length: 1 + int(6) }, () => row(3 + int(6)));
    rows += removed.length + added.length;
    const { name, ...rest } = envelope(pick(QUERIES));
    return JSON.stringify({ diffResults: { removed, added }, name, ...rest });
  }
  rows++;
  const e = { ...envelope(pick(QUERIES)), columns: row(3 + int(18)), action: rnd() < 0.2 ? 'removed' : 'added' };
  if (r < 0.07) {
    // osquery <= 3.1: every scalar a string, "/" escaped, no numerics key
    delete e.numerics;
    for (const k of ['unixTime', 'epoch', 'counter']) e[k] = String(e[k]);
    return JSON.stringify(e).replace(/\//g, '\\/');
  }
  return JSON.stringify(e);
}

function snapshotLine() {
  const n = rnd() < 0.05 ? 0 : 1 + int(rnd() < 0.8 ? 50 : 500);
  rows += n;
  const ncols = 3 + int(10);
  const snapshot = Array.from({ length: n }, () => row(ncols));
  return JSON.stringify({ snapshot, action: 'snapshot', ...envelope(pick(QUERIES)), counter: 0 });
}

const FILES = ['init.cpp', 'scheduler.cpp', 'events.cpp', 'tables.cpp', 'extensions.cpp', 'watcher.cpp', 'distributed.cpp', 'config.cpp'];
const MESSAGES = [
  'osquery initialized [version=5.14.1]',
  'Scheduled query may have failed: pack_incident-response_last',
  'Executing scheduled query pack_it-compliance_mounts: SELECT * FROM mounts',
  'Event publisher not enabled: auditeventpublisher: Publisher disabled via configuration',
  'Error executing query: no such table: curl_certificate',
  'osqueryd worker (1190) stopping: memory limits exceeded: 201326592',
  'Found results for query: pack_vuln-management_deb_packages',
  'Refreshing configuration state',
];
let glogT = Date.UTC(2026, 10, 24, 23, 15, 2) * 1000;
function glogHeader() {
  lines += 4;
  return 'Log file created at: 2026/11/24 23:15:02\nRunning on machine: ' + HOST + '\nRunning duration (h:mm:ss): 0:00:00\nLog line format: [IWEF]yyyymmdd hh:mm:ss.uuuuuu threadid file:line] msg\n';
}
function glogLine() {
  glogT += int(2_000_000);
  const d = new Date(Math.floor(glogT / 1000));
  const p = (n, w = 2) => String(n).padStart(w, '0');
  const sev = rnd() < 0.85 ? 'I' : rnd() < 0.7 ? 'W' : 'E';
  let line = `${sev}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(glogT % 1e6, 6)} ${String(1184 + int(40)).padStart(5, ' ')} ${pick(FILES)}:${1 + int(900)}] ${pick(MESSAGES)}`;
  if (rnd() < 0.02) {
    line += '\nFROM processes\nWHERE on_disk = 0;';
    lines += 2;
  }
  rows++;
  return line;
}

let size = 0;
let pending = '';
function emit(s) {
  pending += s + '\n';
  if (pending.length > 1 << 20) flush();
}
function flush() {
  size += Buffer.byteLength(pending);
  process.stdout.write(pending);
  pending = '';
}
if (kind === 'status') emit(glogHeader().trimEnd());
while (size + pending.length < target) {
  lines++;
  switch (kind) {
    case 'results':
      emit(resultLine());
      break;
    case 'snapshots':
      emit(snapshotLine());
      break;
    case 'status':
      emit(glogLine());
      break;
    case 'mixed': {
      const r = rnd();
      if (r < 0.6) emit(resultLine());
      else if (r < 0.7) emit(snapshotLine());
      else if (r < 0.9) emit(glogLine());
      else {
        rows++;
        emit(`severity=${int(3)} location=${pick(FILES)}:${int(900)} message=${pick(MESSAGES)}`);
      }
      break;
    }
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}
flush();
process.stderr.write(JSON.stringify({ lines, rows }) + '\n');
