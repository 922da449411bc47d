/** Where events go: standard output, or a TCP (optionally TLS) receiver. */
export type Destination = { kind: 'stdout' } | { kind: 'tcp'; tls: boolean; host: string; port: number };

/**
 * Parses `-o`: `-`, `tcp://HOST:PORT`, `tls://HOST:PORT`, `HOST:PORT`, with IPv6 hosts in
 * brackets (`[::1]:6514`). Throws a RangeError with a one-line message otherwise.
 */
export function parseDestination(spec: string): Destination {
  if (spec === '-') return { kind: 'stdout' };
  const m = /^(?:(tcp|tls):\/\/)?(\[[0-9a-fA-F:.]+\]|[^:/[\]\s]+):(\d{1,5})$/.exec(spec);
  const port = Number(m?.[3]);
  if (m === null || !(port >= 1 && port <= 65535)) {
    throw new RangeError(`not a destination: ${spec} (expected -, tcp://HOST:PORT, tls://HOST:PORT or HOST:PORT)`);
  }
  const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
  return { kind: 'tcp', tls: m[1] === 'tls', host, port };
}

/** The destination as people write it, for messages. */
export function describeDestination(d: Destination): string {
  if (d.kind === 'stdout') return 'stdout';
  const host = d.host.includes(':') ? `[${d.host}]` : d.host;
  return `${d.tls ? 'tls' : 'tcp'}://${host}:${d.port}`;
}
