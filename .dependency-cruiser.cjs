// The layer rule of src/, checked by `npm run check:layers` (dependency-cruiser).
//
// Floors, ground first. A folder imports only from its own floor or below, never
// above; "a → b" on one floor means b may import a, not the reverse. Type-only
// imports count, and no import circle is allowed anywhere in src/.
//
//   9  cli ··························· qapi/  (the build-time generator; only cli/ imports it)
//   8  daemon                          (composition root)
//   7½ web                             (the web console: HTTP, WebSockets, the page, /metrics)
//   7  monitor                         (HMP, QMP on a chardev)
//   6  commands                        (QMP command handlers, the daemon-control context)
//   5  qmp                             (the protocol only: no client/, chardev/, device/)
//   4  objects → chardev → device     (objects: TLS credentials, authorization; QEMU's -object;
//                                       device/ also imports demux/)
//   3  client                          (a library of its own: only base/, qobject/, qapi-runtime/,
//                                       generated/; of src/, only cli/ and index.ts import it)
//   2  qapi-runtime → generated
//   1  base · qobject · options · demux  (demux/: the demux protocol core, pure TypeScript:
//                                       it imports nothing, not even Node's modules, so
//                                       that it can be bundled for the guest end)
//
// src/index.ts (the package entry) may import anything but qapi/, and nothing imports it;
// nothing in src/ imports test/ or bench/, which in turn may import src/ freely.

const GROUND = ['base', 'qobject', 'options'];
const QAPI = [...GROUND, 'qapi-runtime', 'generated'];
const CHARDEV = [...QAPI, 'objects', 'chardev', 'device'];

// Each src/ folder and the src/ folders it may import besides itself. A folder
// missing from this table fails the check until it is given its floor here.
const LAYERS = {
  // 1: the ground floor, usable by everything
  base: GROUND,
  qobject: GROUND,
  options: GROUND,
  // The demux protocol core: nothing but itself (see the rule demux-pure below).
  demux: [],
  // 2: what generated code imports, then the generated code
  'qapi-runtime': GROUND,
  generated: [...GROUND, 'qapi-runtime'],
  // 3: the QMP client library, its own package entry (chardevd/client); beside the
  // daemon's floors, not under them: of src/, only cli/ imports it
  client: ['base', 'qobject', 'qapi-runtime', 'generated'],
  // 4: objects (what sockets take their TLS from), backends, then frontends
  objects: QAPI,
  chardev: [...QAPI, 'objects'],
  device: [...QAPI, 'objects', 'chardev', 'demux'],
  // 5: the protocol knows no chardev, device or client
  qmp: QAPI,
  // 6 to 9 (web/ is 7½: above monitor/, below daemon/)
  commands: [...CHARDEV, 'qmp'],
  monitor: [...CHARDEV, 'qmp', 'commands'],
  web: [...CHARDEV, 'qmp', 'commands', 'monitor'],
  daemon: [...CHARDEV, 'qmp', 'commands', 'monitor', 'web'],
  cli: [...CHARDEV, 'demux', 'client', 'qmp', 'commands', 'monitor', 'web', 'daemon', 'qapi'],
  // Build time: compiled as its own TypeScript project (src/qapi/tsconfig.json),
  // so it can only import itself; it writes import lines for generated/ as text.
  qapi: [],
};

const alternatives = (names) => names.map((name) => name.replace(/[.-]/g, '\\$&')).join('|');

const layerRules = Object.entries(LAYERS).map(([folder, allowed]) => ({
  name: `layer-${folder}`,
  comment: `src/${folder}/ may import only ${allowed.length === 0 ? 'itself' : `itself and ${allowed.map((name) => `${name}/`).join(', ')}`}`,
  severity: 'error',
  from: { path: `^src/${alternatives([folder])}/` },
  to: { path: '^src/[^/]+/', pathNot: `^src/(${alternatives([folder, ...allowed])})/` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'layer-unknown-folder',
      comment: 'every folder of src/ has its floor in the layer table of .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/[^/]+/', pathNot: `^src/(${alternatives(Object.keys(LAYERS))})/` },
      to: {},
    },
    {
      name: 'layer-index',
      comment: 'src/index.ts, the package entry, may import any folder but qapi/ (build time)',
      severity: 'error',
      from: { path: '^src/index\\.ts$' },
      to: { path: '^src/qapi/' },
    },
    {
      name: 'demux-pure',
      comment: 'src/demux/ is the protocol core bundled for the guest end: no Node module, no package',
      severity: 'error',
      from: { path: '^src/demux/' },
      to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'no-import-of-entry',
      comment: 'src/index.ts is the package entry: it may import anything, nothing in src/ imports it',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'no-test-from-src',
      comment: 'src/ never imports test/ or bench/',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-circular',
      comment: 'no import circle among the files of src/, type-only imports included',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-unresolvable',
      comment: 'every import of src/ resolves, so that no edge escapes the checks above',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Type-only imports are layer edges too.
    tsPreCompilationDeps: true,
    // NodeNext resolution: './x.js' in an import resolves to x.ts.
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
  },
};
