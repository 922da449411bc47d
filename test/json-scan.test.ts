// The scanner must accept exactly what JSON.parse accepts: checked on hand-picked cases
// and on thousands of seeded mutations of real lines.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { toBinary } from '../lib/json-raw.js';
import { scanObjectLine, scanValue } from '../lib/json-scan.js';
import { CORPUS } from './helpers.js';
import { LINES } from './fixtures.js';

function parses(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

/** What the scanner says of a line: a JSON object, or not. */
function scans(s: string): boolean {
  const b = toBinary(s);
  const start = b.length - b.replace(/^[ \t\r\n]+/, '').length;
  return scanObjectLine(b, start) !== null;
}

/** What the scanner says of a text: one JSON value, white space around it allowed, or not. */
function scansValue(s: string): boolean {
  const b = toBinary(s);
  const start = b.length - b.replace(/^[ \t\r\n]+/, '').length;
  const end = scanValue(b, start);
  return end !== -1 && /^[ \t\r\n]*$/.test(b.slice(end));
}

function isObjectLine(s: string): boolean {
  return parses(s) && /^\s*\{/.test(s);
}

const cases = [
  '{}', ' { } ', '{"a":1}', '{"a":-0.5e+10,"b":[1,2,[3,{}]],"c":{"d":null,"e":true,"f":false}}',
  '{"a":"\\u00e9\\n\\t\\"\\\\\\/"}', '{"a\\"b":"c"}', '{"a":[]}', '{"a":{}}', '{"a":"x"}  ',
  '{"a":1,}', '{"a":01}', '{"a":1.}', '{"a":.5}', '{"a":-}', '{"a":1e}', '{"a":1e+}', '{"a":+1}',
  '{"a":"\\x"}', '{"a":"\\u12"}', '{"a":"\\u12g4"}', '{"a" 1}', '{a:1}', "{'a':1}", '{"a":1}}', '{"a":[1,]}',
  '{"a":[,1]}', '{"a":tru}', '{"a":nul}', '{"a":1}x', '{"a":1} {"b":2}', '{"a":[1 2]}', '{"a":{"b"}}',
  '{"a":"unterminated', '{"a":1', '{"a":[', '{', '{"":""}', '{"a":"é€😀"}', '{"a":1}\t', '{"a":NaN}',
  '{"a":Infinity}', '{"a":-01}', '{"a":1E5}', '{"a":0e0}', '{"a":"\\uD83D\\uDE00"}', '{"a":[[[[[]]]]]}',
  '{"a":[{"b":[{"c":"d"}]}],"e":"\\\\"}', '{"a":\t1,\r\n"b":2}', '{"a":"x\ty"}', '{"a":"\u0001"}', '{"\u001f":1}',
  '{"a":"b",\u000b"c":1}', '{"a":"ok"}\t', '{"a":"\u007f\u0085\u2028"}', '{"a":"b\\\\"}', '{"a":"b\\\\\\"c"}', '{"a":true,"b":false,"c":null}',
];

t.test('agrees with JSON.parse on hand-picked cases', async (t) => {
  // Named in ASCII: a raw control character or U+2028 in a name would break the TAP stream.
  const ascii = (c: string): string => JSON.stringify(c).replace(/[^\x20-\x7e]/g, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));
  for (const c of cases) t.equal(scans(c), isObjectLine(c), ascii(c));
});

t.test('finds the top-level members', async (t) => {
  const s = '{"a":1, "b" : {"c":[1,2,{"d":"}"}]}, "e\\"q":"x\\\\" }';
  const ms = scanObjectLine(s, 0)!;
  t.same(ms.map((m) => m.key), ['a', 'b', 'e"q']);
  t.same(ms.map((m) => s.slice(m.valueStart, m.valueEnd)), ['1', '{"c":[1,2,{"d":"}"}]}', '"x\\\\"']);
});

t.test('deep nesting costs no stack', async (t) => {
  const d = 200000;
  t.equal(scanValue('['.repeat(d) + ']'.repeat(d), 0), 2 * d);
  t.equal(scanValue('['.repeat(d) + ']'.repeat(d - 1), 0), -1);
});

t.test('agrees with JSON.parse on thousands of mutated real lines', async (t) => {
  const real = [
    ...Object.values(LINES),
    ...readFileSync(CORPUS + 'beats-filebeat-osquery-darwin.excerpt.log', 'utf8').split('\n').filter(Boolean),
    '{"a":[1,-2.5e-3,true,false,null,{"b":"\\u0041\\\\\\""}],"c":""}',
  ];
  // Raw controls too: white space between tokens, an error inside a string.
  const alphabet = '{}[]":,\\ -+.0123456789eEtrufalsn/bu"\t\r\n\u0001\u001f';
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  let disagreements = 0;
  let accepted = 0;
  let withControls = 0;
  const N = 20000;
  for (let k = 0; k < N; k++) {
    let s = real[rnd(real.length)]!;
    for (let m = 1 + rnd(3); m > 0; m--) {
      const at = rnd(s.length + 1);
      switch (rnd(3)) {
        case 0:
          s = s.slice(0, at) + s.slice(at + 1); // delete
          break;
        case 1:
          s = s.slice(0, at) + alphabet[rnd(alphabet.length)] + s.slice(at); // insert
          break;
        default:
          s = s.slice(0, at) + alphabet[rnd(alphabet.length)] + s.slice(at + 1); // replace
      }
    }
    const want = isObjectLine(s);
    if (want) accepted++;
    if (/[\u0000-\u001f]/.test(s)) withControls++;
    if (scans(s) !== want || scansValue(s) !== parses(s)) {
      disagreements++;
      if (disagreements <= 5) t.fail(`disagrees on ${JSON.stringify(s)}: JSON.parse says ${want}`);
    }
  }
  t.equal(disagreements, 0, `${N} mutations, ${accepted} still valid`);
  t.ok(accepted > N / 20, 'enough mutations stay valid to test acceptance too');
  t.ok(withControls > N / 20, `${withControls} of them hold a raw control character`);
});
