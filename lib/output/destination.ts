/** A network receiver: plain NDJSON over TCP, or RELP (acknowledged); either one optionally over TLS. */
export interface Endpoint {
  kind: 'tcp' | 'relp';
  tls: boolean;
  host: string;
  port: number;
}

/** Where events go: standard output, or a network receiver. */
export type Destination = { kind: 'stdout' } | Endpoint;

const SCHEMES: Record<string, { kind: 'tcp' | 'relp'; tls: boolean }> = {
  'tcp://': { kind: 'tcp', tls: false },
  'tls://': { kind: 'tcp', tls: true },
  'relp://': { kind: 'relp', tls: false },
  'relp+tls://': { kind: 'relp', tls: true },
};

const EXPECTED = '-, tcp://HOST:PORT, tls://HOST:PORT, relp://HOST:PORT, relp+tls://HOST:PORT or HOST:PORT';

/**
 * Parses `-o`: `-`, `tcp://`, `tls://`, `relp://` or `relp+tls://` followed by HOST:PORT, or
 * a bare HOST:PORT (TCP), with IPv6 hosts in brackets (`[::1]:6514`). Throws a RangeError with
 * a one-line message otherwise.
 */
export function parseDestination(spec: string): Destination {
  if (spec === '-') return { kind: 'stdout' };
  const m = /^(?:([a-z+]+:\/\/))?(\[[0-9a-fA-F:.]+\]|[^:/[\]\s]+):(\d{1,5})$/.exec(spec);
  const scheme = m?.[1] === undefined ? SCHEMES['tcp://'] : SCHEMES[m[1]];
  const port = Number(m?.[3]);
  if (m === null || scheme === undefined || !(port >= 1 && port <= 65535)) {
    throw new RangeError(`not a destination: ${spec} (expected ${EXPECTED})`);
  }
  const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
  return { ...scheme, host, port };
}

/** The destination as people write it, for messages. */
export function describeDestination(d: Destination): string {
  if (d.kind === 'stdout') return 'stdout';
  const host = d.host.includes(':') ? `[${d.host}]` : d.host;
  const scheme = d.kind === 'tcp' ? (d.tls ? 'tls' : 'tcp') : d.tls ? 'relp+tls' : 'relp';
  return `${scheme}://${host}:${d.port}`;
}
