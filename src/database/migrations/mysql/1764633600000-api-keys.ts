import { MigrationInterface, QueryRunner } from 'typeorm';

/** API keys: only each key's SHA-256 is stored, with a display prefix, a role and its times. */
export class ApiKeys1764633600000 implements MigrationInterface {
  name = 'ApiKeys1764633600000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      'CREATE TABLE `rg_api_keys` (`id` int NOT NULL AUTO_INCREMENT, `name` varchar(64) NOT NULL, `role` varchar(16) NOT NULL, `key_hash` char(64) NOT NULL, `prefix` varchar(16) NOT NULL, `created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), `last_used_at` datetime NULL, `revoked_at` datetime NULL, UNIQUE INDEX `UQ_rg_api_keys_key_hash` (`key_hash`), UNIQUE INDEX `UQ_rg_api_keys_name` (`name`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE `rg_api_keys`');
  }
}
