/**
 * What a user of the tarball gets: installing it runs nothing (npm 11 flags install scripts), and
 * every relative link of the pages it ships at its top resolves inside it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, requireBuild } from './support/built-package.js';

interface PackedFile {
  readonly path: string;
}

/** The files `npm pack` would put in the tarball (scripts not run: the build exists already). */
function packedFiles(): Set<string> {
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  const [pack] = JSON.parse(output) as [{ readonly files: readonly PackedFile[] }];
  return new Set(pack.files.map((file) => file.path));
}

/** The relative link targets of a Markdown page, without anchors. */
function relativeLinks(page: string): string[] {
  const text = readFileSync(join(repoRoot, page), 'utf8');
  return [...text.matchAll(/\]\(([^)#:\s]+)(?:#[^)]*)?\)/g)].map((match) => normalize(join(dirname(page), match[1] ?? '')));
}

describe('the packed package', () => {
  it('runs no script when installed (no preinstall, install, postinstall or prepare)', () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) expect(manifest.scripts[hook], hook).toBeUndefined();
    expect(manifest.scripts['prepack']).toContain('build');
  });

  it('ships every file that README.md, ARCHITECTURE.md and CONTRIBUTING.md link to', () => {
    requireBuild();
    const files = packedFiles();
    for (const page of ['README.md', 'ARCHITECTURE.md', 'CONTRIBUTING.md']) {
      expect(files.has(page), page).toBe(true);
      for (const link of relativeLinks(page)) expect(files.has(link), `${page} links to ${link}`).toBe(true);
    }
  });
});
