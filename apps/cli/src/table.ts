import { bold, colorEnabled } from './style.js';

/**
 * Left-aligned columns two spaces apart; the last column is not padded. The header is bold when stdout is a
 * terminal that takes colour (see style.ts), plain in pipes and files.
 */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  color: boolean = colorEnabled(process.stdout),
): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const lines = all.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
  const [first = '', ...rest] = lines;
  return [bold(first, color), ...rest];
}
