import { getMetadataArgsStorage } from 'typeorm';

/**
 * The columns of an entity as its TypeORM decorators declare them: the one place the mapping from
 * database names to property names is written, so every plain-SQL read of a row maps it the same way.
 */
export function columnsOf(entity: abstract new () => unknown): { select: (alias?: string) => string; name: (property: string) => string } {
  const columns = getMetadataArgsStorage()
    .columns.filter((c) => c.target === entity)
    .map((c) => ({ property: c.propertyName, column: (c.options.name as string | undefined) ?? c.propertyName }));
  const byProperty = new Map(columns.map((c) => [c.property, c.column]));
  return {
    select: (alias) => columns.map((c) => `${alias ? `${alias}.` : ''}${c.column} AS "${c.property}"`).join(', '),
    name: (property) => {
      const column = byProperty.get(property);
      if (!column) throw new Error(`${entity.name} has no column for ${property}`);
      return column;
    },
  };
}

/** A connection or a pool: what every query here runs on (a transaction's client, or the pool for reads). */
export interface Db {
  query<R extends object = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}
