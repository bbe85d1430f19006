import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { SchemaCompleter } from '../../../src/cli/schema-completer.js';
import { qmpSchemaInfo } from '../../../src/generated/qapi-introspect.gen.js';

suite('SchemaCompleter', () => {
  const completer = new SchemaCompleter(qmpSchemaInfo as unknown as ConstructorParameters<typeof SchemaCompleter>[0]);

  test('completes command names from the first word', () => {
    assert.deepEqual(completer.complete('ringbuf-'), [['ringbuf-read', 'ringbuf-read-cursor', 'ringbuf-write'], 'ringbuf-']);
    assert.deepEqual(completer.complete('query-v'), [['query-version'], 'query-v']);
  });

  test('completes argument names, dotted into objects and through union branches, leaving out those given', () => {
    assert.deepEqual(completer.complete('ringbuf-read '), [['device=', 'size=', 'format='], '']);
    assert.deepEqual(completer.complete('ringbuf-read device=rb '), [['size=', 'format='], '']);
    const [nested] = completer.complete('chardev-add backend.data.s');
    assert.ok(nested.includes('backend.data.size='), nested.join(' '));
    assert.ok(nested.includes('backend.data.server='), nested.join(' '));
    assert.deepEqual(completer.complete('chardev-add id=x'), [[], 'id=x']);
  });
});
