// Architecture rules checked on the sources: backend.ts is the only door to Tauri, and the
// app loads nothing from the network (no CDN, no web fonts).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const uiRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const srcRoot = join(uiRoot, 'src');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const sources = walk(srcRoot).filter((p) => /\.(ts|js|svelte|css)$/.test(p));
const rel = (p: string) => relative(uiRoot, p).split('\\').join('/');

describe('the Tauri boundary', () => {
  it('finds the sources', () => {
    expect(sources.map(rel)).toContain('src/lib/backend.ts');
    expect(sources.length).toBeGreaterThan(10);
  });

  it('only backend.ts imports @tauri-apps', () => {
    const importer = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]@tauri-apps\//;
    const offenders = sources
      .filter((p) => rel(p) !== 'src/lib/backend.ts')
      .filter((p) => importer.test(readFileSync(p, 'utf8')))
      .map(rel);
    expect(offenders).toEqual([]);
  });

  it('app code does not even mention @tauri-apps outside backend.ts', () => {
    const offenders = sources
      .filter((p) => rel(p) !== 'src/lib/backend.ts' && !p.endsWith('.test.ts'))
      .filter((p) => readFileSync(p, 'utf8').includes('@tauri-apps'))
      .map(rel);
    expect(offenders).toEqual([]);
  });

  it('generated bindings are imported as types only', () => {
    const valueImport = /^\s*import\s+(?!type\b)[^;]*from\s*['"][./]*(?:lib\/)?bindings\//m;
    const offenders = sources.filter((p) => valueImport.test(readFileSync(p, 'utf8'))).map(rel);
    expect(offenders).toEqual([]);
  });
});

describe('self-contained', () => {
  it('index.html and the styles load nothing from the network', () => {
    const files = [join(uiRoot, 'index.html'), ...sources.filter((p) => /\.(css|svelte)$/.test(p))];
    const remote = /(?:src|href)\s*=\s*["']?(?:https?:)?\/\/|url\(\s*["']?(?:https?:)?\/\/|@import\s+(?:url\()?["']?(?:https?:)?\/\//i;
    const offenders = files.filter((p) => remote.test(readFileSync(p, 'utf8'))).map(rel);
    expect(offenders).toEqual([]);
  });

  it('the app makes no HTTP requests of its own', () => {
    const offenders = sources
      .filter((p) => !p.endsWith('.test.ts'))
      .filter((p) => /\bfetch\s*\(|XMLHttpRequest|new\s+WebSocket|EventSource/.test(readFileSync(p, 'utf8')))
      .map(rel);
    expect(offenders).toEqual([]);
  });
});
