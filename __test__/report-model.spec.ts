/**
 * The report model held byte for byte to a frozen copy of what it was before the build was made
 * fast (fixtures/report-model/expected.json, written by the build of commit 8c5980f): the page's
 * meta as JSON and every blob's bytes. Inputs: a real recording (`record -i 0.2` around dd writing
 * with O_DIRECT and counting its steps, its processes watched; vmstat cut to the fields rates read)
 * and hosts made from it that take every other path: a gap, an error-only sample, samples out of
 * order, a partition and a dm device, a process restart, whole-second stamps only, a reboot, a
 * counter gone backwards, counters above 2^53, no memory figures, a requested host with no samples;
 * and a second run, the mlpstorage fixture. HOSTSERIES_FREEZE=1 rewrites the expected file (only
 * ever from a build known to be right). Beside it: the rates of a scope (the report's: fewer devices,
 * no per-CPU or vm figures) equal computeRates' for what it names, each section keyed in the order
 * of its formulas.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readRecording } from '../lib/files/read-recording.js';
import { TimeSeriesData } from '../lib/models/data.js';
import { buildReportModel, type ReportInput, type ReportModel } from '../lib/report/build.js';
import { computeRates, scopedRates } from '../lib/rates/compute.js';
import { CPU_FORMULAS, DISK_FORMULAS, NET_FORMULAS } from '../lib/rates/formulas.js';

const FIXTURES = join(__dirname, 'fixtures');
const EXPECTED = join(FIXTURES, 'report-model', 'expected.json');

type Dict = Record<string, unknown>;
type SampleD = Dict & { timestamp: string; timestamp_ns?: number; diskstats?: Dict[]; stat?: Dict & { btime: number }; meminfo?: Dict; processes?: Dict[]; errors?: Dict };

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

async function recordingInputs(): Promise<ReportInput[]> {
  const rec = JSON.parse(readFileSync(join(FIXTURES, 'report-model', 'recording.json'), 'utf8')) as Dict & { samples_by_host: Record<string, SampleD[]>; markers: Dict[] };
  const [host, real] = Object.entries(rec.samples_by_host)[0];

  // node-b: disk writes doubled, a partition and a dm device over vda, samples 4-5 lost (a gap), an
  // error-only sample in their place, samples 1 and 2 swapped, a watched process restarted.
  const b = clone(real).map((s) => {
    const vda = s.diskstats?.find((d) => d.device_name === 'vda');
    if (vda) {
      vda.writes_completed = 2 * Number(vda.writes_completed);
      vda.sectors_written = 2 * Number(vda.sectors_written);
      s.diskstats!.push({ ...vda, device_name: 'vda1' }, { ...vda, device_name: 'dm-0' });
    }
    return { ...s, hostname: 'node-b' };
  });
  b.splice(4, 2, { timestamp: b[4].timestamp, timestamp_ns: b[4].timestamp_ns, hostname: 'node-b', errors: { ssh: 'connection reset' } });
  [b[1], b[2]] = [b[2], b[1]];
  for (const s of b.slice(6)) for (const p of s.processes ?? []) if (p.key === 'self') p.pid = Number(p.pid) + 1;

  // node-c: whole-second stamps only, a reboot at sample 6, a disk counter reset at 3, a disk whose
  // counters are past 2^53, no MemAvailable in the first sample.
  const c = clone(real).map((s, i) => {
    const o: SampleD = { ...s, hostname: 'node-c', timestamp: `${s.timestamp.slice(0, 19)}Z` };
    delete o.timestamp_ns;
    if (o.stat && i >= 6) o.stat.btime += 7;
    const vda = o.diskstats?.find((d) => d.device_name === 'vda');
    if (vda && i === 3) vda.reads_completed = 0;
    if (vda) o.diskstats!.push({ ...vda, device_name: 'sdb', reads_completed: 2n ** 60n + BigInt(i * 1000), sectors_read: 2n ** 61n + BigInt(i * 4096), time_doing_ios_ms: 2n ** 55n + BigInt(i * 150) });
    if (i === 0 && o.meminfo) delete o.meminfo.MemAvailable;
    return o;
  });

  rec.samples_by_host = { [host]: real, 'node-b': b, 'node-c': c };
  rec.hosts_requested = [host, 'node-b', 'node-c', 'node-d'];
  rec.hosts_collected = [host, 'node-b', 'node-c'];
  rec.markers = [...rec.markers, { ...rec.markers[0], label: 'node-b only', host: 'node-b' }];
  return [
    { file: 'recording.json', data: TimeSeriesData.fromDict(rec), warnings: ['a warning from the reader'] },
    { file: 'mlpstorage_timeseries.json', data: (await readRecording(join(FIXTURES, 'mlpstorage_timeseries.json'))).data },
  ];
}

interface Frozen {
  meta: string;
  /** Blob id → its bytes (gunzipped), base64. */
  blobs: Record<string, string>;
}

/** The model as compared: meta as the page gets it (its generation time left out), blobs' bytes. */
function frozen(m: ReportModel): Frozen {
  const meta = JSON.stringify({ ...m.meta, generatedAt: 'frozen' });
  return { meta, blobs: Object.fromEntries([...m.blobs].map(([id, b]) => [id, gunzipSync(Buffer.from(b, 'base64')).toString('base64')])) };
}

describe('buildReportModel', () => {
  it('builds the frozen model, byte for byte, for a real recording and hosts that take every path', async () => {
    const got = frozen(buildReportModel(await recordingInputs(), 'frozen'));
    if (process.env.HOSTSERIES_FREEZE === '1') writeFileSync(EXPECTED, `${JSON.stringify(got, null, 1)}\n`);
    const want = JSON.parse(readFileSync(EXPECTED, 'utf8')) as Frozen;
    // The inputs reach every path the brief lists (so the comparison below means something).
    const meta = JSON.parse(got.meta) as { hosts: { name: string; samples: number; idleInterfaces: string[]; summary: { gaps: number; errorSamples: number; otherDevices: string[]; processes: { restarts: number }[] } }[] };
    expect(meta.hosts.map((h) => h.name)).toEqual(['vm', 'node-b', 'node-c', 'node-d', 'node1', 'node-02.example.org', 'node3']);
    const nodeB = meta.hosts[1].summary;
    expect([nodeB.gaps, nodeB.errorSamples, nodeB.otherDevices]).toEqual([1, 1, ['dm-0']]);
    expect(meta.hosts[0].idleInterfaces.length).toBeGreaterThan(0);
    expect(meta.hosts[3].samples).toBe(0);
    expect(Object.keys(got.blobs).sort()).toEqual(Object.keys(want.blobs).sort());
    for (const id of Object.keys(want.blobs)) expect(got.blobs[id], `blob ${id}`).toBe(want.blobs[id]);
    expect(got.meta).toBe(want.meta);
  });
});

describe('rates as the report computes them', () => {
  it('each section keyed in its formulas\' order; a scope computes what it names exactly as computeRates does', async () => {
    const [run] = await recordingInputs();
    let pairs = 0;
    for (const samples of run.data.samplesByHost.values()) {
      const data = samples.filter((s) => s.stat !== undefined).sort((a, b) => (a.timestampNs ?? 0) - (b.timestampNs ?? 0));
      for (let i = 1; i < data.length; i++) {
        const all = computeRates(data[i - 1], data[i], { nominalSeconds: 0.2 });
        const only = scopedRates(data[i - 1], data[i], { nominalSeconds: 0.2 }, { disks: new Set(['vda']), interfaces: (n) => n !== 'lo', perCpu: false, vm: false });
        expect(only).toStrictEqual({
          ...all,
          disk: all.disk.vda ? { vda: all.disk.vda } : {},
          net: Object.fromEntries(Object.entries(all.net).filter(([n]) => n !== 'lo')),
          cpu: all.cpu.all ? { all: all.cpu.all } : {},
          vm: {},
        });
        if (all.disk.vda && Object.keys(all.disk.vda).length === Object.keys(DISK_FORMULAS).length) {
          expect(Object.keys(all.disk.vda)).toEqual(Object.keys(DISK_FORMULAS));
          expect(Object.keys(all.net.eth0)).toEqual(Object.keys(NET_FORMULAS));
          expect(Object.keys(all.cpu.all)).toEqual(Object.keys(CPU_FORMULAS));
          expect(Object.keys(all.cpu.cpu0)).toEqual(Object.keys(CPU_FORMULAS));
          pairs++;
        }
      }
    }
    expect(pairs).toBeGreaterThan(10);
  });
});
