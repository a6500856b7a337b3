/** `hostseries agent`: sample this host and push to `hostseries serve`, queueing on disk through outages. */
import { Command, Option } from 'commander';
import { MAX_INTERVAL_SECONDS, MIN_INTERVAL_SECONDS } from '../../collector/options.js';
import { collect, fileName, metricList, seconds } from '../parse-args.js';
import { agentSettings, queueBytes, tagArg, type AgentFlags } from './config.js';
import { runAgent, STOP_FLUSH_SECONDS } from './run.js';
import { parseListen } from '../serve/listen.js';

const EXAMPLES = `
Examples:
  $ hostseries agent --server http://aggregator:9000 --token-file /etc/hostseries/token
  $ HOSTSERIES_TOKEN=... hostseries agent --server http://10.0.0.5:9000 -i 1 --tag rack=r12 --tag role=storage
  $ hostseries agent --config /etc/hostseries/agent.yaml
  $ hostseries agent --server https://aggregator:9443 --ca /etc/hostseries/server.pem --token-file ~/.hostseries-token
  $ hostseries agent --remote-write http://victoria:8428/api/v1/write --metrics-listen 127.0.0.1:9101

The token: --token-file FILE, else HOSTSERIES_TOKEN, else the config file (--token works but shows
in ps). A YAML --config file holds the same settings by the flags' names (server, token-file,
interval, push-interval, tags, hostname, queue-dir, queue-max-bytes, queue-max-age, ca, insecure,
watch, metrics, remote-write, remote-write-token-file, metrics-listen); flags win; an unknown key
is an error. docs/agent.md has a systemd unit; docs/prometheus.md the names remote write and
/metrics use.

Every sample is appended to the queue directory before it is pushed and deleted there once the
server acknowledged it: an outage, a kill (even SIGKILL) or a restart loses nothing queued, and the
queue is delivered oldest first when the server is back (the server stores nothing twice). The
queue is bounded (--queue-max-bytes, --queue-max-age): past a bound the oldest samples are
dropped, and said so. One agent per queue directory. Retries back off exponentially with jitter
(1 s to 60 s); a refused token (401/403) is said loudly and retried every 60 s. One line is
logged per change (connected, unreachable and how much is queued, backlog delivered), not per push.
SIGTERM or Ctrl-C: a last sample, what is queued is pushed for up to ${STOP_FLUSH_SECONDS} s, the rest stays
queued, exit 0.`;

export function agentCommand(): Command {
  const cmd = new Command('agent')
    .description('sample this host and push the samples to a hostseries serve, queueing on disk through outages')
    .addOption(new Option('--server <url>', 'the server: http://HOST:PORT or https://…'))
    .addOption(new Option('--token-file <file>', 'a file holding the write token (else HOSTSERIES_TOKEN)').argParser(fileName))
    .addOption(new Option('--token <token>', 'the write token (shows in ps: prefer --token-file or HOSTSERIES_TOKEN)'))
    .addOption(new Option('-i, --interval <seconds>', `time between samples (default 10; ${MIN_INTERVAL_SECONDS} s to one day)`).argParser(seconds(MIN_INTERVAL_SECONDS, MAX_INTERVAL_SECONDS)))
    .addOption(new Option('--push-interval <seconds>', 'time between pushes (default 10)').argParser(seconds(0.01, MAX_INTERVAL_SECONDS)))
    .addOption(new Option('--tag <key=value>', 'a tag the server keeps for this host (repeatable)').argParser(tagArg))
    .addOption(new Option('--hostname <name>', "the samples' hostname (default: this machine's)"))
    .addOption(new Option('--queue-dir <dir>', 'the disk queue (default: /var/lib/hostseries/queue as root, else $XDG_STATE_HOME/hostseries/queue or ~/.local/state/hostseries/queue)').argParser(fileName))
    .addOption(new Option('--queue-max-bytes <size>', 'bound on the queue (default 64M)').argParser(queueBytes))
    .addOption(new Option('--queue-max-age <seconds>', 'drop queued samples older than this (default 24h)').argParser(seconds(1)))
    .addOption(new Option('--config <file>', 'a YAML file with these settings (flags win)').argParser(fileName))
    .addOption(new Option('--ca <file>', "PEM certificate to trust for an https server (e.g. its self-signed one)").argParser(fileName))
    .addOption(new Option('--insecure', "do not check the https server's certificate (prefer --ca)"))
    .addOption(new Option('-w, --watch <process>', 'also sample this process: self, a PID, name:NAME or cmd:/REGEX/ (repeatable)').argParser(collect))
    .addOption(new Option('-m, --metrics <list>', 'sections to read: diskstats, vmstat, meminfo, loadavg, netdev, stat (default all)').argParser(metricList))
    .addOption(new Option('--tee <file>', 'also write every sample to this JSON Lines file (a local copy)').argParser(fileName))
    .addOption(new Option('--remote-write <url>', "also (or only) push to a Prometheus remote-write receiver, e.g. http://victoria:8428/api/v1/write (node_exporter's names, whole samples; queued in QUEUE_DIR/remote-write)"))
    .addOption(new Option('--remote-write-token-file <file>', "a file holding the receiver's Bearer token (else HOSTSERIES_REMOTE_WRITE_TOKEN; none: no Authorization)").argParser(fileName))
    .addOption(new Option('--metrics-listen <addr>', "serve /metrics here for a scraper (node_exporter's names), e.g. 127.0.0.1:9101").argParser(parseListen))
    .addHelpText('after', EXAMPLES);
  return cmd.action(async (flags: AgentFlags) => {
    process.exitCode = await runAgent(agentSettings(flags));
  });
}
