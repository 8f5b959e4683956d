// Both themes cover every view: colours are variables of app.css, defined for dark and for
// light, and no component writes a colour of its own (it would stay the same in both).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const srcRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const css = readFileSync(join(srcRoot, 'app.css'), 'utf8');

function block(selector: string): string {
  const start = css.indexOf(`${selector} {`);
  if (start < 0) throw new Error(`app.css has no ${selector} block`);
  return css.slice(start, css.indexOf('\n}', start));
}

const COLOUR = /#[0-9a-fA-F]{3,8}\b|rgba?\(|hsla?\(/;

function colourVariables(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/(--[a-z0-9-]+):\s*([^;]+);/g)) {
    if (m[1] && m[2] && (COLOUR.test(m[2]) || m[2].startsWith('var('))) out.set(m[1], m[2].trim());
  }
  return out;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

describe('themes', () => {
  const dark = colourVariables(block(':root'));
  const light = colourVariables(block(":root[data-theme='light']"));

  it('defines every colour of the dark theme for the light one too, differently', () => {
    expect(dark.size).toBeGreaterThan(30);
    const missing = [...dark.keys()].filter((k) => !light.has(k));
    expect(missing).toEqual([]);
    for (const k of ['--bg', '--panel', '--text', '--muted', '--border', '--critical-row']) {
      expect(light.get(k), k).not.toBe(dark.get(k));
    }
  });

  it('leaves colours to the variables: no component writes one', () => {
    const offenders = walk(srcRoot)
      .filter((p) => p.endsWith('.svelte'))
      .flatMap((p) => {
        const style = /<style[^>]*>([\s\S]*?)<\/style>/.exec(readFileSync(p, 'utf8'))?.[1] ?? '';
        return style
          .split('\n')
          .filter((line) => COLOUR.test(line))
          .map((line) => `${relative(srcRoot, p)}: ${line.trim()}`);
      });
    expect(offenders).toEqual([]);
  });

  it('writes colours in app.css only as variables of the two themes', () => {
    const rules = css.replace(block(':root'), '').replace(block(":root[data-theme='light']"), '');
    const literal = rules
      .split('\n')
      .filter((line) => COLOUR.test(line))
      .map((line) => line.trim());
    expect(literal).toEqual([]);
  });
});
