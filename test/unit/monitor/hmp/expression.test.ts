import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { evaluateExpression, HmpExpressionError } from '../../../../src/monitor/hmp/expression.js';

const value = (text: string): bigint => evaluateExpression(text, 0).value;

suite('HMP expressions', () => {
  test('reads decimal, octal, hex and character literals', () => {
    assert.equal(value('42'), 42n);
    assert.equal(value('010'), 8n);
    assert.equal(value('0x1F'), 31n);
    assert.equal(value("'a'"), 97n);
  });

  test('binds * / % tighter than & | ^, and those tighter than + -, as QEMU does', () => {
    assert.equal(value('2+3*4'), 14n);
    assert.equal(value('1+2&3'), 3n, '1 + (2 & 3)');
    assert.equal(value('(2+3)*4 - 1'), 19n);
    assert.equal(value('-7/2'), -3n, 'truncates toward zero, as C');
    assert.equal(value('~0'), -1n);
  });

  test('wraps at 64 bits', () => {
    assert.equal(value('0xffffffffffffffff'), -1n);
    assert.equal(value('0x7fffffffffffffff+1'), -(2n ** 63n));
  });

  test('stops where the expression ends', () => {
    assert.deepEqual(evaluateExpression('0x 5', 0), { value: 0n, end: 1 });
    assert.deepEqual(evaluateExpression(' 12  rest', 0), { value: 12n, end: 5 });
  });

  test("fails with QEMU's messages", () => {
    const fails = (text: string, message: string): void => assert.throws(() => value(text), new HmpExpressionError(message));
    fails('', 'unexpected end of expression');
    fails('(1', "')' expected");
    fails("'", 'character constant expected');
    fails("'ab'", "missing terminating ' character");
    fails('$pc', 'unknown register');
    fails('1/0', 'division by zero');
    fails('5%0', 'division by zero');
    fails('99999999999999999999', 'number too large');
    fails('x', "invalid char 'x' in expression");
  });
});
