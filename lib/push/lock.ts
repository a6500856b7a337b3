/**
 * The queue directory's lock: one pusher per directory, or two agents would send (and delete)
 * each other's segments. The lock file holds `PID STARTTIME` (the process's start time from
 * /proc, so a PID reused by another process is not taken for the holder). It is created by
 * link(2) from a file already written (never seen half-written); a lock whose process is gone is
 * moved aside by rename(2) (atomic: of two processes taking over, one wins) and taken over.
 */
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileError, QueueLockedError } from '../errors.js';

export const LOCK_NAME = 'lock';

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot), or undefined if there is no such process. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function holderAlive(pid: number, start: string | undefined): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTimeOf(pid);
  // Another process that got the PID since: the holder is gone.
  return start === undefined || now === undefined || now === start;
}

function parse(text: string): { pid: number; start: string | undefined } {
  const [pid, start] = text.trim().split(/\s+/);
  return { pid: Number(pid), start };
}

export class QueueLock {
  private readonly path: string;
  private readonly mine: string;
  private held = true;

  private constructor(path: string, mine: string) {
    this.path = path;
    this.mine = mine;
  }

  /** Take the lock of `dir`, or throw QueueLockedError naming the live holder. `onStale` hears a takeover. */
  static acquire(dir: string, onStale: (pid: number) => void): QueueLock {
    const path = join(dir, LOCK_NAME);
    const mine = `${process.pid} ${startTimeOf(process.pid) ?? ''}\n`;
    const tmp = join(dir, `${LOCK_NAME}.${process.pid}.tmp`);
    try {
      writeFileSync(tmp, mine, { mode: 0o644 });
    } catch (e) {
      throw new FileError(dir, `cannot write the queue's lock file: ${(e as Error).message}`, { cause: e });
    }
    try {
      for (let tries = 0; tries < 5; tries++) {
        try {
          linkSync(tmp, path);
          return new QueueLock(path, mine);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new FileError(path, `cannot create the lock: ${(e as Error).message}`, { cause: e });
        }
        let text: string;
        try {
          text = readFileSync(path, 'utf8');
        } catch {
          continue; // removed meanwhile: try again
        }
        const holder = parse(text);
        if (holderAlive(holder.pid, holder.start)) throw new QueueLockedError(dir, holder.pid);
        const aside = join(dir, `${LOCK_NAME}.stale.${process.pid}`);
        try {
          renameSync(path, aside);
        } catch {
          continue; // another process took it over first
        }
        if (readFileSync(aside, 'utf8') !== text) {
          // Moved a lock just taken by another process: put it back, and it holds the directory.
          try {
            linkSync(aside, path);
          } catch { /* a third one: the next round decides */ }
          unlinkSync(aside);
          continue;
        }
        unlinkSync(aside);
        onStale(holder.pid);
      }
      throw new FileError(path, 'could not take the lock (it keeps changing hands)');
    } finally {
      try {
        unlinkSync(tmp);
      } catch { /* gone */ }
    }
  }

  /** Remove the lock, if it is still ours. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    try {
      if (readFileSync(this.path, 'utf8') === this.mine) unlinkSync(this.path);
    } catch { /* gone already */ }
  }
}
