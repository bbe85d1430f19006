import { readFileSync } from 'node:fs';
import type { VersionInfo } from '../generated/qapi-types.gen.js';

/** The package version, read once from package.json (two levels above dist/src/daemon). */
function packageVersion(): string {
  const url = new URL('../../../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version: string };
  return pkg.version;
}

/** chardevd's version in QEMU's VersionInfo shape, as the greeting and query-version report it. */
export function chardevdVersion(): VersionInfo {
  const version = packageVersion();
  const [major = 0, minor = 0, micro = 0] = version.split(/[.+-]/).map((part) => Number.parseInt(part, 10) || 0);
  return { qemu: { major, minor, micro }, package: `chardevd-${version}` };
}
