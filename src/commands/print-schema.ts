import { printSchema } from 'graphql';
import { buildAppSchema } from '../schema/build.js';

export default async function printSchemaCommand(): Promise<number> {
  process.stdout.write(printSchema(await buildAppSchema()) + '\n');
  return 0;
}
