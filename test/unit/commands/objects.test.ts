import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import type { QmpContext } from '../../../src/commands/context.js';
import { objectHandlers } from '../../../src/commands/objects.js';
import { ObjectError, ObjectPathNotFoundError } from '../../../src/objects/object-error.js';
import { ObjectRegistry } from '../../../src/objects/object-registry.js';

const contextWith = (objects: ObjectRegistry): QmpContext => ({ daemon: { objects } }) as unknown as QmpContext;

suite('object commands', () => {
  test("object-add, query-objects and object-del work on the daemon's objects", async () => {
    const objects = new ObjectRegistry();
    const context = contextWith(objects);
    assert.deepEqual(await objectHandlers['object-add']({ 'qom-type': 'authz-simple', id: 'a0', identity: 'x' }, context), {});
    assert.deepEqual(await objectHandlers['query-objects'](undefined, context), [{ id: 'a0', 'qom-type': 'authz-simple' }]);
    assert.deepEqual(await objectHandlers['object-del']({ id: 'a0' }, context), {});
    assert.deepEqual(await objectHandlers['query-objects'](undefined, context), []);
  });

  test('qom-list-types lists the concrete types, abstract ones when asked, filtered by what they implement', async () => {
    const list = async (args: { implements?: string; abstract?: boolean }): Promise<string[]> =>
      (await objectHandlers['qom-list-types'](args, contextWith(new ObjectRegistry()))).map((type) => type.name);
    assert.deepEqual(await list({}), ['tls-creds-x509', 'tls-creds-psk', 'tls-creds-anon', 'authz-simple', 'authz-list']);
    assert.deepEqual(await list({ implements: 'tls-creds' }), ['tls-creds-x509', 'tls-creds-psk', 'tls-creds-anon']);
    assert.deepEqual(await list({ implements: 'authz', abstract: true }), ['authz-simple', 'authz-list', 'authz']);
    assert.deepEqual(await list({ implements: 'memory-backend' }), []);
    assert.equal((await list({ abstract: true })).length, 8);
  });

  test("qom-list names the root, /objects with one child per object, and each object's properties in QEMU 7.2's order", async () => {
    const objects = new ObjectRegistry();
    objects.add({ 'qom-type': 'authz-simple', id: 'a0', identity: 'x' });
    objects.add({ 'qom-type': 'tls-creds-anon', id: 'n0' });
    const context = contextWith(objects);
    const names = async (path: string): Promise<string[]> => (await objectHandlers['qom-list']({ path }, context)).map(({ name, type }) => `${name}:${type}`);
    assert.deepEqual(await names('/'), ['type:string', 'objects:child<container>']);
    assert.deepEqual(await names('/objects'), ['type:string', 'a0:child<authz-simple>', 'n0:child<tls-creds-anon>']);
    assert.deepEqual(await names('//objects/a0/'), ['type:string', 'identity:string']);
    assert.deepEqual(await names('/objects/n0'), ['type:string', 'endpoint:QCryptoTLSCredsEndpoint', 'dir:string', 'verify-peer:bool', 'priority:string', 'loaded:bool']);
  });

  test("qom-list and qom-get refuse paths chardevd does not model, and unknown properties, in QEMU 7.2's words", async () => {
    const objects = new ObjectRegistry();
    objects.add({ 'qom-type': 'authz-list', id: 'l0' });
    const context = contextWith(objects);
    for (const path of ['/machine', '/objects/nope', '/objects/l0/type', 'l0']) {
      assert.throws(() => objectHandlers['qom-list']({ path }, context), new ObjectPathNotFoundError(path));
      assert.throws(() => objectHandlers['qom-get']({ path, property: 'type' }, context), new ObjectPathNotFoundError(path));
    }
    assert.throws(() => objectHandlers['qom-list']({ path: '' }, context), new ObjectError("Path '' is ambiguous"));
    assert.throws(() => objectHandlers['qom-get']({ path: '', property: 'type' }, context), new ObjectPathNotFoundError(''));
    assert.throws(() => objectHandlers['qom-get']({ path: '/objects/l0', property: 'nope' }, context), new ObjectError("Property 'authz-list.nope' not found"));
    assert.throws(() => objectHandlers['qom-get']({ path: '/objects', property: 'nope' }, context), new ObjectError("Property 'container.nope' not found"));
  });

  test('qom-get reads what an object was made with, defaults where nothing was given, and children as paths', async () => {
    const objects = new ObjectRegistry();
    objects.add({ 'qom-type': 'tls-creds-anon', id: 'n0', endpoint: 'server', 'verify-peer': false });
    objects.add({ 'qom-type': 'authz-list', id: 'l0', rules: [{ match: 'x', policy: 'allow' }] });
    const context = contextWith(objects);
    const get = (path: string, property: string): unknown => objectHandlers['qom-get']({ path, property }, context);
    assert.deepEqual(
      ['type', 'endpoint', 'dir', 'verify-peer', 'priority', 'loaded'].map((property) => get('/objects/n0', property)),
      ['tls-creds-anon', 'server', '', false, '', true],
    );
    assert.equal(get('/objects/l0', 'policy'), 'deny');
    assert.deepEqual(get('/objects/l0', 'rules'), [{ match: 'x', policy: 'allow' }]);
    assert.equal(get('/objects', 'type'), 'container');
    assert.equal(get('/objects', 'l0'), '/objects/l0');
    assert.equal(get('/', 'objects'), '/objects');
  });
});
