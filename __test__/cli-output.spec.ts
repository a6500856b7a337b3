/**
 * `record -o` and `convert -o` never destroy what is there: a regular file is replaced only with
 * --force; a directory, symbolic link, device, FIFO or socket never. Default names are unique;
 * '' is refused; '-' is stdout (and stdin for `summary` / `convert`). Run as users run it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../lib/json/parse.js';
import { readTimeSeriesJson } from '../lib/files/json-file.js';
import { TimeSeriesData } from '../lib/models/data.js';
import type { TimeSeriesDataDict } from '../lib/types/sample.js';
import { cliWorkdir, cli as run, sh, start as startCli, type Result } from './support/cli.js';

let dir: string;
const p = (name: string): string => join(dir, name);
const cli = (args: string[], input?: string): Result => run(args, { cwd: dir, input });

cliWorkdir('hs-cli-out-', (d) => (dir = d));

const isRoot = process.getuid?.() === 0;

/** A finished stream for the convert tests. */
function recordStream(name: string): string {
  const r = cli(['record', '-q', '-n', '2', '-i', '0.1', '-o', p(name)]);
  expect(r.status, r.stderr).toBe(0);
  return p(name);
}

describe('record -o: an existing file', () => {
  it('a name ending with / (a directory\'s, there or not) is refused naming what was given', () => {
    writeFileSync(p('plain.json'), 'x\n');
    for (const given of [p('newdir') + '/', p('plain.json') + '/']) {
      const r = cli(['record', '-n', '1', '-i', '0.1', '-o', given]);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`hostseries: ${given}: cannot write the recording: a file name is needed, not a directory (it ends with /)\n`);
    }
    expect(existsSync(p('newdir'))).toBe(false);
  });

  it('is not replaced without --force: exit 1, one line, the command never runs, the file as it was', () => {
    writeFileSync(p('kept.json'), 'precious\n');
    const r = cli(['record', '-n', '1', '-i', '0.1', '-o', p('kept.json'), '--', 'touch', p('kept.marker')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`hostseries: ${p('kept.json')}: exists; give --force to replace it, or -o to write the recording elsewhere\n`);
    expect(readFileSync(p('kept.json'), 'utf8')).toBe('precious\n');
    expect(existsSync(p('kept.marker'))).toBe(false);
    expect(existsSync(p('kept.partial.jsonl'))).toBe(false);
  });

  it('a regular file is replaced with --force (json, and a .jsonl whose stream goes beside it)', async () => {
    writeFileSync(p('old.json'), 'old\n');
    const r = cli(['record', '-q', '-f', '-n', '2', '-i', '0.1', '-o', p('old.json')]);
    expect(r.status, r.stderr).toBe(0);
    expect((await readTimeSeriesJson(p('old.json'))).samplesByHost.get(hostname())!.length).toBeGreaterThanOrEqual(2);

    writeFileSync(p('old.jsonl'), 'old\n');
    const refused = cli(['record', '-q', '-n', '2', '-i', '0.1', '-o', p('old.jsonl')]);
    expect(refused.status).toBe(1);
    expect(readFileSync(p('old.jsonl'), 'utf8')).toBe('old\n');
    const l = cli(['record', '-q', '--force', '-n', '2', '-i', '0.1', '-o', p('old.jsonl')]);
    expect(l.status, l.stderr).toBe(0);
    expect(readFileSync(p('old.jsonl'), 'utf8')).toMatch(/^\{"record":"header"/);
    expect(existsSync(p('old.partial.jsonl'))).toBe(false);
  });

  it.each<[string, (path: string) => void, (path: string) => boolean]>([
    ['a FIFO', (path) => execFileSync('mkfifo', [path]), (path) => lstatSync(path).isFIFO()],
    ['a symbolic link', (path) => {
      writeFileSync(`${path}.target`, 'target\n');
      symlinkSync(`${path}.target`, path);
    }, (path) => lstatSync(path).isSymbolicLink() && readFileSync(`${path}.target`, 'utf8') === 'target\n'],
  ])('%s is never replaced, even with --force', (_what, make, intact) => {
    const path = p(`special-${_what.replace(/\W/g, '')}.json`);
    make(path);
    for (const force of [[], ['--force']]) {
      const r = cli(['record', ...force, '-n', '1', '-i', '0.1', '-o', path, '--', 'touch', p('special.marker')]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/cannot write the recording: it is a (FIFO|symbolic link).*never replaced/);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(intact(path)).toBe(true);
      expect(existsSync(p('special.marker'))).toBe(false);
    }
  });

  it.skipIf(!isRoot)('a device is never replaced (a private character device node; /dev/null only looked at)', () => {
    const dev = p('null-device');
    execFileSync('mknod', [dev, 'c', '1', '3']);
    for (const force of [[], ['-f']]) {
      const r = cli(['record', ...force, '-n', '1', '-i', '0.1', '-o', dev]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('it is a character device, which is never replaced');
      expect(lstatSync(dev).isCharacterDevice()).toBe(true);
    }
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('-o \'\' and -H \'\' are argument errors (exit 2), like the library\'s empty host', () => {
    for (const args of [['-o', ''], ['-H', ''], ['--hostfile', '']]) {
      const r = cli(['record', '-n', '1', ...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^hostseries: option .* argument '' is invalid\. Expected a (file name|host spec)/);
    }
  });

  it('a missing directory is named as given, not by a temporary file', () => {
    const r = cli(['record', '-n', '1', '-o', 'no-such-dir/x.json']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('hostseries: no-such-dir/x.json: cannot write the recording: directory no-such-dir does not exist\n');
  });
});

describe('record: default names', () => {
  it('three runs started in the same second get three files', async () => {
    const sub = p('same-second');
    execFileSync('mkdir', [sub]);
    const runs = [0, 1, 2].map(() => startCli(['record', '-q', '-n', '2', '-i', '0.2'], { cwd: sub }));
    const results = await Promise.all(runs.map((r) => r.done));
    for (const r of results) expect(r.status, r.stderr).toBe(0);
    const files = readdirSync(sub).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(3);
    for (const f of files) {
      expect(f).toMatch(/^hostseries-\d{8}T\d{6}Z(-\d+)?\.json$/);
      expect((await readTimeSeriesJson(join(sub, f))).samplesByHost.get(hostname())!.length).toBeGreaterThanOrEqual(2);
    }
    expect(readdirSync(sub).filter((f) => f.includes('partial'))).toEqual([]);
  });
});

describe('-o - (stdout) and - (stdin)', () => {
  it('record -o -: the JSON on stdout, status and the command\'s output on stderr; summary - reads it', () => {
    const r = cli(['record', '-n', '2', '-i', '0.1', '-o', '-', '--', 'sh', '-c', 'echo from-the-command']);
    expect(r.status, r.stderr).toBe(0);
    const data = TimeSeriesData.fromDict(parseJson(r.stdout));
    expect(data.samplesByHost.get(hostname())!.length).toBeGreaterThanOrEqual(1);
    expect(r.stderr).toContain('from-the-command');
    expect(r.stderr).toContain('wrote the recording to stdout');
    // (The command line is in the data, as the watched process's cmdline; its output is not.)
    expect(r.stdout.split('\n')).not.toContain('from-the-command');
    // Nothing left behind: no '-' file, no stream.
    expect(existsSync(p('-'))).toBe(false);

    const s = cli(['summary', '-'], r.stdout);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/^stdin: 1 host, /);
    const bad = cli(['summary', '-'], 'not a recording\n');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('stdin');
    expect(bad.stderr).not.toContain(tmpdir());
  });

  it('convert - -o -: a stream through a pipe', () => {
    const stream = readFileSync(recordStream('piped.jsonl'), 'utf8');
    const r = cli(['convert', '-', '-o', '-'], stream);
    expect(r.status, r.stderr).toBe(0);
    expect(TimeSeriesData.fromDict(parseJson(r.stdout) as TimeSeriesDataDict).samplesByHost.get(hostname())).toHaveLength(2);
    const noOut = cli(['convert', '-'], stream);
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toContain('give -o');
  });
});

describe('convert -o: the same rules', () => {
  it('an existing file needs -f; a FIFO, a symbolic link or a directory never; a missing directory named as given', () => {
    const stream = recordStream('conv.jsonl');
    writeFileSync(p('conv-old.json'), 'old\n');
    execFileSync('mkfifo', [p('conv-fifo.json')]);
    writeFileSync(p('conv-target.json'), 'target\n');
    symlinkSync(p('conv-target.json'), p('conv-link.json'));
    execFileSync('mkdir', [p('conv-dir')]);

    const old = cli(['convert', stream, '-o', p('conv-old.json')]);
    expect(old.status).toBe(1);
    expect(old.stderr).toContain('exists; give --force');
    expect(readFileSync(p('conv-old.json'), 'utf8')).toBe('old\n');
    expect(cli(['convert', '-q', '-f', stream, '-o', p('conv-old.json')]).status).toBe(0);
    expect(readFileSync(p('conv-old.json'), 'utf8')).toMatch(/^\{\n {2}"collection_interval_seconds": 0\.1,/);

    const fifo = cli(['convert', '-f', stream, '-o', p('conv-fifo.json')]);
    expect(fifo.status).toBe(1);
    expect(fifo.stderr).toContain('it is a FIFO (named pipe), which is never replaced');
    expect(lstatSync(p('conv-fifo.json')).isFIFO()).toBe(true);

    const link = cli(['convert', '-f', stream, '-o', p('conv-link.json')]);
    expect(link.status).toBe(1);
    expect(link.stderr).toContain('it is a symbolic link, which is never replaced');
    expect(lstatSync(p('conv-link.json')).isSymbolicLink()).toBe(true);
    expect(readFileSync(p('conv-target.json'), 'utf8')).toBe('target\n');

    const d = cli(['convert', '-f', stream, '-o', p('conv-dir')]);
    expect(d.status).toBe(1);
    expect(d.stderr).toBe(`hostseries: ${p('conv-dir')}: cannot write the JSON: it is a directory\n`);

    const missing = cli(['convert', stream, '-o', 'conv-missing/x.json']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('hostseries: conv-missing/x.json: cannot write the JSON: directory conv-missing does not exist\n');
  });
});

describe('help and version on a stdout that fails', () => {
  it('a reader that goes away is fine; a full device is one message and exit 1', () => {
    for (const args of ['--help', 'record --help', '--version']) {
      const piped = sh(`$HS ${args} | head -c 1 >/dev/null; echo "rc=$?"`, { cwd: dir });
      expect(piped.stderr, args).toBe('');
      const full = sh(`$HS ${args} >/dev/full; echo "rc=$?"`, { cwd: dir });
      expect(full.stdout.trim(), args).toBe('rc=1');
      expect(full.stderr, args).toBe('hostseries: cannot write to stdout: ENOSPC: no space left on device, write\n');
    }
    // A pipe whose reader has exited before the help is written: EPIPE, for certain.
    for (const args of ['--help', 'record --help', '--version']) {
      expect(sh(`( sleep 0.3; $HS ${args}; echo "rc=$?" >&2 ) | true`, { cwd: dir }).stderr, args).toBe('rc=0\n');
    }
  });
});
