// Runs on `npm install` / `npm ci` (the `prepare` hook): builds the native addon (release) and the
// TypeScript. With no Rust toolchain, a prebuilt binary for this platform is used when present.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: false });
  if (r.error) return { ok: false, error: r.error };
  return { ok: r.status === 0, status: r.status };
};
const npx = (args) => run(process.execPath, [join(root, 'node_modules', args[0]), ...args.slice(1)]);

const haveCargo = spawnSync('cargo', ['--version'], { stdio: 'ignore' }).status === 0;
const prebuilt = readdirSync(root).some((f) => /^hostseries\.linux-.*\.node$/.test(f));

if (haveCargo) {
  const r = npx(['@napi-rs/cli/dist/cli.js', 'build', '--platform', '--release',
    '--manifest-path', 'crates/node/Cargo.toml', '--output-dir', '.', '--js', 'index.js', '--dts', 'index.d.ts']);
  if (!r.ok) {
    console.error('hostseries: building the native addon failed (see cargo output above)');
    process.exit(1);
  }
} else if (!prebuilt) {
  console.error('hostseries: no Rust toolchain (cargo) and no prebuilt binary for this platform; install Rust from https://rustup.rs or use a published release');
  process.exit(1);
}

if (existsSync(join(root, 'node_modules', 'typescript'))) {
  const r = npx(['typescript/bin/tsc', '-p', 'tsconfig.build.json']);
  if (!r.ok) process.exit(1);
} else if (!existsSync(join(root, 'dist', 'index.js'))) {
  console.error('hostseries: TypeScript is not installed and dist/ is missing');
  process.exit(1);
}
