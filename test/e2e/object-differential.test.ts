import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { differentialSuite } from '../support/differential-suite.js';
import { certtoolSkipReason, makePki } from '../support/pki.js';
import { NEGOTIATE, type Transcript } from '../support/qmp-transcript.js';

/**
 * object-add, object-del and the TLS options of chardev-add sent to QEMU
 * 7.2 and to chardevd: the same replies, error texts included. Both read
 * the same certificate directories, made by certtool for the test.
 */

const pki = certtoolSkipReason() === undefined ? makePki() : undefined;
after(() => pki?.remove());
const root = pki?.root ?? '/nonexistent';

if (pki !== undefined) {
  // ca-cert.pem a symbolic link to itself: access() fails with ELOOP, for root too.
  mkdirSync(join(root, 'loop'));
  symlinkSync(join(root, 'loop', 'ca-cert.pem'), join(root, 'loop', 'ca-cert.pem'));
  // ca-cert.pem that is no certificate.
  mkdirSync(join(root, 'garbage'));
  writeFileSync(join(root, 'garbage', 'ca-cert.pem'), 'not a certificate\n');
}

const add = (args: object): string => JSON.stringify({ execute: 'object-add', arguments: args });
const x509 = (id: string, dir: string | undefined, endpoint = 'server'): string =>
  add({ 'qom-type': 'tls-creds-x509', id, ...(dir === undefined ? {} : { dir }), endpoint });
const socket = (id: string, addr: object, data: object): string =>
  JSON.stringify({ execute: 'chardev-add', arguments: { id, backend: { type: 'socket', data: { addr, ...data } } } });
const qom = (command: string, args: object, id?: string): string => JSON.stringify({ execute: command, arguments: args, ...(id === undefined ? {} : { id }) });
const tcp = { type: 'inet', data: { host: '127.0.0.1', port: '0' } };

const transcripts: Transcript[] = [
  {
    name: 'object-add: a missing dir, no dir, an unknown endpoint, unreadable and bad files, a bad id, duplicate ids, missing members',
    steps: [
      NEGOTIATE,
      x509('t1', join(root, 'nonexistent')),
      x509('t1', undefined),
      x509('t1', join(root, 'server'), 'bogus'),
      x509('t1', join(root, 'loop')),
      x509('t1', join(root, 'garbage'), 'client'),
      x509('1a', join(root, 'server')),
      x509('tls0', join(root, 'server')),
      x509('tls0', join(root, 'server')),
      x509('tls0', join(root, 'nonexistent')),
      add({ 'qom-type': 'authz-simple', id: 'a0' }),
      add({ 'qom-type': 'authz-list', id: 'a0', rules: [{ match: 'x' }] }),
      add({ 'qom-type': 'authz-list', id: 'a0', rules: [{ match: 'x', policy: 'maybe' }] }),
      add({ 'qom-type': 'authz-list', id: 'tls0' }),
      add({ 'qom-type': 'bogus', id: 'b0' }),
      add({ 'qom-type': 'tls-creds-psk', id: 'p0', dir: join(root, 'server'), endpoint: 'server' }),
      add({ 'qom-type': 'tls-creds-anon', id: 'n0', endpoint: 'server' }),
      '{"execute":"object-del","arguments":{"id":"n0"}}',
      '{"execute":"object-del","arguments":{"id":"n0"}}',
      '{"execute":"object-del","arguments":{}}',
    ],
  },
  {
    name: "chardev-add's TLS options: unknown credentials, credentials on a unix socket, not credentials, the wrong endpoint, tls-authz alone; object-del of credentials in use",
    steps: [
      NEGOTIATE,
      x509('tls0', join(root, 'server')),
      x509('tlsc', join(root, 'client'), 'client'),
      add({ 'qom-type': 'authz-simple', id: 'auth0', identity: 'O=Example,CN=client1' }),
      socket('c1', tcp, { 'tls-creds': 'nope', wait: false }),
      socket('c1', { type: 'unix', data: { path: join(root, 'x.sock') } }, { 'tls-creds': 'nope' }),
      socket('c1', { type: 'unix', data: { path: join(root, 'x.sock') } }, { 'tls-creds': 'tls0' }),
      socket('c1', tcp, { 'tls-creds': 'auth0' }),
      socket('c1', tcp, { 'tls-creds': 'tlsc', wait: false }),
      socket('c1', tcp, { 'tls-creds': 'tls0', server: false }),
      socket('c1', tcp, { 'tls-authz': 'auth0', wait: false }),
      // QEMU 7.2's sockets have no tls-hostname (a client checks the host it connects to).
      socket('c1', tcp, { 'tls-creds': 'tls0', 'tls-hostname': 'example.org', wait: false }),
      socket('c1', tcp, { 'tls-creds': 'tls0', 'tls-authz': 'auth0', wait: false }),
      '{"execute":"object-del","arguments":{"id":"tls0"}}',
      '{"execute":"object-del","arguments":{"id":"auth0"}}',
      socket('c2', tcp, { 'tls-creds': 'tls0', wait: false }),
      '{"execute":"chardev-remove","arguments":{"id":"c1"}}',
    ],
  },
  {
    name: 'qom-list and qom-get of /objects and of each kind of object; unknown paths and properties',
    steps: [
      NEGOTIATE,
      x509('tls0', join(root, 'server')),
      add({ 'qom-type': 'tls-creds-psk', id: 'p0', dir: join(root, 'server'), endpoint: 'server' }),
      add({ 'qom-type': 'tls-creds-anon', id: 'n0' }),
      add({ 'qom-type': 'authz-simple', id: 'a0', identity: 'O=Example,CN=client1' }),
      add({ 'qom-type': 'authz-list', id: 'l0', policy: 'allow', rules: [{ match: 'CN=*', policy: 'deny', format: 'glob' }, { match: 'x' }] }),
      add({ 'qom-type': 'authz-list', id: 'l1' }),
      qom('qom-list', { path: '/objects' }, 'unordered'),
      qom('qom-list', { path: '/objects/tls0' }),
      qom('qom-list', { path: '/objects/p0' }),
      qom('qom-list', { path: '/objects/n0' }),
      qom('qom-list', { path: '/objects/a0' }),
      qom('qom-list', { path: '/objects/l0' }),
      qom('qom-list', { path: '//objects/tls0/' }),
      qom('qom-list', { path: '/objects/nope' }),
      qom('qom-list', { path: '/objects/tls0/type' }),
      qom('qom-list', { path: '/nope' }),
      qom('qom-list', { path: 'nope' }),
      qom('qom-list', { path: '' }),
      qom('qom-list', {}),
      ...['type', 'endpoint', 'dir', 'verify-peer', 'priority', 'sanity-check', 'passwordid', 'loaded', 'username', 'identity'].map((property) =>
        qom('qom-get', { path: '/objects/tls0', property }),
      ),
      ...['type', 'endpoint', 'dir', 'username', 'loaded'].map((property) => qom('qom-get', { path: '/objects/p0', property })),
      ...['type', 'endpoint', 'dir', 'verify-peer', 'loaded', 'sanity-check'].map((property) => qom('qom-get', { path: '/objects/n0', property })),
      qom('qom-get', { path: '/objects/a0', property: 'identity' }),
      qom('qom-get', { path: '/objects/a0', property: 'policy' }),
      qom('qom-get', { path: '/objects/l0', property: 'policy' }),
      qom('qom-get', { path: '/objects/l0', property: 'rules' }, 'unordered'),
      qom('qom-get', { path: '/objects/l1', property: 'policy' }),
      qom('qom-get', { path: '/objects/l1', property: 'rules' }),
      qom('qom-get', { path: '/objects', property: 'type' }),
      qom('qom-get', { path: '/objects', property: 'a0' }),
      qom('qom-get', { path: '/objects', property: 'nope' }),
      qom('qom-get', { path: '/', property: 'objects' }),
      qom('qom-get', { path: '/', property: 'type' }),
      qom('qom-get', { path: '/objects/nope', property: 'type' }),
      qom('qom-get', { path: '', property: 'type' }),
      qom('qom-get', { path: '/objects/a0' }),
      '{"execute":"object-del","arguments":{"id":"a0"}}',
      qom('qom-list', { path: '/objects/a0' }),
      qom('qom-list', { path: '/objects' }, 'unordered'),
    ],
  },
];

/**
 * QEMU lists an object's children, and writes a rule's members, in the
 * order of its hash tables: replies with id "unordered" are compared
 * with their lists and members sorted.
 */
function normaliseRun(lines: readonly string[]): string[] {
  return lines.map((line) => {
    const reply = JSON.parse(line) as { return?: unknown; id?: unknown };
    if (reply.id !== 'unordered' || !Array.isArray(reply.return)) return line;
    const sorted = reply.return.map((entry: object) => JSON.stringify(Object.fromEntries(Object.entries(entry).sort()))).sort();
    return JSON.stringify({ return: sorted, id: reply.id });
  });
}

differentialSuite('object-add, object-del and TLS chardevs: chardevd answers as QEMU 7.2', pki === undefined ? [] : transcripts, normaliseRun);
