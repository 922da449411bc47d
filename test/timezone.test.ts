import t from 'tap';
import { parseZone } from '../lib/timezone.js';

const wall = (y: number, mo: number, d: number, h: number, mi = 0, s = 0): number => Date.UTC(y, mo - 1, d, h, mi, s);
const iso = (ms: number): string => new Date(ms).toISOString();

t.test('fixed offsets and UTC', async (t) => {
  t.equal(iso(parseZone('UTC').toUtc(wall(2026, 1, 1, 12))), '2026-01-01T12:00:00.000Z');
  t.equal(iso(parseZone('+01:00').toUtc(wall(2026, 1, 1, 12))), '2026-01-01T11:00:00.000Z');
  t.equal(iso(parseZone('-0530').toUtc(wall(2026, 1, 1, 12))), '2026-01-01T17:30:00.000Z');
  t.throws(() => parseZone('+25:00'), /out of range/);
  t.throws(() => parseZone('Mars/Olympus_Mons'), /unknown time zone: Mars\/Olympus_Mons/);
});

t.test('an IANA zone with DST: summer, winter, the gap and the overlap', async (t) => {
  const z = parseZone('Europe/Berlin');
  t.equal(iso(z.toUtc(wall(2026, 1, 15, 12))), '2026-01-15T11:00:00.000Z', 'CET');
  t.equal(iso(z.toUtc(wall(2026, 7, 15, 12))), '2026-07-15T10:00:00.000Z', 'CEST');
  // 2026-03-29 02:00 -> 03:00: 02:30 does not exist; read with the offset before (+1).
  t.equal(iso(z.toUtc(wall(2026, 3, 29, 2, 30))), '2026-03-29T01:30:00.000Z', 'gap');
  t.equal(iso(z.toUtc(wall(2026, 3, 29, 1, 59))), '2026-03-29T00:59:00.000Z', 'just before the gap');
  t.equal(iso(z.toUtc(wall(2026, 3, 29, 3, 0))), '2026-03-29T01:00:00.000Z', 'just after the gap');
  // 2026-10-25 03:00 -> 02:00: 02:30 happens twice; the earlier instant is taken.
  t.equal(iso(z.toUtc(wall(2026, 10, 25, 2, 30))), '2026-10-25T00:30:00.000Z', 'overlap');
  t.equal(iso(z.toUtc(wall(2026, 10, 25, 3, 30))), '2026-10-25T02:30:00.000Z', 'after the overlap');
  t.equal(iso(z.toUtc(wall(2026, 3, 29, 0, 10))), '2026-03-28T23:10:00.000Z', 'a transition day before its transition');
  t.equal(iso(z.toUtc(wall(2026, 3, 29, 23, 50))), '2026-03-29T21:50:00.000Z', 'and late on that day');
  t.equal(iso(z.toUtc(wall(2026, 3, 28, 23, 59, 59))), '2026-03-28T22:59:59.000Z', 'the day before, to its last second');
  const ny = parseZone('America/New_York');
  t.equal(iso(ny.toUtc(wall(2026, 11, 25, 9, 11))), '2026-11-25T14:11:00.000Z');
});

t.test('every quarter hour across a transition maps back to its wall time or is in the gap', async (t) => {
  const z = parseZone('America/New_York');
  const fmt = new Intl.DateTimeFormat('en-GB', { timeZone: 'America/New_York', hourCycle: 'h23', hour: '2-digit', minute: '2-digit' });
  let gaps = 0;
  for (let m = 0; m < 6 * 60; m += 15) {
    const w = wall(2026, 3, 8, 0, m);
    const back = fmt.format(z.toUtc(w));
    const want = `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
    if (back !== want) gaps++;
  }
  t.equal(gaps, 4, 'only the four quarter hours of 02:xx, which do not exist, move');
});
