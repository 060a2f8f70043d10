import { Global, Module } from '@nestjs/common';
import { JobLeases } from './job-leases.service';

/** Leases for periodic jobs that must run on one instance at a time (one holder per instance). */
@Global()
@Module({ providers: [JobLeases], exports: [JobLeases] })
export class JobsModule {}
