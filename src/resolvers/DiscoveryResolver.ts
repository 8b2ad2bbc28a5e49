import { Arg, Authorized, Query, Resolver } from 'type-graphql';
import { GraphQLError } from 'graphql';
import { readTasks, toDiscoveryJson } from '../speckit/index.js';
import { DiscoveryPreview, type DiscoveryStatus } from '../schema/discovery.js';

const MAX_BYTES = 5 * 1024 * 1024;

@Resolver()
export class DiscoveryResolver {
  @Authorized('viewer')
  @Query(() => DiscoveryPreview, { description: 'Try a tasks.md: the phase a run would work on next, with its open tasks.' })
  async previewNextPhase(@Arg('tasksMarkdown') tasksMarkdown: string): Promise<DiscoveryPreview> {
    if (Buffer.byteLength(tasksMarkdown) > MAX_BYTES) {
      throw new GraphQLError('tasksMarkdown is larger than 5 MB.', { extensions: { code: 'BAD_USER_INPUT' } });
    }
    // In a worker thread with a time and memory budget: a viewer's Markdown never holds up the process.
    const json = toDiscoveryJson(await readTasks(tasksMarkdown, 'tasks.md'));
    return { ...json, status: json.status as DiscoveryStatus };
  }
}
