import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { HeapTrimmer, trimHeap } from '../../../src/base/heap-trim.js';

suite('trimming the C allocator’s heap', () => {
  test('trimHeap() runs and says whether memory went back', () => {
    assert.equal(typeof trimHeap(), 'boolean');
  });

  test('a HeapTrimmer can be made and disposed of, twice over', () => {
    const trimmer = new HeapTrimmer();
    trimmer.dispose();
    trimmer.dispose();
  });
});
