import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { QapiSchemaError } from '../../../src/qapi/error.js';

suite('QapiSchemaError', () => {
  test('prints file:line: message', () => {
    const error = new QapiSchemaError({ file: 'qapi/char.json', line: 12 }, "'data' must be an object");
    assert.equal(error.message, "qapi/char.json:12: 'data' must be an object");
    assert.equal(String(error), error.message);
    assert.equal(error.detail, "'data' must be an object");
    assert.deepEqual(error.info, { file: 'qapi/char.json', line: 12 });
  });

  test('keeps a syntax error column as a property without printing it', () => {
    const error = new QapiSchemaError({ file: 'a.json', line: 3 }, "expected ':'", 10);
    assert.equal(error.column, 10);
    assert.equal(error.message, "a.json:3: expected ':'");
  });

  test('prints just the message when there is no location', () => {
    const error = new QapiSchemaError(undefined, "can't read schema file 'x.json': No such file or directory");
    assert.equal(error.message, "can't read schema file 'x.json': No such file or directory");
    assert.equal(error.column, undefined);
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'QapiSchemaError');
  });
});
