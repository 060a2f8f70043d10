import { Injectable } from '@nestjs/common';
import { BadUserInputError } from '../common/errors/app-error';
import { intervalIterator } from './heartbeat';

@Injectable()
export class SystemService {
  heartbeat(intervalSeconds: number): AsyncIterableIterator<{ heartbeat: Date }> {
    if (!Number.isInteger(intervalSeconds) || intervalSeconds < 1 || intervalSeconds > 3600) {
      throw new BadUserInputError('intervalSeconds', 'intervalSeconds must be between 1 and 3600');
    }
    return intervalIterator(intervalSeconds * 1000, () => ({ heartbeat: new Date() }));
  }
}
