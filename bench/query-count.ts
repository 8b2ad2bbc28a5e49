import pg from 'pg';

/**
 * Counts the statements every pg client of this process sends (TypeORM's pool, the Listener and any
 * other pool all use `pg.Client`), except those `skip` names. `stop` puts `query` back as it was.
 */
export function countQueries(skip: (client: pg.Client, text: string) => boolean): { count: () => number; stop: () => void } {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  let n = 0;
  proto.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string } | undefined;
    const text = typeof first === 'string' ? first : (first?.text ?? '');
    if (!skip(this, text)) n++;
    return original.apply(this, args);
  };
  return {
    count: () => n,
    stop: () => {
      proto.query = original;
    },
  };
}
