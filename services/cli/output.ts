/**
 * How `idp` prints: `--json` gives one JSON document (or JSON lines, for streams of events) that
 * scripts parse; without it, a table for a person. Times are ISO 8601 UTC in both.
 */
export interface TextSink {
  write(text: string): void;
}

export interface Column<Row> {
  header: string;
  value: (row: Row) => unknown;
}

/** One cell as text: null and undefined as '-', arrays joined, objects as JSON. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(cellText).join(' ');
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A plain-text table: a header row, then one row per item, columns padded to their widest cell. */
export function renderTable<Row>(rows: readonly Row[], columns: ReadonlyArray<Column<Row>>): string {
  const cells = rows.map((row) => columns.map((column) => cellText(column.value(row)).replace(/\s*\n\s*/g, ' ')));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((value, i) => (i === values.length - 1 ? value : value.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

/** `key  value` lines, for one record (`idp user show`). */
export function renderRecord(entries: ReadonlyArray<[string, unknown]>): string {
  const width = Math.max(0, ...entries.map(([key]) => key.length));
  return entries.map(([key, value]) => `${key.padEnd(width)}  ${cellText(value)}`.trimEnd()).join('\n') + '\n';
}

export function printJson(sink: TextSink, value: unknown): void {
  sink.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One JSON document per line (export, tail, audit --json-lines): what `jq -c` and log shippers read. */
export function printJsonLine(sink: TextSink, value: unknown): void {
  sink.write(`${JSON.stringify(value)}\n`);
}

/** A table, or with `json` the rows as one JSON array. */
export function printRows<Row>(sink: TextSink, json: boolean, rows: readonly Row[], columns: ReadonlyArray<Column<Row>>): void {
  if (json) printJson(sink, rows);
  else sink.write(renderTable(rows, columns));
}
