// The one place the package is built from: `npm install` / `npm ci` (the `prepare` hook) and the
// `build*` scripts all come here. `node scripts/build.mjs [native|ts|web]` builds the native addon
// (release), the TypeScript and/or the web UI (web/report/ and serve's web/dashboard/, type-checked, bundled with
// uPlot by esbuild into dist/web/, which `hostseries report` inlines into its pages); with no Rust toolchain a prebuilt binary for this platform is
// used when present. The napi arguments live here only: the loader is generated as binding.js /
// binding.d.ts (node-rs' naming), so it is never mistaken for the package entry (dist/index.js).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const what = process.argv[2] ?? 'all';
if (!['all', 'native', 'ts', 'web'].includes(what)) {
  console.error(`usage: node scripts/build.mjs [native|ts|web]  (got ${JSON.stringify(what)})`);
  process.exit(2);
}
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: false });
  if (r.error) return { ok: false, error: r.error };
  return { ok: r.status === 0, status: r.status };
};
const npx = (args) => run(process.execPath, [join(root, 'node_modules', args[0]), ...args.slice(1)]);

export const NAPI_BUILD_ARGS = ['build', '--platform', '--release', '--manifest-path', 'crates/node/Cargo.toml',
  '--output-dir', '.', '--js', 'binding.js', '--dts', 'binding.d.ts'];

if (what === 'all' || what === 'native') {
  const haveCargo = spawnSync('cargo', ['--version'], { stdio: 'ignore' }).status === 0;
  const prebuilt = readdirSync(root).some((f) => /^hostseries\.linux-.*\.node$/.test(f));
  if (haveCargo) {
    if (!npx(['@napi-rs/cli/dist/cli.js', ...NAPI_BUILD_ARGS]).ok) {
      console.error('hostseries: building the native addon failed (see cargo output above)');
      process.exit(1);
    }
  } else if (!prebuilt) {
    console.error('hostseries: no Rust toolchain (cargo) and no prebuilt binary for this platform; install Rust from https://rustup.rs or use a published release');
    process.exit(1);
  }
}

if (what === 'all' || what === 'ts') {
  if (existsSync(join(root, 'node_modules', 'typescript'))) {
    if (!npx(['typescript/bin/tsc', '-p', 'tsconfig.build.json']).ok) process.exit(1);
  } else if (!existsSync(join(root, 'dist', 'index.js'))) {
    console.error('hostseries: TypeScript is not installed and dist/ is missing');
    process.exit(1);
  }
}

// The report UI: one script and one stylesheet, no imports left, nothing fetched at run time.
if (what === 'all' || what === 'web') {
  const out = join(root, 'dist', 'web');
  if (existsSync(join(root, 'node_modules', 'esbuild')) && existsSync(join(root, 'web', 'report', 'main.ts'))) {
    if (!npx(['typescript/bin/tsc', '-p', 'web/tsconfig.json']).ok) process.exit(1);
    const { build } = await import('esbuild');
    const common = { bundle: true, minify: true, legalComments: 'none', logLevel: 'warning', absWorkingDir: root };
    try {
      await build({ ...common, entryPoints: ['web/report/main.ts'], outfile: join(out, 'report.js'), format: 'iife', target: 'es2022', platform: 'browser' });
      await build({ ...common, entryPoints: ['web/report/style.css'], outfile: join(out, 'report.css') });
      // serve's dashboard: the same UI over the read API, served as files (its CSP has no inline script).
      await build({ ...common, entryPoints: ['web/dashboard/main.ts'], outfile: join(out, 'dashboard.js'), format: 'iife', target: 'es2022', platform: 'browser' });
      await build({ ...common, entryPoints: ['web/dashboard/style.css'], outfile: join(out, 'dashboard.css') });
    } catch (e) {
      console.error(`hostseries: bundling the report UI failed: ${e.message}`);
      process.exit(1);
    }
  } else if (!existsSync(join(out, 'report.js'))) {
    console.error('hostseries: esbuild is not installed and dist/web/report.js is missing (hostseries report needs it)');
    process.exit(1);
  }
}
