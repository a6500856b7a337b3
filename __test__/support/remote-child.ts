/**
 * A MultiHostTimeSeriesCollector in its own process, for the event-loop tests of
 * remote-sshd.spec.ts (run with vite-node, so it uses the sources). Whether the process exits by
 * itself is the point: nothing here holds the event loop but the collector.
 *
 *   forget <options-json>        start, print "started", never stop
 *   iterate <options-json> <n>   start, `for await` until n samples, print "got <n>", never stop
 *   listen <options-json> <ms>   an on('sample') listener; stop() from an unref'd timer after ms,
 *                                then print "stopped <samples seen>"
 */
import { MultiHostTimeSeriesCollector } from '../../lib/remote/multi-collector.js';
import type { MultiHostTimeSeriesCollectorOptions } from '../../lib/types/collector.js';

const [mode, json, arg] = process.argv.slice(2) as [string, string, string | undefined];
const c = new MultiHostTimeSeriesCollector({ ...(JSON.parse(json) as MultiHostTimeSeriesCollectorOptions), logger: { warn: () => {} } });
const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  if (mode === 'forget') {
    await c.start();
    say('started');
  } else if (mode === 'iterate') {
    await c.start();
    say('started');
    let n = 0;
    for await (const s of c) {
      if (typeof s.hostname !== 'string') throw new Error('not a sample');
      if (++n === Number(arg)) break;
    }
    say(`got ${n}`);
  } else if (mode === 'listen') {
    let seen = 0;
    c.on('sample', () => seen++);
    await c.start();
    say('started');
    setTimeout(() => {
      void c.stop().then(() => say(`stopped ${seen}`));
    }, Number(arg)).unref();
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
