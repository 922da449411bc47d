/**
 * Local wall-clock time → UTC, for the time stamps of glog lines, which carry neither a
 * year nor a zone. A zone is an IANA name (`Europe/Berlin`), a fixed offset (`+01:00`,
 * `-0530`, `UTC`, `Z`), or the zone oqfwd runs in.
 */
export interface Zone {
  /** The zone as the user gave it, for messages. */
  readonly name: string;
  /**
   * Milliseconds since the epoch of a wall-clock time given as if it were UTC
   * (`Date.UTC(y, m, d, h, mi, s)`). In a DST gap the time is read with the offset in
   * force before the gap; in an overlap, the earlier of the two instants is taken.
   */
  toUtc(wallMs: number): number;
}

const OFFSET = /^([+-])(\d\d):?(\d\d)$/;

/** Parses `--tz`; throws a RangeError with a one-line message when it is no zone. */
export function parseZone(spec: string | undefined): Zone {
  if (spec === undefined || spec === '') return localZone();
  if (spec === 'Z' || spec === 'UTC' || spec === 'utc') return fixedZone(spec, 0);
  const m = OFFSET.exec(spec);
  if (m !== null) {
    const minutes = Number(m[2]) * 60 + Number(m[3]);
    if (minutes > 18 * 60) throw new RangeError(`time zone offset out of range: ${spec}`);
    return fixedZone(spec, (m[1] === '-' ? -1 : 1) * minutes * 60000);
  }
  return ianaZone(spec);
}

function fixedZone(name: string, offsetMs: number): Zone {
  return { name, toUtc: (wall) => wall - offsetMs };
}

/** The process's own zone: the Date constructor already knows its rules. */
function localZone(): Zone {
  // A gap moves forward by the Date constructor's rule, which is the offset before the gap;
  // in an overlap it takes the earlier instant: the same choices as for IANA zones.
  const resolve = (wall: number): number => {
    const d = new Date(wall);
    return new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()).getTime();
  };
  return cachedZone('local', resolve);
}

/**
 * A zone from its `resolve` (wall time → instant), with offsets cached per day of wall time,
 * or per quarter hour on a day with a transition: they change a few times a year, and
 * resolving costs microseconds.
 */
function cachedZone(name: string, resolve: (wall: number) => number): Zone {
  const DAY = 86400000;
  const QUARTER = 15 * 60000;
  const MIXED = 1; // no offset is an odd number of milliseconds: a day with a transition
  const days = new Map<number, number>();
  const quarters = new Map<number, number>();
  /** The offset over `[start, start + span)` of wall time, or MIXED if it changes. */
  const offsetOver = (start: number, span: number): number => {
    const off = start - resolve(start);
    const end = start + span - 1;
    return end - resolve(end) === off ? off : MIXED;
  };
  return {
    name,
    toUtc(wall) {
      const day = Math.floor(wall / DAY);
      let off = days.get(day);
      if (off === undefined) {
        if (days.size > 4096) days.clear();
        off = offsetOver(day * DAY, DAY);
        days.set(day, off);
      }
      if (off !== MIXED) return wall - off;
      const key = Math.floor(wall / QUARTER);
      off = quarters.get(key);
      if (off === undefined) {
        if (quarters.size > 4096) quarters.clear();
        off = offsetOver(key * QUARTER, QUARTER);
        if (off === MIXED) return resolve(wall); // a transition inside: no caching
        quarters.set(key, off);
      }
      return wall - off;
    },
  };
}

function ianaZone(name: string): Zone {
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new RangeError(`unknown time zone: ${name}`);
  }
  /** The zone's offset from UTC at the instant `t`, in ms. */
  const offsetAt = (t: number): number => {
    const p: Record<string, number> = {};
    for (const part of fmt.formatToParts(t)) if (part.type !== 'literal') p[part.type] = Number(part.value);
    const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
    return asUtc - Math.floor(t / 1000) * 1000;
  };
  const HALF_DAY = 43200000;
  /** The instant of `wall`, trying the offsets in force half a day before and after it. */
  const resolve = (wall: number): number => {
    const before = offsetAt(wall - HALF_DAY);
    const after = offsetAt(wall + HALF_DAY);
    const t1 = wall - before;
    const t2 = wall - after;
    const ok1 = offsetAt(t1) === before;
    const ok2 = offsetAt(t2) === after;
    if (ok1 && ok2) return Math.min(t1, t2); // overlap (or no transition): the earlier
    if (ok2) return t2;
    return t1; // t1 valid, or a gap: the offset in force before it
  };
  return cachedZone(name, resolve);
}
