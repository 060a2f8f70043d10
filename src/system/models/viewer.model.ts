import { Field, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Role } from '../../auth/principal';

registerEnumType(Role, { name: 'Role', description: 'What a caller may do, lowest first.' });

@ObjectType({ description: 'The caller of this operation, as the server authenticated it.' })
export class Viewer {
  @Field({ description: 'The name of the token or API key (never the secret).' })
  name!: string;

  @Field(() => Role)
  role!: Role;
}
