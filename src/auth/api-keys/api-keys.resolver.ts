import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Role } from '../principal';
import { RequireRole } from '../roles.decorator';
import { ApiKeysService } from './api-keys.service';
import { toApiKey } from './models/api-key.mapper';
import { ApiKey } from './models/api-key.model';
import { CreatedApiKey } from './models/created-api-key.model';

@Resolver(() => ApiKey)
@RequireRole(Role.ADMIN)
export class ApiKeysResolver {
  constructor(private readonly service: ApiKeysService) {}

  @Query(() => [ApiKey], { description: 'Every API key, revoked ones included, oldest first.' })
  async apiKeys(): Promise<ApiKey[]> {
    return (await this.service.list()).map(toApiKey);
  }

  @Mutation(() => CreatedApiKey, {
    description: 'A new API key. The key is in the answer, once: only its hash is stored.',
  })
  async createApiKey(
    @Args('name') name: string,
    @Args('role', { type: () => Role }) role: Role,
  ): Promise<CreatedApiKey> {
    const { key, apiKey } = await this.service.create(name, role);
    return { key, apiKey: toApiKey(apiKey) };
  }

  @Mutation(() => ApiKey, {
    description:
      'The key stops working at once: its next request is UNAUTHENTICATED and its open graphql-ws connections are closed (code 4403).',
  })
  async revokeApiKey(@Args('id', { type: () => ID }) id: string): Promise<ApiKey> {
    return toApiKey(await this.service.revoke(id));
  }
}
