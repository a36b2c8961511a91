import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The project's root folder (where package.json is), found from this file, so that paths to the
 * SQL migrations and the built console hold both when xiaoer runs from its TypeScript sources
 * (tsx: src/core/) and from the compiled output (build/src/core/).
 */
export const PROJECT_ROOT = findRoot(import.meta.dirname);

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}
