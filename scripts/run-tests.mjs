#!/usr/bin/env node
// Runs every compiled test file (packages/*/dist-test/**/*.test.js) and the repository-level
// tests (test/*.test.mjs) with node's test runner.
// Node 20's `node --test` takes no globs, so the files are collected here.
// Usage: node scripts/run-tests.mjs [path-substring ...]   (filters the files)
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = [];
for (const pkg of readdirSync(join(root, 'packages'))) {
  const dir = join(root, 'packages', pkg, 'dist-test');
  try {
    statSync(dir);
  } catch {
    continue;
  }
  walk(dir, files);
}
// Repository-level tests (README examples and the like) live in test/*.test.mjs.
for (const name of readdirSync(join(root, 'test'))) {
  if (name.endsWith('.test.mjs')) files.push(join(root, 'test', name));
}
const selected = files
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (selected.length === 0) {
  console.error('run-tests: no test files found (did the build run?)');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-concurrency=2', ...selected],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
