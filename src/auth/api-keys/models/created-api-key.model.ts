import { Field, ObjectType } from '@nestjs/graphql';
import { ApiKey } from './api-key.model';

@ObjectType()
export class CreatedApiKey {
  @Field({
    description: 'The key, for "Authorization: Bearer <key>". Shown this once: it is not stored.',
  })
  key!: string;

  @Field(() => ApiKey)
  apiKey!: ApiKey;
}
