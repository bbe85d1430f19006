// The types of the addon the build copies beside the page as addon-search.mjs.
export * from '@xterm/addon-search';
