// Shared by the bin entries: load a module from dist/ with a clear message when the
// project has not been built yet, instead of a bare ERR_MODULE_NOT_FOUND.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

export async function runFromBin(relativeToDist) {
  const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  const target = path.join(root, 'dist', relativeToDist);
  if (!existsSync(target)) {
    console.error(
      `market-pipeline: ${path.relative(process.cwd(), target)} is missing; run \`npm run build\` first.`,
    );
    process.exit(1);
  }
  const entry = await import(pathToFileURL(target).href);
  await entry.main(process.argv.slice(2));
}
