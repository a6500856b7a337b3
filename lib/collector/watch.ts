/**
 * What a collector watches, as the native sampler takes it: strings the core parses (`self`,
 * `tree:N`, `name:fio`, `cmd:/train\.py/`), PIDs, and child processes (their whole tree, and how
 * they ended, which only the parent can know).
 */
import { constants } from 'node:os';

import { InvalidOptionError } from '../errors.js';
import type { WatchedChild, WatchTarget } from '../types/collector.js';
import type { NativeSampler } from '../native/sampler.js';

function isChild(t: unknown): t is WatchedChild {
  return typeof t === 'object' && t !== null && typeof (t as WatchedChild).once === 'function' && 'pid' in t;
}

function describe(t: unknown): string {
  return typeof t === 'string' ? JSON.stringify(t) : typeof t === 'object' && t !== null ? 'an object without pid and once()' : String(t);
}

/** The signal's number, for a name Node gives (`SIGKILL` → 9). */
function signalNumber(name: string | null): number | null {
  if (name === null) return null;
  return (constants.signals as Record<string, number | undefined>)[name] ?? null;
}

/**
 * Hand `targets` to the sampler (checked here for their type; the core checks the strings and
 * names the one at fault). A child's exit is noted, so its key's next process records it.
 */
export function watchTargets(native: NativeSampler, targets: readonly WatchTarget[], where: string): void {
  if (!Array.isArray(targets)) throw new InvalidOptionError(`${where} must be an array of watch targets, got ${describe(targets)}`);
  const items: string[] = [];
  const children: [number, WatchedChild][] = [];
  targets.forEach((t: unknown, i) => {
    if (typeof t === 'string') items.push(t);
    else if (typeof t === 'number' && Number.isInteger(t) && t > 0 && t < 2 ** 31) items.push(`pid:${t}`);
    else if (isChild(t)) {
      const pid = t.pid;
      if (typeof pid !== 'number') throw new InvalidOptionError(`${where}[${i}] is a child process without a pid (it failed to start)`);
      items.push(`tree:${pid}`);
      children.push([pid, t]);
    } else {
      throw new InvalidOptionError(`${where}[${i}] must be a string ("self", "tree:PID", "name:NAME", "cmd:/REGEX/"), a PID or a child process, got ${describe(t)}`);
    }
  });
  native.watch(items);
  for (const [pid, child] of children) {
    child.once('exit', (code, signal) => native.noteExit(pid, code, signalNumber(signal)));
  }
}
