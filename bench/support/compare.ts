/** One measure of chardevd and of the peer it is compared with, taken in the same run. */
export interface Comparison {
  readonly measure: string;
  readonly ours: number;
  readonly peer: number;
  /** Decimals to print (default 0). */
  readonly digits?: number;
  /** Printed instead of the numbers, e.g. a median with its range. */
  readonly oursText?: string;
  readonly peerText?: string;
}

/** ours / peer, as the tables print it; "n/a" when the peer's figure is missing or zero. */
export function ratio(ours: number, peer: number): string {
  return Number.isFinite(ours) && Number.isFinite(peer) && peer !== 0 ? `${(ours / peer).toFixed(2)}x` : 'n/a';
}

const figure = (value: number, digits: number): string =>
  Number.isFinite(value) ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';

/**
 * A Markdown table of chardevd's figures against the peer's from the same
 * run, with the ratio: what every benchmark prints, so that no figure of
 * ours is shown without the peer's beside it.
 */
export function comparisonTable(peerName: string, rows: readonly Comparison[], oursName = 'chardevd'): string {
  const cells = rows.map((row) => [
    row.measure,
    row.oursText ?? figure(row.ours, row.digits ?? 0),
    row.peerText ?? figure(row.peer, row.digits ?? 0),
    ratio(row.ours, row.peer),
  ]);
  const header = ['measure', oursName, peerName, 'ratio'];
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((cell) => cell[i]!.length)));
  const line = (cell: string[]): string => `| ${cell.map((text, i) => (i === 0 ? text.padEnd(widths[i]!) : text.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((width, i) => (i === 0 ? '-'.repeat(width + 2) : `${'-'.repeat(width + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...cells.map(line)].join('\n');
}
