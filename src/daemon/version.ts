import { readFileSync } from 'node:fs';
import { packageFile } from '../base/package-root.js';
import type { VersionInfo } from '../generated/qapi-types.gen.js';

/** The package version, from package.json. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** chardevd's version in QEMU's VersionInfo shape, as the greeting and query-version report it. */
export function chardevdVersion(): VersionInfo {
  const version = packageVersion();
  const [major = 0, minor = 0, micro = 0] = version.split(/[.+-]/).map((part) => Number.parseInt(part, 10) || 0);
  return { qemu: { major, minor, micro }, package: `chardevd-${version}` };
}
