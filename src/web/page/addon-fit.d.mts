// The types of the addon the build copies beside the page as addon-fit.mjs.
export * from '@xterm/addon-fit';
