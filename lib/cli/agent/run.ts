/**
 * `hostseries agent` running: the native sampler through a TimeSeriesCollector whose sink is a
 * PushSink (queue on disk, push, retry) to serve, and/or one speaking remote write to a
 * Prometheus-compatible TSDB (its own queue: `QUEUE_DIR/remote-write`), and `/metrics` for a
 * scraper when asked; one line per change of state on stderr, and on SIGTERM or SIGINT a last
 * sample, a push of what is queued bounded by 5 s, the rest left on disk, exit 0. A second
 * signal meanwhile exits at once (the queue is on disk already).
 */
import { TimeSeriesCollector } from '../../collector/time-series-collector.js';
import { JsonlSink } from '../../files/jsonl-sink.js';
import { PushSink } from '../../push/push-sink.js';
import { isoSeconds } from '../../native/decode.js';
import type { Sink } from '../../types/sink.js';
import { writeStderr } from '../output.js';
import type { AgentSettings } from './config.js';
import { TeeSink } from './tee.js';
import { join } from 'node:path';
import { InvalidOptionError } from '../../errors.js';
import { startMetricsServer, type MetricsServer } from '../../prometheus/endpoint.js';

/** How long a stop waits for the server to take what is queued. */
export const STOP_FLUSH_SECONDS = 5;

const say = (m: string): void => writeStderr(`hostseries agent: ${m.replace(/^hostseries: /, '')}\n`);

export async function runAgent(s: AgentSettings): Promise<number> {
  for (const w of s.warnings) say(`warning: ${w}`);
  const common = {
    pushIntervalSeconds: s.pushInterval, tags: s.tags, maxQueueBytes: s.queueMaxBytes, maxQueueAgeSeconds: s.queueMaxAge,
    ca: s.ca?.pem, insecure: s.insecure, closeTimeoutSeconds: STOP_FLUSH_SECONDS,
  };
  const pushes: PushSink[] = [];
  if (s.server !== undefined) {
    pushes.push(new PushSink({ ...common, server: s.server, token: s.token, queueDir: s.queueDir, logger: { warn: say, info: say } }));
  }
  if (s.remoteWrite !== undefined) {
    const rw = (m: string): void => say(`remote write: ${m}`);
    pushes.push(new PushSink({
      ...common, protocol: 'remote-write', server: s.remoteWrite.url, token: s.remoteWrite.token,
      queueDir: join(s.queueDir, 'remote-write'), logger: { warn: rw, info: rw },
    }));
  }
  const sinks: Sink[] = [...pushes, ...(s.tee !== undefined ? [new JsonlSink(s.tee)] : [])];
  const sink: Sink = sinks.slice(1).reduce<Sink>((a, b) => new TeeSink(a, b), sinks[0]);
  const collector = new TimeSeriesCollector({
    intervalSeconds: s.interval, hostname: s.hostname, metrics: s.metrics, watch: s.watch, sink,
    // Memory holds the last few samples only (the queue holds the rest); reaching that is no news.
    maxSamples: 16, overflow: 'rolling',
    logger: { warn: (m) => (m.startsWith('hostseries: maxSamples') ? undefined : say(m)) },
  });
  // The sink's errors (its queue's disk) come through the collector while it runs.
  collector.on('error', (e) => say(e.message));
  // Nothing else holds the event loop: the sampler thread does not, and the push timer is unref'd.
  const hold = setInterval(() => undefined, 1 << 30);
  let signalled: NodeJS.Signals | undefined;
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      if (signalled) {
        say(`${sig} again: exiting now; what is queued stays in ${s.queueDir}`);
        process.exit(0);
      }
      signalled = sig;
      resolve(sig);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  try {
    await collector.start();
  } catch (e) {
    clearInterval(hold);
    throw e;
  }
  let metrics: MetricsServer | undefined;
  if (s.metricsListen !== undefined) {
    try {
      metrics = await startMetricsServer(s.metricsListen.host, s.metricsListen.port, () => {
        const latest = collector.current();
        return latest ? [{ labels: [], sample: latest.toDict() }] : [];
      });
    } catch (e) {
      await collector.stop();
      clearInterval(hold);
      throw new InvalidOptionError(`--metrics-listen ${s.metricsListen.host}:${s.metricsListen.port}: ${(e as Error).message}`);
    }
  }
  const tags = Object.entries(s.tags).map(([k, v]) => `${k}=${v}`).join(',');
  const tagged = tags ? `; tags ${tags}` : '';
  const to = [
    ...(s.server !== undefined ? [`pushing to ${s.server} every ${s.pushInterval} s (token from ${s.tokenSource}; queue in ${s.queueDir}${tagged})`] : []),
    ...(s.remoteWrite !== undefined ? [`remote-writing to ${s.remoteWrite.url} every ${s.pushInterval} s (queue in ${join(s.queueDir, 'remote-write')}${tagged})`] : []),
    ...(metrics ? [`serving ${metrics.url}`] : []),
  ];
  say(`sampling ${s.hostname} every ${s.interval} s, ${to.join(', ')}`);
  const sig = await stopped;
  say(`${sig}: taking a last sample, pushing what is queued (at most ${STOP_FLUSH_SECONDS} s)`);
  const first = collector.startTime;
  await metrics?.close();
  await collector.stop();
  clearInterval(hold);
  for (const push of pushes) {
    const c = push.counts;
    const left = push.queued.samples;
    const what = push === pushes[0] && s.server !== undefined ? '' : 'remote write: ';
    say(`${what}stopped: ${c.received} samples taken since ${first ? isoSeconds(first.getTime()) : '?'}, ${c.delivered} delivered, ${c.dropped} dropped, ${left} left queued`);
  }
  return 0;
}
