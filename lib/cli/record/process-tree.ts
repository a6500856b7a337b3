/**
 * The command's whole process tree, found from /proc: the signals `record` passes on reach a
 * wrapper script's own children (a benchmark's workers), not only the script, and a guard sends
 * the tree SIGTERM if `record` itself dies, even by SIGKILL.
 *
 * A shell killed by a signal leaves the children it waits for running, re-parented to init; the
 * tree is therefore read before it is signalled. A process that left the tree before (a
 * daemon's double fork) is out of reach.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';

/** Each process's children now, from the ppid field of /proc/<pid>/stat. */
function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return children;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    // After the command name (which may hold spaces and parentheses): state, ppid, ...
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ', 2)[1]);
    const list = children.get(ppid);
    if (list) list.push(Number(name));
    else children.set(ppid, [Number(name)]);
  }
  return children;
}

/** Every process descended from one of `roots` now (the roots not included). */
function descendants(roots: Iterable<number>): Set<number> {
  const children = childrenByParent();
  const found = new Set<number>();
  const queue = [...roots];
  for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
    for (const c of children.get(pid) ?? []) {
      if (found.has(c)) continue;
      found.add(c);
      queue.push(c);
    }
  }
  return found;
}

function send(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Gone meanwhile (ESRCH), or not ours to signal (EPERM: it changed user): nothing to do.
  }
}

/**
 * Send `sig` to our child `pid` (through `direct`) and to all its descendants: the tree read
 * first, signalled in one pass, then read once more for processes forked meanwhile (each
 * process is sent the signal once: a second one often means "abort the clean-up").
 */
export function signalTree(pid: number | undefined, sig: NodeJS.Signals, direct: (sig: NodeJS.Signals) => void): void {
  if (pid === undefined) {
    direct(sig);
    return;
  }
  const sent = new Set<number>([pid]);
  const first = descendants(sent);
  direct(sig);
  for (const p of first) {
    sent.add(p);
    send(p, sig);
  }
  for (const p of descendants(sent)) if (!sent.has(p)) send(p, sig);
}

/** Field 22 of /proc/<pid>/stat (the start time, in ticks since boot): a pid plus this is one process. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * The guard, a POSIX shell waiting on a pipe from us: EOF means we are gone (killed, even by
 * SIGKILL, or crashed) while the command ran. It then checks that $1 is still the command (its
 * start time $2), reads the command's tree from /proc and sends it SIGTERM, then does so for
 * processes forked meanwhile. `sh` and /proc only: it works where util-linux's setpriv does not.
 */
const GUARD = [
  '# record is gone when its pipe closes',
  'while read -r _; do :; done',
  'cmd=$1 start=$2',
  'read -r l < "/proc/$cmd/stat" 2>/dev/null || exit 0',
  'set -- ${l##*") "}',
  '# no longer the command (it has exited and its pid is another process\'s)',
  '[ "${20}" = "$start" ] || exit 0',
  'tree=" $cmd "',
  '# "pid ppid" of every process',
  'pairs() {',
  '  for f in /proc/[0-9]*/stat; do',
  '    read -r l < "$f" 2>/dev/null || continue',
  '    p=${f#/proc/}',
  '    set -- ${l##*") "}',
  '    echo "${p%/stat} $2"',
  '  done',
  '}',
  '# adds the descendants of $tree to it; $new: those added',
  'grow() {',
  '  new=',
  '  list=$(pairs)',
  '  more=1',
  '  while [ -n "$more" ]; do',
  '    more=',
  '    while read -r p pp; do',
  '      case $tree in *" $pp "*) case $tree in *" $p "*) ;; *) tree="$tree$p "; new="$new $p"; more=1 ;; esac ;; esac',
  '    done <<EOF',
  '$list',
  'EOF',
  '  done',
  '}',
  'grow',
  'kill -TERM $tree 2>/dev/null',
  'grow',
  '[ -z "$new" ] || kill -TERM $new 2>/dev/null',
  'exit 0',
].join('\n');

/**
 * Start the guard of the command `pid` (our child); `onError` when it cannot start. It never
 * holds our process open; `stop` ends it (when the command has exited).
 */
export function guardTree(pid: number, onError: (e: Error) => void): { pid: number | undefined; stop: () => void } | undefined {
  const start = startTime(pid);
  if (start === undefined) {
    onError(new Error(`cannot read /proc/${pid}/stat`));
    return undefined;
  }
  // Its own session: no terminal signal (Ctrl-C, hang-up) reaches it; no stdio of ours but the
  // pipe. The script comes in the environment: `ps` shows a short line.
  const guard: ChildProcess = spawn('/bin/sh', ['-c', 'eval "$HOSTSERIES_GUARD"', 'hostseries-guard', String(pid), start], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOSTSERIES_GUARD: GUARD },
  });
  guard.once('error', onError);
  const pipe = guard.stdin as Socket | null;
  pipe?.on('error', () => undefined); // the guard gone before us: nothing to tell it
  pipe?.unref();
  guard.unref();
  return {
    pid: guard.pid,
    stop: () => {
      if (guard.exitCode === null && guard.signalCode === null) guard.kill('SIGKILL');
      pipe?.destroy();
    },
  };
}
