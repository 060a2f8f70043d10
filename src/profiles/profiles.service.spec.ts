import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ProfileDirectoryService } from './profile-directory.service';
import { ProfilesService } from './profiles.service';

describe('ProfilesService at startup', () => {
  afterEach(() => jest.restoreAllMocks());

  it('warns of each profile whose group FreeRADIUS cannot match, and of no other', async () => {
    const profiles = [
      { id: 1, name: 'Home 10M' },
      { id: 2, name: 'Home 10M+' },
      { id: 3, name: 'Family (20M)' },
    ];
    const dataSource = {
      getRepository: () => ({ find: () => Promise.resolve(profiles) }),
    } as unknown as DataSource;
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    // Startup reads the profiles only: the other collaborators are not used.
    const unused = null as never;
    const directory = new ProfileDirectoryService(dataSource);
    const service = new ProfilesService(unused, unused, unused, unused, directory);
    await service.onApplicationBootstrap();
    expect(warn.mock.calls.map(([m]) => String(m))).toEqual([
      expect.stringMatching(/^Profile 2 "Home 10M\+": FreeRADIUS cannot match .*"\+".*Rename/),
      expect.stringMatching(/^Profile 3 "Family \(20M\)": FreeRADIUS cannot match .*"\("/),
    ]);
  });
});
