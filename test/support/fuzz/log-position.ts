import Database from 'better-sqlite3';

/**
 * The embedded server's SQLite log, opened read-only beside the running server (WAL lets a
 * reader look while the server writes): its last position, and the types appended after one.
 * Appends are durable before a response is sent, so a request's events are there by its answer.
 * The log sealer's `log.checkpoint_sealed` is left out: background work of the server, caused by
 * no request, that may land between any two looks.
 */
export interface LogPosition {
  last(): number;
  typesAfter(position: number): string[];
  close(): void;
}

export function openLogReadOnly(file: string): LogPosition {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const last = db.prepare<[], { last: number | null }>('SELECT max(position) AS last FROM events');
  const after = db.prepare<[number], { type: string }>("SELECT type FROM events WHERE position > ? AND type != 'log.checkpoint_sealed' ORDER BY position");
  return {
    last: () => last.get()?.last ?? 0,
    typesAfter: (position) => after.all(position).map((row) => row.type),
    close: () => db.close(),
  };
}
