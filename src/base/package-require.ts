let made: NodeJS.Require | undefined;

/**
 * require() for the CommonJS packages chardevd loads on demand (yaml,
 * serialport's poller, node-pty), resolved from this package. Made on
 * first use: node:module is not among what a daemon loads to start.
 */
export const packageRequire = (): NodeJS.Require => (made ??= process.getBuiltinModule('node:module').createRequire(import.meta.url));
