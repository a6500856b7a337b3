/**
 * `record` as a child subreaper while it records its command's processes: a process whose
 * parent exits (a double fork: `sh -c 'daemon &'`) is re-parented to us rather than to init, so
 * the sampler, told which of our children are the command's orphans, keeps it in the command's
 * tree and reaps it when it ends (libuv waits only for the children Node spawned). Without it,
 * such a process is lost to the recording when its parent exits before the next sample.
 */
import { setChildSubreaper } from '../../native/sampler.js';

/** Make this process a child subreaper; false (and why, to `debug`) when it cannot be. */
export function becomeSubreaper(debug: (m: string) => void): boolean {
  const why = setChildSubreaper();
  if (why !== undefined) debug(`${why}: a process the command double-forks leaves its recorded tree when its parent exits`);
  return why === undefined;
}
