import { Field, ObjectType } from 'type-graphql';

@ObjectType({ description: 'An input problem: nothing was created or changed.' })
export class UserError {
  @Field({ description: 'Machine-readable, e.g. INVALID_FEATURE_ID, RUN_ACTIVE.' }) code: string;
  @Field(() => String, { nullable: true, description: 'The input field at fault.' }) field: string | null;
  @Field() message: string;
}
