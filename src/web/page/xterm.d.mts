// The types of the xterm.js module the build copies beside the page as xterm.mjs.
export * from '@xterm/xterm';
