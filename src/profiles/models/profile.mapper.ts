import type { ProfileEntity } from '../profile.entity';
import { groupNameProblem, rateLimit } from '../profile-rules';
import { Profile } from './profile.model';

export function toProfile(e: ProfileEntity): Profile {
  return {
    id: String(e.id),
    name: e.name,
    groupNameProblem: groupNameProblem(e.name),
    downloadRateKbps: e.downloadRateKbps,
    uploadRateKbps: e.uploadRateKbps,
    dataLimitBytes: e.dataLimitBytes,
    validityDays: e.validityDays,
    interimIntervalSeconds: e.interimIntervalSeconds,
    rateLimit: rateLimit(e.uploadRateKbps, e.downloadRateKbps),
    priceMinor: String(e.priceMinor),
    fupUploadRateKbps: e.fupUploadRateKbps,
    fupDownloadRateKbps: e.fupDownloadRateKbps,
    fupRateLimit:
      e.fupUploadRateKbps && e.fupDownloadRateKbps
        ? rateLimit(e.fupUploadRateKbps, e.fupDownloadRateKbps)
        : null,
  };
}
