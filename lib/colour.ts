/** The few styles oqfwd uses on stderr. Standard output is never coloured. */
export interface Paint {
  bold(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
  cyan(text: string): string;
}

const same = (text: string): string => text;

/** No colour. */
export const PLAIN: Paint = { bold: same, yellow: same, red: same, cyan: same };

/**
 * Whether stderr gets colour: only on a terminal, never with NO_COLOR set (chalk itself
 * does not honour NO_COLOR), always with FORCE_COLOR other than 0.
 */
export function wantsColour(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY;
}

/**
 * The styles for stderr. chalk is imported only when colour is wanted: loading it is
 * about a third of oqfwd's start-up, paid by every cron job and pipe for nothing.
 */
export async function paintFor(env: NodeJS.ProcessEnv, isTTY: boolean): Promise<Paint> {
  if (!wantsColour(env, isTTY)) return PLAIN;
  const { Chalk } = await import('chalk');
  return new Chalk({ level: 1 });
}
