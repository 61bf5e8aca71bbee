/** Boxes on the output frame: even pixel edges (yuv420 chroma is subsampled by two). */
import type { Box } from '../plan/types.ts';

export const even = (v: number): number => Math.max(0, Math.floor(v / 2) * 2);

/**
 * `n` equal cells filling `area` as a grid: ceil(√n) columns, the rows it takes; an
 * unfilled last row is centred (as LiveKit's grid does). Returns boxes in fill order.
 */
export function gridCells(area: Box, n: number, limits: { maxColumns?: number; maxRows?: number } = {}): Box[] {
  if (n <= 0) return [];
  let cols = Math.ceil(Math.sqrt(n));
  if (limits.maxColumns !== undefined) cols = Math.min(cols, limits.maxColumns);
  let rows = Math.ceil(n / cols);
  if (limits.maxRows !== undefined && rows > limits.maxRows) {
    rows = limits.maxRows;
    cols = Math.min(limits.maxColumns ?? Infinity, Math.ceil(n / rows));
  }
  const count = Math.min(n, cols * rows);
  const cellW = even(area.width / cols);
  const cellH = even(area.height / rows);
  const top = area.y + even((area.height - rows * cellH) / 2);
  const boxes: Box[] = [];
  for (let i = 0; i < count; i++) {
    const row = Math.floor(i / cols);
    const inRow = row < rows - 1 ? cols : count - cols * (rows - 1);
    const left = area.x + even((area.width - inRow * cellW) / 2);
    boxes.push({ x: left + (i % cols) * cellW, y: top + row * cellH, width: cellW, height: cellH, z: area.z });
  }
  return boxes;
}

/** A full grid of `cols × rows` cells (row-major), for regions whose cells are fixed. */
export function fixedCells(area: Box, cols: number, rows: number): Box[] {
  const cellW = even(area.width / cols);
  const cellH = even(area.height / rows);
  const boxes: Box[] = [];
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) boxes.push({ x: area.x + col * cellW, y: area.y + row * cellH, width: cellW, height: cellH, z: area.z });
  }
  return boxes;
}

/** `*` any run, `?` one character; everything else literal. */
export function globMatcher(glob: string): (value: string) => boolean {
  const pattern = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return (value) => pattern.test(value);
}
