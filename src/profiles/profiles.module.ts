import { Module } from '@nestjs/common';
import { MoneyModule } from '../common/money/money.module';
import { NasControlModule } from '../nas/control/nas-control.module';
import { ProfilesResolver } from './profiles.resolver';
import { ProfilesService } from './profiles.service';

@Module({
  imports: [NasControlModule, MoneyModule],
  providers: [ProfilesService, ProfilesResolver],
  exports: [ProfilesService],
})
export class ProfilesModule {}
