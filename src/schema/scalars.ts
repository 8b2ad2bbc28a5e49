import { GraphQLJSONObject } from 'graphql-scalars';

/** Free-form structured payloads (step messages, event payloads). */
export const JSONObject = GraphQLJSONObject;
