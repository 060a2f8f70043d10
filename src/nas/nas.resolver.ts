import { Query, Resolver } from '@nestjs/graphql';
import { Nas } from './models/nas.model';
import { NasService } from './nas.service';

@Resolver(() => Nas)
export class NasResolver {
  constructor(private readonly service: NasService) {}

  @Query(() => [Nas], { description: "Every NAS router of FreeRADIUS's nas table, by name." })
  nasDevices(): Promise<Nas[]> {
    return this.service.list();
  }
}
