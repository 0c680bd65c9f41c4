#!/usr/bin/env node
// Fails when packages/core gains a runtime dependency or an import of a Node built-in:
// the protocol core must install nothing and run unchanged in browsers.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

const core = new URL('../packages/core/', import.meta.url).pathname;
const problems = [];
const manifest = JSON.parse(readFileSync(join(core, 'package.json'), 'utf8'));
for (const field of [
  'dependencies',
  'peerDependencies',
  'optionalDependencies',
  'bundleDependencies',
]) {
  const deps = manifest[field];
  if (deps && Object.keys(deps).length > 0) {
    problems.push(`package.json ${field} must be empty, has: ${Object.keys(deps).join(', ')}`);
  }
}
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const importRe = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.(ts|js|mjs)$/.test(name)) {
      const text = readFileSync(path, 'utf8');
      for (const match of text.matchAll(importRe)) {
        const spec = match[1];
        if (builtins.has(spec) || spec.startsWith('node:')) {
          problems.push(`${path}: imports the Node built-in ${spec}`);
        } else if (!spec.startsWith('.')) {
          problems.push(`${path}: imports the package ${spec} (core has no dependencies)`);
        }
      }
    }
  }
}
walk(join(core, 'src'));
if (problems.length > 0) {
  console.error('packages/core purity check failed:\n  ' + problems.join('\n  '));
  process.exit(1);
}
console.log('packages/core: no runtime dependencies, no Node built-ins');
