import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { describeError } from '../input/files.js';
import type { TlsOptions } from './connect.js';

/** What the command line says about TLS files. */
export interface TlsFiles {
  /** --tls-ca. Default: Node's bundled roots. */
  ca?: string;
  /** --tls-cert; needs --tls-key. Default: none. */
  cert?: string;
  /** --tls-key; needs --tls-cert. Default: none. */
  key?: string;
  /** --tls-servername. Default: the destination host. */
  servername?: string;
  /** --tls-insecure. Default false. */
  insecure: boolean;
}

/** A TLS option that cannot work: a usage error, reported before any connection is tried. */
export class TlsFileError extends Error {}

async function load(flag: string, path: string | undefined): Promise<Buffer | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path);
  } catch (err) {
    throw new TlsFileError(`${flag} ${path}: ${describeError(err)}`);
  }
}

/** OpenSSL's reason, without its error-stack prefix (`error:0480006C:PEM routines::`). */
function reason(err: unknown): string {
  return String((err as Error).message).replace(/^error:[0-9A-F]+:[^:]*::?/, '');
}

/**
 * Reads and checks the TLS files before anything connects: each must be PEM of the right
 * kind, the certificate and key come together and must match. A wrong file would otherwise
 * fail every handshake for the whole --connect-timeout (forever with 0), named vaguely.
 */
export async function loadTls(f: TlsFiles): Promise<TlsOptions> {
  if ((f.cert === undefined) !== (f.key === undefined)) {
    throw new TlsFileError(f.cert === undefined ? `--tls-key ${f.key} needs --tls-cert` : `--tls-cert ${f.cert} needs --tls-key`);
  }
  const t: TlsOptions = { insecure: f.insecure };
  const ca = await load('--tls-ca', f.ca);
  const cert = await load('--tls-cert', f.cert);
  const key = await load('--tls-key', f.key);
  if (ca !== undefined) {
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new TlsFileError(`--tls-ca ${f.ca}: no PEM certificate in it`);
    try {
      createSecureContext({ ca });
    } catch (err) {
      throw new TlsFileError(`--tls-ca ${f.ca}: ${reason(err)}`);
    }
    t.ca = ca;
  }
  if (cert !== undefined && key !== undefined) {
    try {
      new X509Certificate(cert);
    } catch (err) {
      throw new TlsFileError(`--tls-cert ${f.cert}: not a PEM certificate (${reason(err)})`);
    }
    try {
      createPrivateKey(key);
    } catch (err) {
      throw new TlsFileError(`--tls-key ${f.key}: not a PEM private key (${reason(err)})`);
    }
    try {
      createSecureContext({ cert, key });
    } catch (err) {
      throw new TlsFileError(`--tls-cert ${f.cert} and --tls-key ${f.key} do not go together: ${reason(err)}`);
    }
    t.cert = cert;
    t.key = key;
  }
  if (f.servername !== undefined) t.servername = f.servername;
  return t;
}

/** The --tls-* options given, for a warning when the destination does not use TLS. */
export function tlsFlagsGiven(f: TlsFiles): string[] {
  const given: string[] = [];
  if (f.ca !== undefined) given.push('--tls-ca');
  if (f.cert !== undefined) given.push('--tls-cert');
  if (f.key !== undefined) given.push('--tls-key');
  if (f.servername !== undefined) given.push('--tls-servername');
  if (f.insecure) given.push('--tls-insecure');
  return given;
}
