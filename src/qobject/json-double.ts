/**
 * A JSON number that QEMU keeps as a double although its value is integral
 * (`1.0`, `1.5e3`, `-0.0`). QEMU tells the two apart: a double where an
 * integer is expected is refused ("expected: integer") and prints with
 * "%.17g". A plain JS number cannot carry that distinction, so the parser
 * wraps such values; non-integral and out-of-range doubles stay plain numbers.
 */
export class JsonDouble {
  constructor(readonly value: number) {}
}
