import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import type { QmpContext } from '../../../src/commands/context.js';
import { objectHandlers } from '../../../src/commands/objects.js';
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
});
