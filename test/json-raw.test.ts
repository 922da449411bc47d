import t from 'tap';
import { arrayElements, fromBinary, isSafe, makeSafe, objectMembers, quote, safe, skipValue, isConcatenated, toBinary, writeQuoted } from '../lib/json-raw.js';

t.test('objectMembers finds every top-level member with its raw value', async (t) => {
  const s = '{"a":1, "b" : {"c":[1,2,{"d":"}"}]}, "e\\"q":"x\\\\", "f":[] ,"g":null}';
  const ms = objectMembers(s, 0);
  t.same(ms.map((m) => m.key), ['a', 'b', 'e"q', 'f', 'g']);
  t.same(ms.map((m) => s.slice(m.valueStart, m.valueEnd)), ['1', '{"c":[1,2,{"d":"}"}]}', '"x\\\\"', '[]', 'null']);
  t.same(objectMembers('{}', 0), []);
  t.same(objectMembers('  { }', 2), []);
});

t.test('strings with escaped quotes and backslashes are skipped correctly', async (t) => {
  const s = '"a\\\\\\"b\\\\"rest';
  t.equal(skipValue(s, 0), s.indexOf('rest'));
  t.equal(skipValue('-12.5e3,', 0), 7);
  t.equal(skipValue('true', 0), 4);
});

t.test('arrayElements gives the offsets of each element', async (t) => {
  const s = '[{"a":"]"}, 2 ,"x"]';
  const e = arrayElements(s, 0);
  t.same([s.slice(e[0], e[1]), s.slice(e[2], e[3]), s.slice(e[4], e[5])], ['{"a":"]"}', '2', '"x"']);
  t.same(arrayElements('[ ]', 0), []);
});

t.test('deep nesting is handled without recursion', async (t) => {
  const depth = 100000;
  const s = '{"a":' + '['.repeat(depth) + ']'.repeat(depth) + ',"b":2}';
  const ms = objectMembers(s, 0);
  t.same(ms.map((m) => m.key), ['a', 'b']);
  t.equal(ms[1]!.valueStart, s.length - 2);
});

t.test('isConcatenated tells {}{} runs and refuses anything else', async (t) => {
  t.ok(isConcatenated('{"a":"}{"}{"b":1}  {"c":[]}'), 'braces inside strings do not cut an object');
  t.notOk(isConcatenated('{"a":1}'), 'a single object is not a run');
  t.notOk(isConcatenated('{"a":1}x'));
  t.notOk(isConcatenated('{"a":1}[1]'), 'objects only');
});

t.test('isSafe spots every character that must not leave raw, in UTF-8 bytes', async (t) => {
  t.ok(isSafe(toBinary('{"a":"é€😀 \u00c2 \u0100 \u2027 \u202a \\u0085 \\n"}')), 'neighbours of unsafe characters are safe');
  for (const c of ['\u0085', '\u0080', '\u2028', '\u2029', '\u007f', '\u009f', '\t', '\r']) t.notOk(isSafe(toBinary(`{"a":"${c}"}`)), 'U+' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  t.notOk(isSafe('{"a":"\\ud83d\\ude00"}'), 'surrogate escapes need a closer look');
});

t.test('safe makes binary JSON text safe and leaves safe text alone', async (t) => {
  const bin = toBinary('{"é":"x\u2028€"}\n');
  t.equal(fromBinary(safe(bin)), '{"é":"x\\u2028€"}\n');
  const fine = toBinary('{"é":"€"}');
  t.equal(safe(fine), fine);
});

t.test('makeSafe escapes C1, DEL and line separators inside strings', async (t) => {
  const out = makeSafe('{"a\u2028":"x\u0085y\u007f\u2029"}\n');
  t.equal(out, '{"a\\u2028":"x\\u0085y\\u007F\\u2029"}\n');
  t.same(JSON.parse(out), { 'a\u2028': 'x\u0085y\u007f\u2029' }, 'the value is unchanged');
});

t.test('makeSafe drops control whitespace between tokens, keeps record newlines', async (t) => {
  t.equal(makeSafe('{"a":\t1,\r"b":"\\t"}\n{"c":2}\n'), '{"a":1,"b":"\\t"}\n{"c":2}\n');
});

t.test('makeSafe replaces lone surrogate escapes and keeps pairs', async (t) => {
  t.equal(makeSafe('["\\ud800","\\uDC00x","\\ud83d\\ude00","\\\\ud800"]'), '["\\uFFFD","\\uFFFDx","\\ud83d\\ude00","\\\\ud800"]');
  t.equal(makeSafe('["\\ud83d\\u0041"]'), '["\\uFFFD\\u0041"]', 'a high surrogate before a non-surrogate');
});

t.test('quote gives a safe JSON string for any text', async (t) => {
  const nasty = 'a\u0000b\u0085c\u2028é"\\';
  const q = fromBinary(quote(toBinary(nasty)));
  t.notMatch(q, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
  t.equal(JSON.parse(q), nasty);
});

t.test('writeQuoted writes what quote gives, a long text a window at a time', async (t) => {
  const collect = (s: string): { text: string; pieces: number } => {
    const parts: string[] = [];
    writeQuoted({ write: (p) => void parts.push(p), keep: (b) => void parts.push(b.toString('latin1')) }, s);
    return { text: parts.join(''), pieces: parts.length };
  };
  // Every kind of character that needs escaping, some across the 64 KiB windows' edges.
  const bits = ['"', '\\', '\n', '\u0001', '\u007f', '\u0085', '\u2028', '\u2029', 'é', '😀', '\\ud800', 'x'];
  let long = '';
  for (let i = 0; long.length < 300_000; i++) long += bits[i % bits.length]!.repeat(1 + (i % 7)) + 'y'.repeat((i * 7919) % 5000);
  for (const s of ['', 'plain', toBinary('needs "quotes" and \u2028'), toBinary(long), toBinary('z'.repeat(100_000))]) {
    const got = collect(s);
    t.equal(got.text, quote(s), `${s.length} bytes: as quote gives it`);
  }
  t.ok(collect(toBinary(long)).pieces > 4, 'a long text that needs escaping goes in windows');
  t.equal(collect('z'.repeat(100_000)).pieces, 3, 'one that needs none goes as it is, between quotes');
});
