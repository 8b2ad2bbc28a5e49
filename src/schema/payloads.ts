import { Field, ObjectType } from 'type-graphql';
import { UserErrorCode } from './enums.js';

@ObjectType({ description: 'An input problem: nothing was created or changed.' })
export class UserError {
  @Field(() => UserErrorCode) code: UserErrorCode;
  @Field(() => String, { nullable: true, description: 'The input field at fault.' }) field: string | null;
  @Field() message: string;
}
