/** The few styles oqfwd uses: on stderr, and on stdout only for --pretty. */
export interface Paint {
  bold(text: string): string;
  dim(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
  green(text: string): string;
  cyan(text: string): string;
  magenta(text: string): string;
}

const same = (text: string): string => text;

/** No colour. */
export const PLAIN: Paint = { bold: same, dim: same, yellow: same, red: same, green: same, cyan: same, magenta: same };

/**
 * Whether a stream gets colour: `flag` (--color true, --no-color false) decides first; then
 * always with FORCE_COLOR other than 0, never with NO_COLOR set (chalk itself does not
 * honour NO_COLOR); else only on a terminal.
 */
export function wantsColour(env: NodeJS.ProcessEnv, isTTY: boolean, flag: boolean | null = null): boolean {
  if (flag !== null) return flag;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY;
}

/**
 * The styles for a stream. chalk is imported only when colour is wanted: loading it is
 * about a third of oqfwd's start-up, paid by every cron job and pipe for nothing.
 */
export async function paintFor(env: NodeJS.ProcessEnv, isTTY: boolean, flag: boolean | null = null): Promise<Paint> {
  if (!wantsColour(env, isTTY, flag)) return PLAIN;
  const { Chalk } = await import('chalk');
  return new Chalk({ level: 1 });
}
