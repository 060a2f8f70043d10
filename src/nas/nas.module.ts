import { Module } from '@nestjs/common';
import { NasResolver } from './nas.resolver';
import { NasService } from './nas.service';

@Module({
  providers: [NasService, NasResolver],
  exports: [NasService],
})
export class NasModule {}
