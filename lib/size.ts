const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Parses a byte count such as `65536`, `64K`, `64M` or `1G` (binary units); NaN if malformed. */
export function parseSize(text: string): number {
  const m = /^([0-9]+)([kmg]?)(?:i?b)?$/i.exec(text.trim());
  if (m === null) return NaN;
  return Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
}
