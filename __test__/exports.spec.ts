/**
 * The public API of the built package, by name: the runtime exports of dist/index.js and every
 * exported name (types too) of dist/index.d.ts. The snapshot makes an export added or removed
 * by accident show in review; update it with `npx vitest run -u` when the change is meant.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

beforeAll(() => {
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`);
}, 120_000);

describe('the public API of the built package', () => {
  it('exports these values at run time', () => {
    const mod = require(join(ROOT, 'dist', 'index.js')) as Record<string, unknown>;
    const names = Object.keys(mod).sort();
    expect(names).toMatchSnapshot();
    for (const n of names) expect(mod[n], n).toBeDefined();
  });

  it('declares these names (values and types) in index.d.ts', () => {
    const file = join(ROOT, 'dist', 'index.d.ts');
    const program = ts.createProgram([file], { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, types: ['node'] });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`${file} not found`);
    const symbol = checker.getSymbolAtLocation(source);
    if (!symbol) throw new Error(`${file} is not a module`);
    const kinds = checker.getExportsOfModule(symbol).map((s) => {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      const kind = target.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Function | ts.SymbolFlags.Variable) ? 'value' : 'type';
      return `${kind} ${s.getName()}`;
    });
    expect(kinds.sort()).toMatchSnapshot();
  });
});
